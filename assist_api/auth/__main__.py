"""`python -m assist_api.auth`: manage API keys (how an admin gets the first credential)."""

from __future__ import annotations

from typing import Annotated

import typer

from assist_api.auth.keys import KeyStore, Role
from config.settings import get_settings
from db.engine import session_factory
from db.migrate import upgrade

app = typer.Typer(help="Manage API keys.", no_args_is_help=True, add_completion=False)


def _keys() -> KeyStore:
    url = get_settings().database_url
    upgrade(url)
    return KeyStore(session_factory(url))


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who the key is for.")],
    role: Annotated[Role, typer.Option("--role")] = Role.agent,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    print(_keys().create(name, role))


@app.command("revoke")
def revoke(name: Annotated[str, typer.Option("--name")]) -> None:
    """Revoke every active key of NAME."""
    print(f"revoked {_keys().revoke(name)} key(s)")


if __name__ == "__main__":
    app()
