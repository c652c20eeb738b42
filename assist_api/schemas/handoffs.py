"""Escalation records as the agents' API and the action server's internal API return them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assist_api.schemas.feedback import LabelCorrectionOut

HandoffStatus = Literal["queued", "assigned", "in_progress", "resolved", "closed"]


class SlaOut(BaseModel):
    first_response_due: str
    resolution_due: str
    first_response_at: str | None
    first_response_breached: bool
    resolution_breached: bool
    state: Literal["ok", "at_risk", "breached"] = Field(description="Of the deadline that applies now.")
    at_risk_from: str | None = Field(description="When the deadline that applies now turns at risk.")


class WaitingOut(BaseModel):
    """What the waiting customer was told (holding replies, soothing, 留言)."""

    last_holding_reply_at: str | None
    soothed_at: str | None
    message_left_at: str | None


class HandoffOut(BaseModel):
    """One escalation record."""

    id: int
    conversation_id: str
    channel: str
    customer_id: str
    customer_profile: dict[str, Any] | None = Field(description="What the site knew (PII-masked).")
    created_at: str
    reason: str
    summary: dict[str, Any] = Field(description="The escalation summary: the open issue, what the bot tried, keywords.")
    classification: dict[str, Any] = Field(description="Category, priority, emotion… as agent assist classified them.")
    priority: Literal["urgent", "high", "normal"]
    sla: SlaOut
    transcript: list[dict[str, Any]] = Field(description="The conversation up to the handoff (masked).")
    owner: str | None
    status: HandoffStatus
    updated_at: str
    waiting: WaitingOut


class HandoffEventOut(BaseModel):
    """One audited status change."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from")
    to: str
    actor: str | None
    at: str
    note: str | None


class HandoffRecordOut(HandoffOut):
    """The record with its audited status events (the console's detail view) and the
    corrections agents made to its classification."""

    events: list[HandoffEventOut]
    corrections: list[LabelCorrectionOut] = Field(
        default_factory=list, description="Label corrections, oldest first (also audited in events).")


class HandoffCreatedOut(BaseModel):
    handoff_id: int
    created: bool = Field(description="False when a retry found the record already there.")
    status: HandoffStatus
    priority: Literal["urgent", "high", "normal"]
    queue_position: int | None
    in_business_hours: bool
    first_response_due: str
    message: str = Field(description="What to tell the customer.")


class HandoffStatusOut(BaseModel):
    handoff_id: int
    status: HandoffStatus
    queue_position: int | None
    first_response_due: str
