"""Escalation records and their audited status transitions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class HandoffReason(StrEnum):
    user_request = "user_request"
    no_answer = "no_answer"
    unhelpful = "unhelpful"
    emotion = "emotion"
    urgent = "urgent"
    complaint = "complaint"


class HandoffStatus(StrEnum):
    queued = "queued"
    assigned = "assigned"
    in_progress = "in_progress"
    resolved = "resolved"  # the customer confirmed
    closed = "closed"


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One record per conversation: a retried handoff action finds it instead of making two.
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))
    # {"background": the customer's own words about the open issue (handoffs/open_issue.py),
    #  "bot_tried": [{id, question, confidence}] shown for it, "bottleneck": why the bot stopped,
    #  "transcript_from": where the open issue starts in `transcript` (absent on older records)}
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"category": {"label", "confidence"}, "priority": {...}, "complexity": {...}, "emotion": {...}}
    classification: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[str] = mapped_column(String(16), index=True)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # masked
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # What the waiting customer was told (gateway/handoffs/waiting.py): the last holding
    # reply (at most one a minute), the soothing message near the deadline, and when they chose
    # to leave a message instead of waiting.
    last_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    soothed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message_left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HandoffEvent(Base):
    """Every status transition with who made it and when; append-only."""

    __tablename__ = "handoff_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(Integer, ForeignKey("handoffs.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
