"""`python -m actions.server`: rasa-sdk's action server plus /metrics and structured logs.

The same Sanic app as `python -m rasa_sdk --actions actions` (rasa_sdk.endpoint.create_app),
with: JSON log lines carrying the request id the gateway put in the message metadata and the
conversation id (Rasa's sender id); that request id sent on to the gateway's internal API
(X-Request-ID, see actions/gateway_client.py); Prometheus counters and latency histograms of
HTTP requests and of each custom action at GET /metrics.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from functools import partial

from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.worker.loader import AppLoader

from common.observability import metrics
from common.observability.context import CONVERSATION_ID, HEADER, METADATA_KEY, REQUEST_ID, accept_or_new
from common.observability.logs import configure_logging
from config.settings import get_settings

log = logging.getLogger("actions.access")


def _call_of(request) -> dict:
    try:
        return json.loads(request.body or b"{}") if request.path == "/webhook" else {}
    except ValueError:
        return {}


def instrument(app: Sanic) -> Sanic:
    @app.on_request
    async def start(request):
        call = _call_of(request)
        metadata = ((call.get("tracker") or {}).get("latest_message") or {}).get("metadata") or {}
        request.ctx.started = time.perf_counter()
        request.ctx.action = call.get("next_action")
        request.ctx.tokens = (REQUEST_ID.set(accept_or_new(metadata.get(METADATA_KEY) or request.headers.get(HEADER))),
                              CONVERSATION_ID.set(call.get("sender_id")))

    @app.on_response
    async def finish(request, resp):
        elapsed = time.perf_counter() - getattr(request.ctx, "started", time.perf_counter())
        route = request.path if request.path in ("/webhook", "/health", "/actions", "/metrics") else "other"
        metrics.HTTP_REQUESTS.labels("actions", request.method, route, str(resp.status)).inc()
        metrics.HTTP_LATENCY.labels("actions", request.method, route).observe(elapsed)
        action = getattr(request.ctx, "action", None)
        if action:
            metrics.ACTIONS.labels(action, "ok" if resp.status < 400 else "error").inc()
            metrics.ACTION_LATENCY.labels(action).observe(elapsed)
            log.info("action %s %s %.1f ms", action, resp.status, elapsed * 1000,
                     extra={"action": action, "status": resp.status, "duration_ms": round(elapsed * 1000, 2)})
        resp.headers[HEADER] = REQUEST_ID.get() or ""
        # no tokens when the request failed before they were set
        for var, token in zip((REQUEST_ID, CONVERSATION_ID), getattr(request.ctx, "tokens", ()), strict=False):
            var.reset(token)

    @app.get("/metrics")
    async def prometheus(_request):
        body, content_type = metrics.exposition()
        return response.raw(body, content_type=content_type)

    @app.get("/health/index")
    async def index_health(_request):
        """Which KB revision this replica's search index holds (replicas follow a publish)."""
        from actions import context

        live = context.search()
        return response.json({"kb_revision": live.store.revision(), "index_revision": live.get().revision})

    @app.after_server_start
    async def follow_publishes(_app, _loop=None):
        # An idle replica's index follows a publish too, before its next customer asks.
        from actions import context

        context.search().start_background_refresh()

    return app


def create_app(actions_package: str = "actions") -> Sanic:
    from rasa_sdk.endpoint import create_app as sdk_app

    executor = ActionExecutor()
    executor.register_package(actions_package)
    return instrument(sdk_app(executor))


def main() -> None:
    parser = argparse.ArgumentParser(description="星联 action server (rasa-sdk) with /metrics and JSON logs.")
    parser.add_argument("--actions", default="actions")
    parser.add_argument("--port", type=int, default=get_settings().action_server_port)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    configure_logging("actions", get_settings().log_format)
    app = AppLoader(factory=partial(create_app, args.actions)).load()
    app.run(host=args.host, port=args.port, workers=1, legacy=True, access_log=False)


if __name__ == "__main__":
    main()
