"""Liveness/readiness: the database answers and a search index is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> dict:
    """Liveness and readiness: the database answers and a search index is loaded."""
    engine = request.app.state.search.get()
    return {
        "status": "ok",
        "kb_revision": request.app.state.store.revision(),
        "index_revision": engine.revision,
        "published_entries": len(engine.entries),
    }
