"""Conversation bookkeeping: find or start a customer's conversation, store masked messages."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from common.bot_protocol import BotDecision
from common.observability import metrics
from db.base import table_of, utcnow
from gateway.conversations.models import AnswerFeedback, Conversation, ConversationState, Message
from gateway.conversations.pii import mask_pii
from gateway.conversations.turns import record_turn


class ConversationNotFound(LookupError):
    pass


# Two messages of one customer arriving together (a double click on the very first message)
# must not both find "no conversation" and open two, each of which could then escalate: the
# look-up-or-create is serialised per customer, across threads by these locks and across
# gateway replicas by a PostgreSQL advisory lock held until the transaction commits.
_CUSTOMER_LOCKS = [threading.Lock() for _ in range(64)]


def _customer_key(channel: str, customer_id: str) -> int:
    digest = hashlib.blake2b(f"{channel}:{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_CONVERSATIONS = table_of(Conversation)
_MESSAGES = table_of(Message)
_INSERT_MESSAGE = insert(_MESSAGES)
_INSERT_MESSAGE_IDS = _INSERT_MESSAGE.returning(_MESSAGES.c.id, sort_by_parameter_order=True)
# Built once: the per-turn statements (building one costs about as much as running it).
_LATEST = (select(Conversation)
           .where(Conversation.channel == bindparam("channel"), Conversation.customer_id == bindparam("customer_id"))
           .order_by(Conversation.created_at.desc())
           .limit(1))
# Every stored message moves its conversation's updated_at (see recovery.py).
_TOUCH = (update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
          .values(updated_at=bindparam("at")))


def _message_row(conversation_id: str, sender: str, text: str, buttons: list[dict[str, str]] | None,
                 at: datetime) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "sender": sender, "text": mask_pii(text),
            "buttons": buttons, "agent_id": None, "created_at": at}


def _lock_customer(session: Session, channel: str, customer_id: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _customer_key(channel, customer_id)})


@dataclass
class StoredMessage:
    id: int
    sender: str
    text: str
    buttons: list[dict[str, str]] | None
    created_at: str

    @classmethod
    def of(cls, m: Message) -> StoredMessage:
        return cls(m.id, m.sender, m.text, m.buttons, m.created_at.isoformat())


class ConversationService:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        # Called for every add_message (agent and system messages) inside its transaction, so
        # a channel can record what it must deliver atomically with the message (WeChat outbox).
        self.message_hooks: list[Callable[[Session, Conversation, Message], None]] = []

    def receive(self, channel: str, customer_id: str, conversation_id: str | None, text: str,
                profile: dict[str, str] | None = None) -> Conversation:
        """Find the customer's conversation and store their message, in one transaction. A
        profile sent by the channel (name, phone, level) is kept on the conversation, masked."""
        with _CUSTOMER_LOCKS[_customer_key(channel, customer_id) % len(_CUSTOMER_LOCKS)], \
                self._sessions.begin() as session:
            _lock_customer(session, channel, customer_id)
            conv = self._resolve(session, channel, customer_id, conversation_id)
            if profile:
                conv.customer_profile = {**(conv.customer_profile or {}),
                                         **{k: mask_pii(v) for k, v in profile.items()}}
            session.flush()  # a new conversation's row before its first message
            now = utcnow()
            # Plain statements, not the ORM's unit of work: this runs on every customer turn
            # and the flush machinery cost more CPU than the SQL itself.
            conn = session.connection()
            conn.execute(_INSERT_MESSAGE, [_message_row(conv.id, "customer", text, None, now)])
            conn.execute(_TOUCH, {"conversation_id": conv.id, "at": now})
            set_committed_value(conv, "updated_at", now)
            return conv

    def reply(self, conversation_id: str, replies: list[dict[str, Any]],
              decision: BotDecision | None = None) -> str:
        """Store the bot's replies and its decision on the turn (the action server's data, for
        reports) in one transaction; returns the conversation's state now (an action may have
        handed it off meanwhile)."""
        with self._sessions.begin() as session:
            now = utcnow()
            conn = session.connection()
            last_id = None
            if replies:
                rows = [_message_row(conversation_id, "bot", r["text"], r.get("buttons"), now) for r in replies]
                if decision is None:
                    conn.execute(_INSERT_MESSAGE, rows)
                else:  # the decision links to the turn's last message
                    last_id = conn.execute(_INSERT_MESSAGE_IDS, rows).scalars().all()[-1]
            record_turn(session, conversation_id, decision, last_id, now)
            # Moving updated_at tells the unanswered-message sweep (recovery.py) it was answered;
            # the same statement reads the state fresh, so no separate look-up.
            state: str | None = conn.execute(_TOUCH.returning(_CONVERSATIONS.c.state),
                                 {"conversation_id": conversation_id, "at": now}).scalar_one_or_none()
            if state is None:
                raise ConversationNotFound(conversation_id)
            return state

    def resolve(self, channel: str, customer_id: str, conversation_id: str | None) -> Conversation:
        with self._sessions.begin() as session:
            return self._resolve(session, channel, customer_id, conversation_id)

    def _resolve(self, session: Session, channel: str, customer_id: str,
                 conversation_id: str | None) -> Conversation:
        """The conversation a customer message belongs to. A given id must be this customer's;
        a closed conversation (or none) means a fresh one with the bot."""
        latest = session.scalars(_LATEST, {"channel": channel, "customer_id": customer_id}).first()
        conv = latest
        if conversation_id:
            conv = session.get(Conversation, conversation_id)
            if conv is None or conv.customer_id != customer_id or conv.channel != channel:
                # Same answer for "not yours" and "does not exist": ids leak nothing.
                raise ConversationNotFound(conversation_id)
            if conv.state == ConversationState.closed:
                # A client still holding a closed conversation's id continues in the
                # customer's current conversation instead of opening one per message.
                conv = latest
        if conv is None or conv.state == ConversationState.closed:
            conv = Conversation(
                id=uuid.uuid4().hex, channel=channel, customer_id=customer_id,
                state=ConversationState.bot.value, customer_profile={},
                created_at=utcnow(), updated_at=utcnow(),
            )
            session.add(conv)
        return conv

    def get(self, conversation_id: str) -> Conversation:
        with self._sessions() as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFound(conversation_id)
            return conv

    def add_message(
        self, conversation_id: str, sender: str, text: str,
        buttons: list[dict[str, str]] | None = None, agent_id: str | None = None,
    ) -> Message:
        with self._sessions.begin() as session:
            return self.add_message_in(session, conversation_id, sender, text, buttons, agent_id)

    def add_message_in(
        self, session: Session, conversation_id: str, sender: str, text: str,
        buttons: list[dict[str, str]] | None = None, agent_id: str | None = None,
    ) -> Message:
        """`add_message` inside the caller's transaction (with whatever else it decides)."""
        msg = Message(conversation_id=conversation_id, sender=sender, text=mask_pii(text),
                      buttons=buttons, agent_id=agent_id)
        session.add(msg)
        conv = session.get(Conversation, conversation_id)
        if conv is None:
            raise ConversationNotFound(conversation_id)
        conv.updated_at = utcnow()
        session.flush()
        for hook in self.message_hooks:
            hook(session, conv, msg)
        return msg

    def set_state(self, session: Session, conversation_id: str, state: ConversationState) -> None:
        conv = session.get(Conversation, conversation_id)
        if conv is None:
            raise ConversationNotFound(conversation_id)
        conv.state = state.value
        conv.updated_at = utcnow()
        conv.closed_at = utcnow() if state == ConversationState.closed else None

    def messages(self, conversation_id: str, after_id: int = 0) -> list[StoredMessage]:
        with self._sessions() as session:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id > after_id)
                .order_by(Message.id)
            )
            return [StoredMessage.of(m) for m in rows]

    def record_feedback(self, conversation_id: str, entry_id: str, helpful: bool) -> None:
        with self._sessions.begin() as session:
            if session.get(Conversation, conversation_id) is None:
                raise ConversationNotFound(conversation_id)
            session.add(AnswerFeedback(conversation_id=conversation_id, entry_id=entry_id, helpful=helpful))
        metrics.FEEDBACK.labels("true" if helpful else "false").inc()

    def transcript(self, session: Session, conversation_id: str) -> list[dict[str, Any]]:
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return [{"sender": m.sender, "text": m.text, "at": m.created_at.isoformat()} for m in rows]
