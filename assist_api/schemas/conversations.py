"""A conversation's messages and the customer's satisfaction score."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    """One stored message (PII masked)."""

    id: int
    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    buttons: list[ButtonOut] | None = None
    created_at: str = Field(examples=["2026-11-24T08:03:00+00:00"])


class AgentMessageOut(BaseModel):
    id: int
    conversation_id: str
    sender: Literal["agent"]
    text: str


class CsatOut(BaseModel):
    conversation_id: str
    score: int = Field(ge=1, le=5)
    handoff_id: int | None = Field(description="The handoff the score rates.")
