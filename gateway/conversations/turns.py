"""The bot's decision on each turn (answer / clarify / no_answer), stored for reports and metrics.

The action server sends the decision as data with its replies (common/bot_protocol.py); the
gateway stores it here, one row per turn, linked to the bot message it came with. Reports,
metrics, the unanswered-questions list, topic mining and the open-issue summary read it from
here, never from the reply texts. Turns without a KB decision (chit-chat, a handoff confirmation)
have no row: handoffs are their own records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.bot_protocol import BotDecision
from db.base import Base, UTCDateTime, utcnow


class BotTurn(Base):
    __tablename__ = "bot_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), ForeignKey("conversations.id"), index=True)
    # The turn's last bot message (the one the decision followed); None for demo rows and any
    # turn whose replies were empty.
    message_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("messages.id"), nullable=True, index=True)
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the answered entry
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # the search's, for the top entry
    offered: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # entries shown (clarify buttons)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def record_turn(session: Session, conversation_id: str, decision: BotDecision | None,
                message_id: int | None, at: datetime | None = None) -> str | None:
    """Store the turn's decision in the caller's transaction; returns the decision."""
    if decision is None:
        return None
    # A plain INSERT on the transaction's connection: no ORM unit of work on every bot turn.
    session.connection().execute(insert(BotTurn), [{
        "conversation_id": conversation_id, "message_id": message_id, "decision": decision.decision,
        "entry_id": decision.entry_id, "confidence": decision.confidence,
        "offered": list(decision.offered) or None, "created_at": at or utcnow()}])
    from common.observability import metrics  # late: keeps the model importable alone

    metrics.BOT_DECISIONS.labels(decision.decision).inc()
    return decision.decision


def decisions_of_messages(session: Session, message_ids: Iterable[int]) -> dict[int, str]:
    """{bot message id: the decision stored with it} for those of the messages that carry one."""
    ids = set(message_ids)
    if not ids:
        return {}
    # A range, not IN (…): the editor's list passes thousands of ids.
    rows = session.execute(select(BotTurn.message_id, BotTurn.decision)
                           .where(BotTurn.message_id.between(min(ids), max(ids))))
    return {message_id: decision for message_id, decision in rows if message_id in ids}
