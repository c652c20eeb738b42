"""Liveness/readiness: the database answers and a search index is loaded."""

from __future__ import annotations

from fastapi import APIRouter

from assist_api.deps import SearchEngineDep, StoreDep
from assist_api.schemas.common import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(engine: SearchEngineDep, store: StoreDep) -> Health:
    """Liveness and readiness: the database answers and a search index is loaded."""
    return Health(status="ok", kb_revision=store.revision(), index_revision=engine.revision,
                  published_entries=len(engine.entries))
