"""The KB editor's API: drafts, review and publishing, version history with diffs, restore,
trial searches (a draft counted as published) and the unanswered-questions list. Editor role."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar, get_args

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from assist_api.deps import CurrentEditor, LiveSearchDep, SessionsDep, SettingsDep, StoreDep
from assist_api.editor.history import history
from assist_api.editor.trial import DraftEntry, trial_json, trial_search
from assist_api.editor.unanswered import KINDS, unanswered_questions
from assist_api.schemas.kb import EntryRecordOut, EntrySummaryOut, EntryVersionOut, TrialOut, UnansweredQuestionOut
from kb.schema import ID_PATTERN, EntryContent, to_record
from kb.search.engine import QueryError
from kb.store import (
    EntryExists,
    EntryNotFound,
    KBStore,
    NotEditable,
    StoreError,
    VersionConflict,
    VersionNotFound,
)
from kb.workflow import InvalidTransition

router = APIRouter(prefix="/api/editor", tags=["KB editor"])

StatusName = Literal["draft", "review", "published", "archived"]
KindName = Literal["clarify", "no_answer", "unhelpful", "handoff"]  # the kinds editor.unanswered counts
if set(get_args(KindName)) != set(KINDS):
    raise ImportError(f"KindName must list assist_api.editor.unanswered.KINDS: {KINDS}")
ENTRY_EXAMPLE: dict[str, Any] = {
    "question": "星联卡在南极科考站能用吗？",
    "similar_questions": ["去南极手机有信号吗", "南极能不能打电话"],
    "answer": "南极科考站暂未开通星联漫游服务，可使用站内卫星电话。",
    "category": "roaming",
    "tags": ["漫游"],
}


class EntryContentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ENTRY_EXAMPLE]})

    question: str = Field(min_length=1, max_length=300)
    similar_questions: list[str] = Field(default_factory=list, max_length=200)
    answer: str = Field(min_length=1, max_length=10000)
    category: str
    tags: list[str] = Field(default_factory=list, max_length=50)
    channels: dict[str, str] = Field(default_factory=dict)
    owner: str | None = None
    review_due: date | None = None


class NewEntry(EntryContentIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "roaming-901", **ENTRY_EXAMPLE}]})

    id: str | None = Field(default=None, pattern=ID_PATTERN,
                           description="Left out: the next free `<category>-<number>`.")


class EntryUpdate(EntryContentIn):
    model_config = ConfigDict(json_schema_extra={"examples": [{**ENTRY_EXAMPLE, "expected_version": 3}]})

    expected_version: int | None = Field(
        default=None, ge=1, description="The version the editor started from; 409 if it changed meanwhile.")


class Transition(BaseModel):
    to: StatusName = Field(examples=["review"])


class Restore(BaseModel):
    version: int = Field(ge=1, examples=[2])


class TrialRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"query": "去南极还能打电话吗", "top_k": 5},
        {"query": "去南极还能打电话吗", "draft_id": "roaming-901"},
    ]})

    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(default=5, ge=1, le=20)
    draft_id: str | None = Field(default=None, description="Count this stored entry (any status) as published.")
    draft: NewEntry | None = Field(default=None, description="Or count this unsaved content as published.")


def _content(body: EntryContentIn) -> dict[str, Any]:
    return body.model_dump(include=set(EntryContent.model_fields))


def _refusal(exc: Exception) -> HTTPException:
    if isinstance(exc, (EntryNotFound, VersionNotFound)):
        return HTTPException(404, str(exc))
    if isinstance(exc, (EntryExists, VersionConflict, NotEditable, InvalidTransition)):
        return HTTPException(409, str(exc))
    if isinstance(exc, ValidationError):
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
        return HTTPException(422, reasons)
    return HTTPException(422, str(exc))


T = TypeVar("T")


def _store_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except (StoreError, InvalidTransition, ValidationError) as exc:
        raise _refusal(exc) from None


def _next_id(store: KBStore, category: str) -> str:
    pattern = re.compile(rf"^{re.escape(category)}-(\d+)$")
    numbers = [int(m.group(1)) for e in store.list_entries() if (m := pattern.match(e.id))]
    return f"{category}-{max(numbers, default=0) + 1:03d}"


def _summary(e: Any) -> dict[str, Any]:
    return {"id": e.id, "question": e.question, "category": e.category, "status": e.status,
            "version": e.version, "similar_count": len(e.similar_questions or []),
            "tags": list(e.tags or []), "owner": e.owner, "updated_at": e.updated_at.isoformat()}


@router.get("/entries", response_model=list[EntrySummaryOut])
def list_entries(
    store: StoreDep,
    editor: CurrentEditor,
    status: StatusName | None = None,
    category: str | None = None,
    q: Annotated[str | None, Query(
        max_length=200, description="Text in the question, a similar question, the answer or the id.")] = None,
) -> list[dict[str, Any]]:
    """Every entry whatever its status (filter by status, category, text), newest change first."""
    entries = store.list_entries(status=status, category=category)
    if q and q.strip():
        needle = q.strip().lower()
        entries = [e for e in entries if needle in " ".join(
            [e.id, e.question, e.answer, *(e.similar_questions or [])]).lower()]
    entries.sort(key=lambda e: e.updated_at, reverse=True)
    return [_summary(e) for e in entries]


@router.get("/entries/{entry_id}", response_model=EntryRecordOut)
def get_entry(entry_id: str, store: StoreDep, editor: CurrentEditor) -> dict[str, Any]:
    """One entry in the interchange format, whatever its status."""
    return to_record(_store_call(store.get, entry_id))


@router.post("/entries", status_code=201, response_model=EntryRecordOut)
def create_entry(body: NewEntry, store: StoreDep, editor: CurrentEditor) -> dict[str, Any]:
    """Create a draft (not searchable until published); audited with the editor's name."""
    entry_id = body.id or _next_id(store, body.category)
    return to_record(_store_call(store.create, entry_id, _content(body), actor=editor.name))


@router.put("/entries/{entry_id}", response_model=EntryRecordOut)
def update_entry(entry_id: str, body: EntryUpdate, store: StoreDep, editor: CurrentEditor) -> dict[str, Any]:
    """Replace an entry's content (a new version). Published entries are edited live; archived
    ones must go back to draft first."""
    return to_record(_store_call(store.update, entry_id, _content(body), actor=editor.name,
                                 expected_version=body.expected_version))


@router.post("/entries/{entry_id}/transition", response_model=EntryRecordOut)
def transition_entry(entry_id: str, body: Transition, store: StoreDep, editor: CurrentEditor) -> dict[str, Any]:
    """Move an entry through the workflow: draft → review → published → archived (review may go
    back to draft; archived comes back only as a draft)."""
    return to_record(_store_call(store.transition, entry_id, body.to, actor=editor.name))


# exclude_unset: a change carries `added`/`removed` or `lines` only when they apply.
@router.get("/entries/{entry_id}/history", response_model=list[EntryVersionOut], response_model_exclude_unset=True)
def entry_history(entry_id: str, store: StoreDep, editor: CurrentEditor) -> list[dict[str, Any]]:
    """Every version, newest first, with who, when, the action and a field-by-field diff against
    the version before."""
    return history(_store_call(store.versions, entry_id))


@router.post("/entries/{entry_id}/restore", response_model=EntryRecordOut)
def restore_entry(entry_id: str, body: Restore, store: StoreDep, editor: CurrentEditor) -> dict[str, Any]:
    """Bring back an old version's content as a new version (the status stays)."""
    return to_record(_store_call(store.restore, entry_id, body.version, actor=editor.name))


@router.post("/test", response_model=TrialOut)
async def test_question(body: TrialRequest, store: StoreDep, search: LiveSearchDep,
                        editor: CurrentEditor) -> dict[str, Any]:
    """Try a question: ranked matches with scores and calibrated confidences and the bot's decision
    (answer / clarify / handoff), against the published KB, or with a draft (stored by `draft_id`,
    or unsaved in `draft`) counted as published."""
    draft = None
    if body.draft_id:
        e = _store_call(store.get, body.draft_id)
        draft = DraftEntry(e.id, e.question, list(e.similar_questions or []), e.answer, e.category,
                           dict(e.channels or {}), e.version)
    elif body.draft:
        content = _store_call(EntryContent.model_validate, _content(body.draft))
        draft = DraftEntry(body.draft.id or "(draft)", content.question, content.similar_questions,
                           content.answer, content.category, content.channels)
    live = search.get()
    published = await run_in_threadpool(store.published) if draft else []
    try:
        response, engine = await run_in_threadpool(trial_search, live, published, body.query, body.top_k, draft)
    except QueryError as exc:
        raise HTTPException(422, str(exc)) from None
    return trial_json(response, engine, draft.id if draft else None)


@router.get("/unanswered", response_model=list[UnansweredQuestionOut])
def unanswered(
    sessions: SessionsDep,
    settings: SettingsDep,
    editor: CurrentEditor,
    kind: Annotated[KindName | None, Query(description="Only questions that got this outcome.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Questions the bot failed on, from stored conversations: followed by a clarify or a no-answer,
    marked 没帮助, or handed off at the customer's request / after misses. Most frequent first;
    each with the kinds of failure, the latest conversation and the entries marked 没帮助."""
    return unanswered_questions(sessions, settings.unanswered_scan_messages, limit, kind)
