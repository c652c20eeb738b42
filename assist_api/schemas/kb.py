"""Knowledge-base entries, their history and trial searches as the KB and editor APIs return them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EntryStatus = Literal["draft", "review", "published", "archived"]


class EntryRecordOut(BaseModel):
    """An entry in the interchange format (the same fields as `kb import` reads)."""

    id: str = Field(examples=["broadband-006"])
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    tags: list[str]
    channels: dict[str, str] = Field(description="Per-channel answers (e.g. a shorter `wechat` one).")
    status: EntryStatus
    owner: str | None
    review_due: str | None = Field(examples=["2027-03-01"])
    version: int
    created_at: str
    updated_at: str


class EntrySummaryOut(BaseModel):
    """One line of the editor's entry list."""

    id: str
    question: str
    category: str
    status: EntryStatus
    version: int
    similar_count: int
    tags: list[str]
    owner: str | None
    updated_at: str


class FieldChange(BaseModel):
    """One changed field: old and new value, the list items added and removed, or a line diff."""

    field: str
    before: Any = None
    after: Any = None
    added: list[Any] | None = Field(default=None, description="List fields: items added.")
    removed: list[Any] | None = Field(default=None, description="List fields: items removed.")
    lines: list[str] | None = Field(default=None, description="Long text: a unified line diff.")


class EntryVersionOut(BaseModel):
    """One version of an entry, with what changed against the version before."""

    version: int
    action: str = Field(examples=["update"])
    actor: str
    at: str
    status: str | None
    changes: list[FieldChange] = Field(description="Field-by-field differences against the version before.")
    snapshot: dict[str, Any] = Field(description="The entry as stored at this version.")


class TrialHit(BaseModel):
    rank: int
    id: str
    question: str
    category: str
    score: float
    confidence: float = Field(ge=0, le=1)
    is_draft: bool = Field(description="This is the draft counted as published.")
    answer: str


class Thresholds(BaseModel):
    answer: float
    clarify: float
    margin: float


class TrialOut(BaseModel):
    """A trial search: what the bot would decide for the question."""

    query: str
    searched_as: str = Field(description="What search looked for once greetings, numbers and 急 tails were set aside.")
    decision: Literal["answer", "clarify", "handoff"]
    results: list[TrialHit]
    thresholds: Thresholds
    took_ms: float


class UnansweredQuestionOut(BaseModel):
    """A question the bot failed on, with how often and how."""

    text: str
    count: int
    kinds: dict[str, int] = Field(description="Failures by kind: clarify, no_answer, unhelpful, handoff.")
    last_at: str
    conversation_id: str = Field(description="The latest conversation that asked it.")
    entry_ids: list[str] = Field(description="Entries marked 没帮助 for it.")
