"""Durable deduplication of what WeChat pushes: the first request of a message claims it,
its retries find the claim (and, once there, the answer and how it was delivered)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.messages import BaseMessage

from db.base import utcnow
from gateway.channels.wechat.models import WeChatInbound
from gateway.channels.wechat.outbox import Outbox


def dedup_key(message: BaseMessage) -> str:
    """MsgId for messages; sender + CreateTime + event for events (WeChat's own advice)."""
    msg_id = getattr(message, "id", None)
    if msg_id:
        return f"msg:{msg_id}"
    event = getattr(message, "event", None) or message.type
    return f"evt:{message.source}:{message.time}:{event}"[:200]


@dataclass
class InboundState:
    status: str  # processing | answered | failed
    reply: str | None
    delivery: str | None  # passive | custom | none


class Inbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim(self, key: str, openid: str, msg_type: str) -> bool:
        """True for the first request of this message, False for a retry (or replay)."""
        try:
            with self._sessions.begin() as session:
                session.add(WeChatInbound(key=key, openid=openid, msg_type=msg_type, status="processing",
                                          created_at=utcnow(), updated_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def state(self, key: str) -> InboundState | None:
        with self._sessions() as session:
            row = session.get(WeChatInbound, key)
            return None if row is None else InboundState(row.status, row.reply, row.delivery)

    def finish(self, key: str, status: str, conversation_id: str | None, reply: str | None,
               delivery: str) -> None:
        """Record the answer and how it goes out; a "custom" answer joins the outbox in the
        same transaction."""
        with self._sessions.begin() as session:
            row = session.get_one(WeChatInbound, key)
            row.status, row.conversation_id, row.reply, row.delivery = status, conversation_id, reply, delivery
            row.updated_at = utcnow()
            if delivery == "custom" and reply:
                Outbox.enqueue(session, row.openid, reply, "bot", conversation_id)
