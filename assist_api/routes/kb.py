"""Knowledge-base search and read-only entry access for the widget and the bot."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from assist_api.deps import SearchEngineDep, StoreDep
from assist_api.schemas.kb import EntryRecordOut, EntryStatus
from kb.schema import to_record
from kb.search.engine import QueryError
from kb.store import EntryNotFound

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=1000, examples=["宽带老是掉线怎么办"])
    top_k: int = Field(default=5, ge=1, le=50)


class SearchResult(BaseModel):
    id: str
    question: str
    score: float
    confidence: float = Field(ge=0, le=1)


class SearchReply(BaseModel):
    decision: Literal["answer", "clarify", "handoff"]
    results: list[SearchResult]
    answer: str | None = Field(None, description="The top entry's answer when the decision is answer.")
    took_ms: float


@router.post("/search", response_model=SearchReply)
def search(body: SearchRequest, engine: SearchEngineDep) -> SearchReply:
    """Search the published KB: ranked entries with scores, calibrated confidences and the bot's
    decision (answer / clarify / handoff)."""
    try:
        response = engine.search(body.query, top_k=body.top_k)
    except QueryError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    data = response.to_json()
    top = response.top
    return SearchReply(
        **data,
        answer=top.answer if top and data["decision"] == "answer" else None,
        took_ms=round(response.took_ms, 3),
    )


@router.get("/entries", response_model=list[EntryRecordOut])
def list_entries(
    store: StoreDep,
    status: Annotated[EntryStatus | None, Query()] = "published",
    category: str | None = None,
) -> list[dict[str, Any]]:
    """List KB entries (published by default), optionally by category."""
    return [to_record(e) for e in store.list_entries(status=status, category=category)]


@router.get("/entries/{entry_id}", response_model=EntryRecordOut)
def get_entry(entry_id: str, store: StoreDep) -> dict[str, Any]:
    """One published KB entry in the interchange format; 404 for unknown or unpublished ids."""
    try:
        entry = store.get(entry_id)
    except EntryNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    if entry.status != "published":
        # Drafts are for editors; the editor API (with credentials) comes with the roles work.
        raise HTTPException(status_code=404, detail=f"no published KB entry with id {entry_id!r}")
    return to_record(entry)
