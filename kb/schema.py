"""The KB entry record as it crosses the system's edges (interchange files, API, CLI).

Field names and order follow the interchange contract in DESIGN.md; `to_record` gives the
exact mapping an export writes, and `EntryRecord` validates what an import reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.settings import KB_CATEGORIES
from kb.workflow import Status

ENTRY_FIELDS = (
    "id",
    "question",
    "similar_questions",
    "answer",
    "category",
    "tags",
    "channels",
    "status",
    "owner",
    "review_due",
    "version",
    "created_at",
    "updated_at",
)
# Fields an editor changes; the rest (status, version, timestamps) belong to the store.
CONTENT_FIELDS = (
    "question",
    "similar_questions",
    "answer",
    "category",
    "tags",
    "channels",
    "owner",
    "review_due",
)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
KNOWN_CHANNELS = ("web", "wechat")


def _clean_text(value: str, what: str, max_len: int) -> str:
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character")
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must not be empty")
    if len(value) > max_len:
        raise ValueError(f"{what} is longer than {max_len} characters")
    return value


class EntryContent(BaseModel):
    """Editable content of an entry, validated."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    question: str
    similar_questions: list[str] = Field(default_factory=list)
    answer: str
    category: str
    tags: list[str] = Field(default_factory=list)
    channels: dict[str, str] = Field(default_factory=dict)
    owner: str | None = None
    review_due: date | None = None

    @field_validator("similar_questions", "tags", mode="before")
    @classmethod
    def _numbers_as_text(cls, v: object) -> object:
        # YAML reads an unquoted 10050 as a number; in these lists it is always text.
        if isinstance(v, list):
            return [str(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x for x in v]
        return v

    @field_validator("question")
    @classmethod
    def _question(cls, v: str) -> str:
        return _clean_text(v, "question", 300)

    @field_validator("answer")
    @classmethod
    def _answer(cls, v: str) -> str:
        return _clean_text(v, "answer", 10000)

    @field_validator("similar_questions")
    @classmethod
    def _similar(cls, v: list[str]) -> list[str]:
        cleaned = [_clean_text(q, "similar question", 300) for q in v]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("similar_questions contains duplicates")
        return cleaned

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return [_clean_text(t, "tag", 50) for t in v]

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in KB_CATEGORIES:
            raise ValueError(f"unknown category {v!r} (expected one of: {', '.join(KB_CATEGORIES)})")
        return v

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: dict[str, str]) -> dict[str, str]:
        for name, text in v.items():
            if name not in KNOWN_CHANNELS:
                raise ValueError(f"unknown channel {name!r} (expected: {', '.join(KNOWN_CHANNELS)})")
            _clean_text(text, f"answer variant for {name}", 10000)
        return v

    @field_validator("owner")
    @classmethod
    def _owner(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return _clean_text(v, "owner", 128)


class EntryRecord(EntryContent):
    """One record of an interchange file: content plus id and store-owned metadata."""

    id: str = Field(pattern=ID_PATTERN)
    status: Status = Status.published
    version: int | None = Field(default=None, ge=1)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @model_validator(mode="after")
    def _timestamps_aware(self) -> EntryRecord:
        for name in ("created_at", "updated_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                setattr(self, name, value.replace(tzinfo=UTC))
        return self

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_record(entry: Any) -> dict[str, Any]:
    """The interchange dict for an entry (ORM row or anything with the same attributes)."""
    return {
        "id": entry.id,
        "question": entry.question,
        "similar_questions": list(entry.similar_questions or []),
        "answer": entry.answer,
        "category": entry.category,
        "tags": list(entry.tags or []),
        "channels": dict(entry.channels or {}),
        "status": str(entry.status),
        "owner": entry.owner,
        "review_due": entry.review_due.isoformat() if entry.review_due else None,
        "version": entry.version,
        "created_at": format_timestamp(entry.created_at),
        "updated_at": format_timestamp(entry.updated_at),
    }
