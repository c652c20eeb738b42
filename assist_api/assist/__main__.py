"""`python -m assist_api.assist train`: train the ticket classifier when its data changed."""

from __future__ import annotations

import sys

from assist_api.assist.classifier import ensure_trained
from config.settings import get_settings


def main() -> int:
    path = get_settings().resolved_assist_model_file
    _, trained = ensure_trained(path)
    print(f"[assist] ticket classifier {'trained' if trained else 'up to date'}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
