"""A database that is away (PostgreSQL restarting, connection dropped) is a 503 with a Chinese
message and Retry-After, not a 500: the client knows to try again, and nothing was half-stored
(every write is one transaction)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger("gateway")

UNAVAILABLE = "服务暂时不可用，请稍后重试。"


async def _database_away(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path,
                str(exc).splitlines()[0][:200])
    return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers={"Retry-After": "2"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, _database_away)
    app.add_exception_handler(InterfaceError, _database_away)
