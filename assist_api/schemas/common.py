"""Small replies shared by several areas."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    """Liveness and readiness."""

    status: str = Field(examples=["ok"])
    kb_revision: int = Field(description="The KB store's latest change.")
    index_revision: int | None = Field(description="The change the loaded search index was built from.")
    published_entries: int


class Stored(BaseModel):
    """An acknowledgement with nothing else to say."""

    ok: bool = Field(examples=[True])
