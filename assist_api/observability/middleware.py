"""ASGI middleware of the gateway: a request id for every request (the caller's X-Request-ID
or a new one, echoed in the response), Prometheus request counts and latency by route
template, and one structured access-log line per request."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.observability import metrics
from common.observability.context import CONVERSATION_ID, HEADER, REQUEST_ID, accept_or_new

log = logging.getLogger("access")
QUIET = ("/metrics", "/health")


class RequestObserver:
    def __init__(self, app: ASGIApp, service: str = "gateway") -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                         if k.lower() == HEADER.lower().encode()), None)
        rid = accept_or_new(incoming)
        rid_token = REQUEST_ID.set(rid)
        conv_token = CONVERSATION_ID.set(None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(HEADER.lower().encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(self.service, method, route).observe(elapsed)
            if scope.get("path") not in QUIET:
                log.info("%s %s %s %.1f ms", method, scope.get("path"), status, elapsed * 1000,
                         extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)})
            CONVERSATION_ID.reset(conv_token)
            REQUEST_ID.reset(rid_token)
