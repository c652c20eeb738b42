"""Prometheus metrics of the gateway (text exposition format)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from assist_api.observability.state_gauges import refresh
from common.observability import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def prometheus(request: Request) -> Response:
    """Prometheus scrape endpoint: HTTP request counts and latency histograms by route, bot decisions, handoffs by reason and priority, 有帮助/没帮助 marks, open handoffs and those past an SLA deadline by priority, and the KB index version."""
    await run_in_threadpool(refresh, request.app.state)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
