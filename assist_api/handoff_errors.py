"""The handoff domain's refusals as HTTP answers, in one place for every route: an unknown case
is a 404, a transition the case's status or owner does not allow a 409, a suggestion event or
label correction the service refuses a 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assist_api.assist.feedback_service import InvalidFeedback
from gateway.handoffs.service import HandoffConflict, HandoffNotFound


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"no handoff {exc.args[0] if exc.args else ''}"}, status_code=404)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HandoffNotFound, _not_found)
    app.add_exception_handler(HandoffConflict, _conflict)
    app.add_exception_handler(InvalidFeedback, _invalid)
