"""The SQL behind the reports: one row per conversation with everything the metrics need.

The large tables (messages are not read at all; bot turns, feedback, handoff events) are
aggregated in the database with GROUP BY subqueries joined to the conversations of the range;
the next contact of the same customer comes from a LEAD window. Only one narrow row per
conversation reaches Python. The same statement runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from gateway.conversations.csat import CsatRating
from gateway.conversations.models import AnswerFeedback, Conversation
from gateway.conversations.turns import BotTurn
from gateway.handoffs.models import Handoff, HandoffEvent
from kb.models import KBEntry

REPEAT_WINDOW = timedelta(hours=72)


@dataclass(slots=True)
class ConversationFact:
    id: str
    channel: str
    customer_id: str
    created_at: datetime
    next_contact_at: datetime | None
    answers: int
    clarifies: int
    misses: int
    answered_entry: str | None
    helpful: int
    unhelpful: int
    handoff_id: int | None
    reason: str | None
    priority: str | None
    handoff_category: str | None
    is_complaint: bool
    handoff_status: str | None
    handoff_at: datetime | None
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    resolved_at: datetime | None
    reopens: int
    csat: int | None


def _utc(value: datetime | str | None) -> datetime | None:
    """Aggregates and window functions lose the column type: SQLite hands back text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def conversation_facts(session: Session, start: datetime, end: datetime) -> list[ConversationFact]:
    """Every conversation started in [start, end), with its bot turns, feedback, handoff,
    handoff lifecycle, CSAT and the same customer's next conversation (looked for up to 72 h
    past the range)."""
    window = (
        select(
            Conversation.id.label("id"),
            Conversation.channel.label("channel"),
            Conversation.customer_id.label("customer_id"),
            Conversation.created_at.label("created_at"),
            func.lead(Conversation.created_at).over(
                partition_by=(Conversation.channel, Conversation.customer_id),
                order_by=Conversation.created_at,
            ).label("next_contact_at"),
        )
        .where(Conversation.created_at >= start, Conversation.created_at < end + REPEAT_WINDOW)
        .subquery("c")
    )
    in_range = and_(window.c.created_at >= start, window.c.created_at < end)
    # The children of the range's conversations, found through the created_at index.
    started = and_(Conversation.created_at >= start, Conversation.created_at < end)
    turns = (
        select(
            BotTurn.conversation_id.label("cid"),
            func.sum(case((BotTurn.decision == "answer", 1), else_=0)).label("answers"),
            func.sum(case((BotTurn.decision == "clarify", 1), else_=0)).label("clarifies"),
            func.sum(case((BotTurn.decision == "no_answer", 1), else_=0)).label("misses"),
            func.min(BotTurn.entry_id).label("entry"),
        )
        .join(Conversation, Conversation.id == BotTurn.conversation_id)
        .where(started)
        .group_by(BotTurn.conversation_id)
        .subquery("t")
    )
    feedback = (
        select(
            AnswerFeedback.conversation_id.label("cid"),
            func.sum(case((AnswerFeedback.helpful.is_(True), 1), else_=0)).label("helpful"),
            func.sum(case((AnswerFeedback.helpful.is_(False), 1), else_=0)).label("unhelpful"),
        )
        .join(Conversation, Conversation.id == AnswerFeedback.conversation_id)
        .where(started)
        .group_by(AnswerFeedback.conversation_id)
        .subquery("f")
    )
    events = (
        select(
            HandoffEvent.handoff_id.label("hid"),
            func.min(case((HandoffEvent.to_status.in_(("resolved", "closed")), HandoffEvent.at))).label("resolved_at"),
            func.sum(case((and_(HandoffEvent.from_status.in_(("resolved", "closed")),
                                HandoffEvent.to_status == "in_progress"), 1), else_=0)).label("reopens"),
        )
        .join(Handoff, Handoff.id == HandoffEvent.handoff_id)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(started)
        .group_by(HandoffEvent.handoff_id)
        .subquery("e")
    )
    stmt = (
        select(
            window.c.id, window.c.channel, window.c.customer_id, window.c.created_at, window.c.next_contact_at,
            turns.c.answers, turns.c.clarifies, turns.c.misses, turns.c.entry,
            feedback.c.helpful, feedback.c.unhelpful,
            Handoff.id, Handoff.reason, Handoff.priority,
            Handoff.classification[("category", "label")].as_string(),
            Handoff.classification["is_complaint"].as_boolean(),
            Handoff.status, Handoff.created_at, Handoff.first_response_at, Handoff.first_response_due,
            Handoff.resolution_due, events.c.resolved_at, events.c.reopens, CsatRating.score,
        )
        .select_from(window)
        .outerjoin(turns, turns.c.cid == window.c.id)
        .outerjoin(feedback, feedback.c.cid == window.c.id)
        .outerjoin(Handoff, Handoff.conversation_id == window.c.id)
        .outerjoin(events, events.c.hid == Handoff.id)
        .outerjoin(CsatRating, CsatRating.conversation_id == window.c.id)
        .where(in_range)
    )
    facts = []
    for r in session.execute(stmt):
        facts.append(ConversationFact(
            id=r[0], channel=r[1], customer_id=r[2], created_at=r[3], next_contact_at=_utc(r[4]),
            answers=int(r[5] or 0), clarifies=int(r[6] or 0), misses=int(r[7] or 0), answered_entry=r[8],
            helpful=int(r[9] or 0), unhelpful=int(r[10] or 0),
            handoff_id=r[11], reason=r[12], priority=r[13], handoff_category=r[14],
            is_complaint=bool(r[15]) or r[12] == "complaint", handoff_status=r[16], handoff_at=r[17],
            first_response_at=r[18], first_response_due=r[19], resolution_due=r[20],
            resolved_at=_utc(r[21]), reopens=int(r[22] or 0), csat=r[23],
        ))
    return facts


@dataclass(slots=True)
class EntryFeedback:
    entry_id: str
    question: str | None
    category: str | None
    status: str | None
    review_due: date | None
    helpful: int
    unhelpful: int


def entry_feedback(session: Session, start: datetime, end: datetime) -> list[EntryFeedback]:
    """有帮助 / 没帮助 per KB entry for marks made in [start, end), most 没帮助 first."""
    agg = (
        select(
            AnswerFeedback.entry_id.label("entry_id"),
            func.sum(case((AnswerFeedback.helpful.is_(True), 1), else_=0)).label("helpful"),
            func.sum(case((AnswerFeedback.helpful.is_(False), 1), else_=0)).label("unhelpful"),
        )
        .where(AnswerFeedback.created_at >= start, AnswerFeedback.created_at < end)
        .group_by(AnswerFeedback.entry_id)
        .subquery("a")
    )
    stmt = (
        select(agg.c.entry_id, KBEntry.question, KBEntry.category, KBEntry.status, KBEntry.review_due,
               agg.c.helpful, agg.c.unhelpful)
        .select_from(agg)
        .outerjoin(KBEntry, KBEntry.id == agg.c.entry_id)
        .order_by(agg.c.unhelpful.desc(), agg.c.entry_id)
    )
    return [EntryFeedback(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0), int(r[6] or 0))
            for r in session.execute(stmt)]


def entry_categories(session: Session) -> dict[str, str]:
    return dict(session.execute(select(KBEntry.id, KBEntry.category)).all())


def overdue_entries(session: Session, today: date) -> list[tuple[str, str, date]]:
    """Published entries whose review date has passed: (id, question, review_due)."""
    stmt = (select(KBEntry.id, KBEntry.question, KBEntry.review_due)
            .where(KBEntry.status == "published", KBEntry.review_due.is_not(None), KBEntry.review_due < today)
            .order_by(KBEntry.review_due))
    return [(entry_id, question, due) for entry_id, question, due in session.execute(stmt) if due is not None]
