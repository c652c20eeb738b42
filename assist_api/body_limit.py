"""Request-body size limit for the whole gateway (settings.max_request_body_bytes).

A declared Content-Length over the limit is refused with 413 before anything is read; a body
sent without one (chunked) is counted as it arrives and refused with 413 as soon as it passes
the limit, so no handler ever parses or stores a part of it."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "request body too large"


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send)
            return

        size = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    # FastAPI re-raises an HTTPException met while reading the body; the app's
                    # exception handling turns it into the 413 response.
                    raise HTTPException(413, DETAIL)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except HTTPException as exc:  # raised outside a route (no exception handling there)
            if exc.status_code != 413 or started:
                raise
            await _refuse(send)


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": DETAIL}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
