"""Customer satisfaction (CSAT, 1–5) asked in the chat after an agent's conversation closes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from db.base import Base, UTCDateTime, utcnow
from gateway.conversations.models import Conversation, ConversationState
from gateway.handoffs.models import Handoff


class CsatRating(Base):
    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One rating per conversation.
    conversation_id: Mapped[str] = mapped_column(String(32), ForeignKey("conversations.id"), unique=True)
    handoff_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("handoffs.id"), nullable=True, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CsatRefused(Exception):
    """Not rateable now (still open, or rated already); the message is for the customer's client."""


class CsatService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def rate(self, conversation_id: str, score: int) -> CsatRating:
        if not 1 <= score <= 5:
            raise ValueError("score must be 1 to 5")
        try:
            with self._sessions.begin() as session:
                conv = session.get(Conversation, conversation_id)
                if conv is None or conv.state != ConversationState.closed.value:
                    raise CsatRefused("the conversation is still open")
                handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation_id)).first()
                if handoff is None:
                    raise CsatRefused("only conversations served by an agent are rated")
                rating = CsatRating(conversation_id=conversation_id, handoff_id=handoff.id,
                                    agent_id=handoff.owner, score=score, created_at=utcnow())
                session.add(rating)
                session.flush()
                return rating
        except IntegrityError:
            raise CsatRefused("this conversation has been rated already") from None
