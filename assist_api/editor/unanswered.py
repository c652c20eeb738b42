"""Questions the bot failed on, read from stored conversations: the customer's question before
a bot turn whose stored decision is clarify or no_answer (the action server's data, see
gateway/conversations/turns.py), a 没帮助 click, or a handoff the KB could have prevented (the
customer asked for a human, two misses, two 没帮助)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.bot_protocol import CLARIFY, NO_ANSWER, UNHELPFUL_PAYLOAD, entry_of, intent_of
from gateway.conversations.models import Message
from gateway.conversations.turns import decisions_of_messages
from gateway.handoffs.models import Handoff
from gateway.handoffs.replies import CONFIRM_PAYLOAD, DISPUTE_PAYLOAD, HUMAN_REQUEST_TEXTS

# Handoffs the knowledge base might have prevented (not urgent faults, complaints or anger).
KB_HANDOFF_REASONS = ("user_request", "no_answer", "unhelpful")
KINDS = ("clarify", "no_answer", "unhelpful", "handoff")


@dataclass
class Unanswered:
    text: str
    kinds: dict[str, int] = field(default_factory=dict)
    count: int = 0
    last_at: str = ""
    conversation_id: str = ""
    entry_ids: list[str] = field(default_factory=list)  # entries marked 没帮助 for it

    def add(self, kind: str, at: str, conversation_id: str, entry_id: str | None) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.count += 1
        if at >= self.last_at:
            self.last_at, self.conversation_id = at, conversation_id
        if entry_id and entry_id not in self.entry_ids:
            self.entry_ids.append(entry_id)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "count": self.count, "kinds": self.kinds, "last_at": self.last_at,
                "conversation_id": self.conversation_id, "entry_ids": self.entry_ids}


def _is_question(text: str) -> bool:
    t = text.strip()
    return bool(t) and not t.startswith("/") and t not in HUMAN_REQUEST_TEXTS \
        and t not in (CONFIRM_PAYLOAD, DISPUTE_PAYLOAD)


def _key(text: str) -> str:
    return "".join(text.split()).rstrip("？?。！!").lower()


def unanswered_questions(sessions: sessionmaker[Session], scan: int, limit: int = 100,
                         kind: str | None = None, since: datetime | None = None,
                         until: datetime | None = None) -> list[dict[str, Any]]:
    """Most frequent first, then most recent; the same question asked twice counts twice.
    Looks at the `scan` most recent messages, of [since, until) when given."""
    query = select(Message).order_by(Message.id.desc()).limit(scan)
    if since is not None:
        query = query.where(Message.created_at >= since)
    if until is not None:
        query = query.where(Message.created_at < until)
    with sessions() as session:
        recent = list(session.scalars(query))
        decisions = decisions_of_messages(session, (m.id for m in recent if m.sender == "bot"))
        conversation_ids = {m.conversation_id for m in recent}
        handed = {h.conversation_id: h for h in session.scalars(
            select(Handoff).where(Handoff.conversation_id.in_(conversation_ids),
                                  Handoff.reason.in_(KB_HANDOFF_REASONS)))} if conversation_ids else {}
    found: OrderedDict[str, Unanswered] = OrderedDict()

    def note(question: Message | None, kind_: str, at: Message, entry_id: str | None = None) -> None:
        if question is None:
            return
        item = found.setdefault(_key(question.text), Unanswered(question.text.strip()))
        item.add(kind_, at.created_at.isoformat(), at.conversation_id, entry_id)

    last_question: dict[str, Message] = {}
    questions: dict[str, list[Message]] = {}
    for m in sorted(recent, key=lambda m: m.id):
        question = last_question.get(m.conversation_id)
        if m.sender == "customer":
            if intent_of(m.text) == UNHELPFUL_PAYLOAD:
                note(question, "unhelpful", m, entry_of(m.text.strip()))
            elif _is_question(m.text):
                last_question[m.conversation_id] = m
                questions.setdefault(m.conversation_id, []).append(m)
        elif decisions.get(m.id) in (CLARIFY, NO_ANSWER):
            note(question, decisions[m.id], m)
    for conversation_id, handoff in handed.items():
        before = [m for m in questions.get(conversation_id, []) if m.created_at <= handoff.created_at]
        if before:
            note(before[-1], "handoff", before[-1])
    items = [i for i in found.values() if kind is None or kind in i.kinds]
    items.sort(key=lambda i: (i.count, i.last_at), reverse=True)
    return [i.to_json() for i in items[:limit]]
