"""The bot's decision on each turn (answer / clarify / no_answer), stored for reports and metrics.

The gateway reads the decision off the replies the action server sent: an answer carries the
有帮助/没帮助 buttons naming its KB entry, a clarify starts with "您是不是想问", a miss with the
no-answer apology (the same markers the editor's unanswered-questions list reads). Handoffs are
not turns: they are their own records.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from assist_api.editor.unanswered import CLARIFY_PREFIX, NO_ANSWER_PREFIX
from db.base import Base, UTCDateTime, utcnow

HELPFUL_PAYLOAD = "/feedback_helpful"
DECISIONS = ("answer", "clarify", "no_answer")


class BotTurn(Base):
    __tablename__ = "bot_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), ForeignKey("conversations.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the answered entry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def decision_of(replies: list[dict[str, Any]]) -> tuple[str, str | None] | None:
    """(decision, entry id) of one bot turn, or None when it was no KB decision (chit-chat,
    a handoff confirmation, a status answer)."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            payload = button.get("payload") or ""
            if payload.startswith(HELPFUL_PAYLOAD):
                try:
                    entry_id = json.loads(payload[len(HELPFUL_PAYLOAD):]).get("entry_id")
                except (ValueError, AttributeError):
                    entry_id = None
                return "answer", entry_id
    for reply in replies:
        text = reply.get("text") or ""
        if text.startswith(CLARIFY_PREFIX):
            return "clarify", None
        if text.startswith(NO_ANSWER_PREFIX):
            return "no_answer", None
    return None


def record_turn(session: Session, conversation_id: str, replies: list[dict[str, Any]]) -> str | None:
    """Store the turn's decision in the caller's transaction; returns the decision."""
    found = decision_of(replies)
    if found is None:
        return None
    decision, entry_id = found
    # A plain INSERT on the transaction's connection: no ORM unit of work on every bot turn.
    session.connection().execute(insert(BotTurn.__table__), [{
        "conversation_id": conversation_id, "decision": decision, "entry_id": entry_id, "created_at": utcnow()}])
    from common.observability import metrics  # late: keeps the model importable alone

    metrics.BOT_DECISIONS.labels(decision).inc()
    return decision
