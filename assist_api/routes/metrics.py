"""Prometheus metrics of the gateway (text exposition format)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from assist_api.deps import LiveSearchDep, SessionsDep
from assist_api.observability.state_gauges import refresh
from common.observability import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text exposition format.",
          "content": {"text/plain": {"example": "cs_handoffs_open{status=\"queued\"} 3.0\n"}}}})
async def prometheus(sessions: SessionsDep, search: LiveSearchDep) -> Response:
    """Prometheus scrape endpoint: HTTP request counts and latency histograms by route, bot
    decisions, handoffs by reason and priority, 有帮助/没帮助 marks, open handoffs and those past an
    SLA deadline by priority, and the KB index version."""
    await run_in_threadpool(refresh, sessions, search)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
