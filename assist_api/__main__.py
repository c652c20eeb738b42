"""`python -m assist_api`: serve the API with uvicorn on the configured host and port."""

import uvicorn

from assist_api.app import create_app
from config.settings import get_settings


def main() -> None:
    settings = get_settings()
    # Access lines come from the app itself (JSON, with request ids): assist_api/observability.
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, access_log=False,
                timeout_keep_alive=settings.api_keep_alive_s)


if __name__ == "__main__":
    main()
