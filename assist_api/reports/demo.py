"""Demo data for the reports page on a fresh install: seeded, clearly marked, removable.

Every demo conversation id starts with `demo` and every demo customer id with `demo-`; the
reports page says how many demo conversations it shows. `remove` deletes exactly those rows
(and their messages, turns, feedback, handoffs, events and ratings), nothing else.

The bot's decisions are written as the gateway writes them, as bot_turns rows linked to their
bot message; the demo reply texts are only for reading.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from assist_api.reports.period import Period
from db.base import affected_rows, utcnow
from gateway.conversations.csat import CsatRating
from gateway.conversations.models import AnswerFeedback, Conversation, Message
from gateway.conversations.turns import BotTurn
from gateway.handoffs.models import Handoff, HandoffEvent
from kb.models import KBEntry

ID_PREFIX = "demo"
CUSTOMER_PREFIX = "demo-"
TOPICS_FILE = Path(__file__).resolve().parent / "data" / "unanswered_topics.yaml"
REASONS = (("user_request", 40), ("no_answer", 20), ("unhelpful", 10), ("emotion", 10), ("urgent", 8),
           ("complaint", 12))
FIRST_RESPONSE_MIN = {"urgent": 3, "high": 5, "normal": 10}
# Hourly weights of a service day (local time): quiet nights, busy late mornings and evenings.
HOURS = (1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 10, 8, 9, 10, 10, 9, 8, 9, 10, 9, 7, 4, 2)
CLARIFY_TEXT = "您是不是想问："
NO_ANSWER_TEXT = "抱歉，这个问题我暂时没有找到准确的答案。"


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _kb_entries(session: Session) -> list[tuple[str, str, list[str]]]:
    rows = session.execute(select(KBEntry.id, KBEntry.question, KBEntry.similar_questions)
                           .where(KBEntry.status == "published")).all()
    if rows:
        return [(r[0], r[1], list(r[2] or [])) for r in rows]
    return [(f"{c}-001", f"{c} 问题示例", []) for c in ("billing", "plan", "network", "broadband", "number")]


def generate(sessions: sessionmaker[Session], period: Period, conversations: int, seed: int = 7,
             now: datetime | None = None) -> dict[str, int]:
    """Insert `conversations` demo conversations spread over the period (bulk inserts)."""
    rng = random.Random(seed)
    topics = [q for qs in yaml.safe_load(TOPICS_FILE.read_text("utf-8")).values() for q in qs]
    now = now or utcnow()
    days = (period.last - period.first).days + 1
    customers = max(1, int(conversations / 1.5))
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("conv", "msg", "turn", "fb", "handoff", "event", "csat")}
    with sessions() as session:
        entries = _kb_entries(session)
    for _ in range(conversations):
        day = period.first + timedelta(days=rng.randrange(days))
        hour = rng.choices(range(24), HOURS)[0]
        start = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=period.tz)
        if start > now:
            start = now - timedelta(minutes=rng.randrange(1, 600))
        cid = ID_PREFIX + uuid.UUID(int=rng.getrandbits(128)).hex[:28]
        channel = "web" if rng.random() < 0.65 else "wechat"
        customer = f"{CUSTOMER_PREFIX}{rng.randrange(customers):05d}"
        t = start
        conv = {"id": cid, "channel": channel, "customer_id": customer, "state": "closed",
                "customer_profile": {"demo": "true"}, "created_at": t, "updated_at": t, "closed_at": None}
        rows["conv"].append(conv)

        def say(sender: str, text: str, at: datetime, cid: str = cid) -> None:
            rows["msg"].append({"conversation_id": cid, "sender": sender, "text": text, "buttons": None,
                                "agent_id": None, "created_at": at})

        def decide(decision: str, entry_id: str | None, at: datetime, cid: str = cid) -> None:
            """The decision on the bot message just said (`_msg`: its row, for its id later)."""
            rows["turn"].append({"conversation_id": cid, "decision": decision, "entry_id": entry_id,
                                 "created_at": at, "_msg": len(rows["msg"]) - 1})

        entry = rng.choice(entries)
        asked = rng.choice(entry[2]) if entry[2] else entry[1]
        roll = rng.random()
        handoff_reason = None
        if roll < 0.03:  # greeting only
            say("customer", "你好", t)
            say("bot", "您好，我是星联智能客服，请问有什么可以帮您？", t + timedelta(seconds=1))
        elif roll < 0.73:  # the bot answers (some after a clarify)
            if rng.random() < 0.12:
                say("customer", asked, t)
                say("bot", CLARIFY_TEXT, t + timedelta(seconds=1))
                decide("clarify", None, t)
                t += timedelta(seconds=rng.randrange(5, 40))
            say("customer", asked, t)
            say("bot", f"（演示）{entry[1]} 的答案。", t + timedelta(seconds=1))
            decide("answer", entry[0], t)
            mark = rng.random()
            if mark < 0.35 or mark > 0.93:
                helpful = mark < 0.35
                rows["fb"].append({"conversation_id": cid, "entry_id": entry[0], "helpful": helpful,
                                   "created_at": t + timedelta(seconds=20)})
                if not helpful and rng.random() < 0.5:
                    handoff_reason = "unhelpful"
        elif roll < 0.78:  # a miss, then the customer leaves
            question = rng.choice(topics)
            say("customer", question, t)
            say("bot", NO_ANSWER_TEXT, t + timedelta(seconds=1))
            decide("no_answer", None, t)
        else:
            handoff_reason = _pick(rng, REASONS)
            unknown = handoff_reason in ("no_answer", "user_request") and rng.random() < 0.5
            question = rng.choice(topics) if unknown else asked
            say("customer", question, t)
            if handoff_reason == "no_answer":
                say("bot", NO_ANSWER_TEXT, t + timedelta(seconds=1))
                decide("no_answer", None, t)
        if handoff_reason:
            t += timedelta(seconds=rng.randrange(10, 120))
            _handoff(rng, rows, cid, channel, customer, entry[0].split("-")[0], handoff_reason, t, now)
            conv["state"] = "closed" if rows["handoff"][-1]["status"] == "closed" else "agent"
        if conv["state"] == "closed":
            conv["closed_at"] = t + timedelta(minutes=5)
    with sessions.begin() as session:
        for i in range(0, len(rows["conv"]), 5000):
            session.execute(insert(Conversation), rows["conv"][i:i + 5000])
        # Message ids come from the database: each turn links to its bot message's.
        message_ids: list[int] = []
        for i in range(0, len(rows["msg"]), 5000):
            message_ids += session.scalars(insert(Message).returning(Message.id, sort_by_parameter_order=True),
                                           rows["msg"][i:i + 5000]).all()
        turns = [{**{k: v for k, v in r.items() if k != "_msg"}, "message_id": message_ids[r["_msg"]]}
                 for r in rows["turn"]]
        for model, batch in ((BotTurn, turns), (AnswerFeedback, rows["fb"])):
            for i in range(0, len(batch), 5000):
                session.execute(insert(model), batch[i:i + 5000])
        # Handoff ids come from the database (its sequence must stay right); events and
        # ratings are attached by conversation id.
        ids: dict[str, int] = {}
        for i in range(0, len(rows["handoff"]), 2000):
            ids.update({c: h for h, c in session.execute(
                insert(Handoff).returning(Handoff.id, Handoff.conversation_id), rows["handoff"][i:i + 2000])})
        for key, linked in (("event", HandoffEvent), ("csat", CsatRating)):
            batch = [{**{k: v for k, v in r.items() if k != "cid"}, "handoff_id": ids[r["cid"]]} for r in rows[key]]
            for i in range(0, len(batch), 5000):
                session.execute(insert(linked), batch[i:i + 5000])
    return {k: len(v) for k, v in rows.items()}


def _handoff(rng: random.Random, rows: dict[str, list[dict[str, Any]]], cid: str, channel: str, customer: str,
             category: str, reason: str, at: datetime, now: datetime) -> None:
    priority = "urgent" if reason == "urgent" else (
        "high" if reason in ("complaint", "emotion") and rng.random() < 0.6 else
        "high" if rng.random() < 0.15 else "normal")
    due = at + timedelta(minutes=FIRST_RESPONSE_MIN[priority])
    resolution_due = at + timedelta(hours=72 if reason == "complaint" else 24)
    # Most first responses come within the SLA; busy hours and nights breach some.
    late = rng.random() < (0.25 if at.hour >= 19 or at.hour < 9 else 0.12)
    wait = timedelta(seconds=rng.randrange(30, FIRST_RESPONSE_MIN[priority] * 60)) if not late else \
        timedelta(minutes=FIRST_RESPONSE_MIN[priority] + rng.expovariate(1 / 8))
    reply_at = at + wait
    events = [(None, "queued", at), ("queued", "assigned", at + wait * 0.8)]
    status = "assigned"
    resolved_at: datetime | None = None
    first_response_at: datetime | None = None  # not answered yet when the reply lies after now
    if reply_at <= now:
        first_response_at = reply_at
        events.append(("assigned", "in_progress", reply_at))
        status = "in_progress"
        work = timedelta(minutes=rng.lognormvariate(3.6, 1.0))
        if rng.random() < 0.93 and reply_at + work <= now:
            resolved_at = reply_at + work
            events.append(("in_progress", "resolved", resolved_at))
            status = "resolved"
            if rng.random() < 0.07:  # the customer says it is not solved
                events.append(("resolved", "in_progress", resolved_at + timedelta(minutes=3)))
                resolved_at += timedelta(minutes=rng.randrange(20, 300))
                events.append(("in_progress", "resolved", resolved_at))
            if rng.random() < 0.9:
                events.append(("resolved", "closed", resolved_at + timedelta(minutes=2)))
                status = "closed"
    rows["handoff"].append({
        "conversation_id": cid, "channel": channel, "customer_id": customer,
        "customer_profile": {"demo": "true"}, "created_at": at, "updated_at": at, "reason": reason,
        "summary": {"background": "（演示数据）", "bot_tried": [], "bottleneck": ""},
        "classification": {"category": {"label": category, "confidence": 0.8},
                           "priority": {"label": priority, "confidence": 0.8},
                           "is_complaint": reason == "complaint"},
        "priority": priority, "first_response_due": due, "resolution_due": resolution_due,
        "first_response_at": first_response_at, "transcript": [],
        "owner": "demo-agent" if first_response_at else None,
        "status": status})
    for frm, to, when in events:
        rows["event"].append({"cid": cid, "from_status": frm, "to_status": to, "actor": "demo-agent",
                              "at": when, "note": "demo"})
    if status == "closed" and resolved_at is not None and rng.random() < 0.45:
        score = _pick(rng, ((5, 45), (4, 30), (3, 12), (2, 7), (1, 6)))
        rows["csat"].append({"cid": cid, "conversation_id": cid, "agent_id": "demo-agent",
                             "score": score, "created_at": resolved_at + timedelta(minutes=3)})


def remove(sessions: sessionmaker[Session]) -> int:
    """Delete every demo conversation and what hangs off it; returns the conversations removed."""
    demo = select(Conversation.id).where(Conversation.id.like(f"{ID_PREFIX}%"))
    with sessions.begin() as session:
        handoffs = select(Handoff.id).where(Handoff.conversation_id.in_(demo))
        session.execute(delete(CsatRating).where(CsatRating.conversation_id.in_(demo)))
        session.execute(delete(HandoffEvent).where(HandoffEvent.handoff_id.in_(handoffs)))
        session.execute(delete(Handoff).where(Handoff.conversation_id.in_(demo)))
        session.execute(delete(AnswerFeedback).where(AnswerFeedback.conversation_id.in_(demo)))
        session.execute(delete(BotTurn).where(BotTurn.conversation_id.in_(demo)))
        session.execute(delete(Message).where(Message.conversation_id.in_(demo)))
        return affected_rows(session.execute(delete(Conversation).where(Conversation.id.like(f"{ID_PREFIX}%"))))


def count_in(session: Session, start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.id.like(f"{ID_PREFIX}%"), Conversation.created_at >= start, Conversation.created_at < end)) or 0
