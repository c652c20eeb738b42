"""Tables of the WeChat channel: inbound messages (deduplication and the answer given), nonces
seen (replay protection) and the outbox of customer-service API messages (delivery state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class WeChatInbound(Base):
    """One row per message WeChat pushed, keyed by MsgId (events: sender + CreateTime + event),
    so WeChat's retries of the same message never make a second bot turn."""

    __tablename__ = "wechat_inbound"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    openid: Mapped[str] = mapped_column(String(128))
    msg_type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # processing | answered | failed
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # the rendered answer
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)  # passive | custom | none
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeChatNonce(Base):
    """A nonce WeChat signed a request with, bound to that request's body: the same nonce with
    another body inside the replay window is refused."""

    __tablename__ = "wechat_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp: Mapped[int] = mapped_column(Integer)
    body_hash: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WeChatOutbound(Base):
    """A text to send through the customer-service message API, with its delivery state."""

    __tablename__ = "wechat_outbox"
    __table_args__ = (Index("ix_wechat_outbox_status", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # messages.id, if any
    source: Mapped[str] = mapped_column(String(16))  # bot | agent | system
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
