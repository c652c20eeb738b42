"""Create escalation records idempotently and move them through their lifecycle."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common import triage
from common.observability import metrics
from config.settings import Settings
from db.base import affected_rows, utcnow
from gateway.conversations.models import Conversation, ConversationState, Message
from gateway.conversations.service import ConversationNotFound, ConversationService
from gateway.conversations.turns import decisions_of_messages
from gateway.handoffs.models import (
    Handoff,
    HandoffEvent,
    HandoffReason,
    HandoffStatus,
)
from gateway.handoffs.open_issue import open_issue
from gateway.handoffs.service_levels import ServiceLevels

BOTTLENECK = {
    HandoffReason.user_request: "客户主动要求人工服务",
    HandoffReason.no_answer: "知识库连续两次没有找到合适答案",
    HandoffReason.unhelpful: "客户两次标记机器人回答“没帮助”",
    HandoffReason.emotion: "客户情绪激动，需人工安抚处理",
    HandoffReason.urgent: "紧急故障或账户安全问题，需人工立即处理",
    HandoffReason.complaint: "客户提出投诉，按投诉流程处理",
}
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}

# status → statuses an agent may move it to, and the conversation state that goes with it
TRANSITIONS: dict[str, dict[str, HandoffStatus]] = {
    "claim": {"queued": HandoffStatus.assigned},
    "start": {"assigned": HandoffStatus.in_progress},
    "resolve": {"assigned": HandoffStatus.resolved, "in_progress": HandoffStatus.resolved},
    "close": {"resolved": HandoffStatus.closed, "in_progress": HandoffStatus.closed,
              "assigned": HandoffStatus.closed},
    "reopen": {"resolved": HandoffStatus.in_progress, "closed": HandoffStatus.in_progress},
}
CONVERSATION_STATE = {
    HandoffStatus.queued: ConversationState.queued,
    HandoffStatus.assigned: ConversationState.agent,
    HandoffStatus.in_progress: ConversationState.agent,
    HandoffStatus.resolved: ConversationState.agent,
    HandoffStatus.closed: ConversationState.closed,
}


class HandoffNotFound(LookupError):
    pass


class HandoffConflict(Exception):
    """The transition is not allowed from the record's current status or for this agent."""


@dataclass
class HandoffOutcome:
    handoff: Handoff
    created: bool
    queue_position: int | None
    in_business_hours: bool


class HandoffService:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 conversations: ConversationService, classifier: Any = None) -> None:
        self._sessions = sessions
        self.settings = settings
        # The trained ticket classifier when available; keyword rules otherwise.
        self.classifier = classifier
        self.levels = ServiceLevels(settings)
        self.conversations = conversations

    # ---- creation ------------------------------------------------------------------------
    def create(
        self,
        conversation_id: str,
        reason: HandoffReason,
        bot_tried: builtins.list[dict[str, Any]] | None = None,
        category: str | None = None,
        category_confidence: float = 0.0,
        actor: str = "bot",
    ) -> HandoffOutcome:
        try:
            return self._create(conversation_id, reason, bot_tried or [], category,
                                category_confidence, actor)
        except IntegrityError:
            # A concurrent retry won the unique constraint: return its record.
            existing = self.for_conversation(conversation_id)
            if existing is None:  # the constraint that failed was another one: not ours to hide
                raise
            return HandoffOutcome(existing, False, self.queue_position(existing.id),
                                  self.levels.in_business_hours(utcnow()))

    def _create(self, conversation_id: str, reason: HandoffReason, bot_tried: builtins.list[dict[str, Any]],
                category: str | None, category_confidence: float, actor: str) -> HandoffOutcome:
        now = utcnow()
        with self._sessions.begin() as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFound(conversation_id)
            existing = session.scalars(
                select(Handoff).where(Handoff.conversation_id == conversation_id)
            ).first()
            if existing is not None:
                outcome_id, created = existing.id, False
            else:
                # The open issue, not the questions the bot already settled (open_issue.py).
                messages = list(session.scalars(
                    select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)))
                issue = open_issue(messages, decisions_of_messages(session, (m.id for m in messages)))
                text = issue.background
                labels = self._classify(text, reason, category, category_confidence)
                priority = labels["priority"]["label"]
                handoff = Handoff(
                    conversation_id=conversation_id,
                    channel=conv.channel,
                    customer_id=conv.customer_id,
                    customer_profile=conv.customer_profile or {},
                    created_at=now,
                    updated_at=now,
                    reason=reason.value,
                    summary={
                        "background": text,
                        "bot_tried": issue.tried(bot_tried),
                        "bottleneck": BOTTLENECK[reason],
                        # where the open issue starts in the record's (full) transcript
                        "transcript_from": issue.start,
                    },
                    classification=labels,
                    priority=priority,
                    first_response_due=self.levels.first_response_due(priority, now),
                    resolution_due=self.levels.resolution_due(
                        labels["complexity"]["label"], labels["is_complaint"], now),
                    transcript=self.conversations.transcript(session, conversation_id),
                    status=HandoffStatus.queued.value,
                )
                session.add(handoff)
                session.flush()
                session.add(HandoffEvent(handoff_id=handoff.id, from_status=None,
                                         to_status=HandoffStatus.queued.value, actor=actor, at=now,
                                         note=reason.value))
                self.conversations.set_state(session, conversation_id, ConversationState.queued)
                outcome_id, created = handoff.id, True
        handoff = self.get(outcome_id)
        if created:
            metrics.HANDOFFS.labels(handoff.reason, handoff.priority).inc()
        return HandoffOutcome(handoff, created, self.queue_position(handoff.id),
                              self.levels.in_business_hours(now))

    def _classify(self, text: str, reason: HandoffReason, category: str | None,
                  category_confidence: float) -> dict[str, Any]:
        if self.classifier is None or not text.strip():
            return triage.classify(text, reason.value, category, category_confidence)
        result = self.classifier.classify(text)
        labels = {name: result[name] for name in ("category", "priority", "complexity", "emotion")}
        # The KB entry the bot matched names a category too; the more confident one wins.
        if category and category_confidence > labels["category"]["confidence"]:
            labels["category"] = {"label": category, "confidence": round(category_confidence, 4)}
        # The reason the bot handed off is a fact, not a guess: it sets a floor on priority.
        if reason == HandoffReason.urgent:
            labels["priority"] = {"label": "urgent", "confidence": max(labels["priority"]["confidence"], 0.8)}
        is_complaint = result["is_complaint"] or reason == HandoffReason.complaint
        labels.update({"is_complaint": is_complaint, "route": result["route"],
                       "keywords": result["keywords"], "method": "model"})
        return labels

    # ---- reads ---------------------------------------------------------------------------
    def get(self, handoff_id: int) -> Handoff:
        with self._sessions() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            return handoff

    def for_conversation(self, conversation_id: str) -> Handoff | None:
        with self._sessions() as session:
            return session.scalars(
                select(Handoff).where(Handoff.conversation_id == conversation_id)
            ).first()

    def latest_for_customer_of(self, conversation_id: str) -> Handoff | None:
        with self._sessions() as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                return None
            return session.scalars(
                select(Handoff)
                .where(Handoff.channel == conv.channel, Handoff.customer_id == conv.customer_id)
                .order_by(Handoff.created_at.desc())
                .limit(1)
            ).first()

    def list(self, status: str | None = None, priority: str | None = None,
             sla: str | None = None, owner: str | None = None) -> builtins.list[Handoff]:
        stmt = select(Handoff)
        if status:
            stmt = stmt.where(Handoff.status == status)
        if priority:
            stmt = stmt.where(Handoff.priority == priority)
        if owner:
            stmt = stmt.where(Handoff.owner == owner)
        with self._sessions() as session:
            rows = list(session.scalars(stmt))
        if sla:
            now = utcnow()
            rows = [h for h in rows if sla_state(h, now, self.levels) == sla]
        return sorted(rows, key=lambda h: (PRIORITY_RANK.get(h.priority, 9), h.created_at))

    def events(self, handoff_id: int) -> builtins.list[HandoffEvent]:
        with self._sessions() as session:
            return list(session.scalars(
                select(HandoffEvent).where(HandoffEvent.handoff_id == handoff_id).order_by(HandoffEvent.id)
            ))

    def queue_position(self, handoff_id: int) -> int | None:
        queued = self.list(status=HandoffStatus.queued.value)
        ids = [h.id for h in queued]
        return ids.index(handoff_id) + 1 if handoff_id in ids else None

    def queued_count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(Handoff).where(
                Handoff.status == HandoffStatus.queued.value)) or 0

    # ---- what the console shows, and how it notices changes ------------------------------
    def json(self, h: Handoff, now: datetime | None = None) -> dict[str, Any]:
        """The record as the API returns it, SLA states by the configured service levels."""
        return handoff_json(h, now, self.levels)

    def record(self, handoff_id: int) -> dict[str, Any]:
        """One record with its audited status events (the console's detail view)."""
        record = self.json(self.get(handoff_id))
        record["events"] = [
            {"from": e.from_status, "to": e.to_status, "actor": e.actor, "at": e.at.isoformat(), "note": e.note}
            for e in self.events(handoff_id)
        ]
        return record

    def change_mark(self) -> tuple[int, int, datetime | None]:
        """Changes whenever a case is created, moves, is transferred or answered: the newest
        case id, the newest audited event and the latest update (one cheap query, so every
        gateway replica's streams can watch the shared database)."""
        with self._sessions() as session:
            row = session.execute(select(
                select(func.max(Handoff.id)).scalar_subquery(),
                select(func.max(HandoffEvent.id)).scalar_subquery(),
                select(func.max(Handoff.updated_at)).scalar_subquery(),
            )).one()
        return row[0] or 0, row[1] or 0, row[2]

    def created_after(self, handoff_id: int) -> builtins.list[Handoff]:
        with self._sessions() as session:
            return list(session.scalars(select(Handoff).where(Handoff.id > handoff_id).order_by(Handoff.id)))

    # ---- lifecycle -----------------------------------------------------------------------
    def transition(self, handoff_id: int, action: str, actor: str, note: str | None = None,
                   by_customer: bool = False) -> Handoff:
        """Move a case on. Agents act on cases they own (claim takes ownership); the customer
        (`by_customer`) may only confirm or dispute a resolution, which skips the owner check."""
        allowed = TRANSITIONS[action]
        with self._sessions.begin() as session:
            # Compare-and-set: the UPDATE is the transaction's first statement, so two agents
            # racing (even on SQLite, which has no SELECT … FOR UPDATE) cannot both win.
            before = None
            for status in allowed:
                target = allowed[status]
                conditions = [Handoff.id == handoff_id, Handoff.status == status]
                values = {"status": target.value, "updated_at": utcnow()}
                if action == "claim":
                    values["owner"] = actor
                elif not by_customer:
                    # The first-contact owner keeps the case until it is closed or transferred.
                    conditions.append(or_(Handoff.owner.is_(None), Handoff.owner == actor))
                if affected_rows(session.execute(update(Handoff).where(*conditions).values(**values))) == 1:
                    before = status
                    break
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            if before is None:
                if not by_customer and handoff.status in allowed and handoff.owner and handoff.owner != actor:
                    raise HandoffConflict(f"handoff {handoff_id} belongs to {handoff.owner}")
                raise HandoffConflict(
                    f"cannot {action} a handoff that is {handoff.status} "
                    f"(allowed from: {', '.join(allowed)})"
                )
            session.add(HandoffEvent(handoff_id=handoff.id, from_status=before,
                                     to_status=handoff.status, actor=actor, note=note))
            self.conversations.set_state(session, handoff.conversation_id,
                                         CONVERSATION_STATE[HandoffStatus(handoff.status)])
            session.flush()
            return handoff

    def transfer(self, handoff_id: int, actor: str, to_agent: str, note: str | None = None) -> Handoff:
        """Hand a claimed case to another agent, who becomes its owner."""
        with self._sessions.begin() as session:
            done = affected_rows(session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id,
                       Handoff.status.in_([HandoffStatus.assigned.value, HandoffStatus.in_progress.value]),
                       Handoff.owner == actor)
                .values(owner=to_agent, updated_at=utcnow())
            ))
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            if not done:
                if handoff.owner != actor:
                    raise HandoffConflict(
                        f"only the owner ({handoff.owner or 'nobody yet'}) can transfer handoff {handoff_id}")
                raise HandoffConflict(f"cannot transfer a handoff that is {handoff.status}")
            session.add(HandoffEvent(handoff_id=handoff_id, from_status=handoff.status, to_status=handoff.status,
                                     actor=actor, note=f"transferred to {to_agent}" + (f": {note}" if note else "")))
            return handoff

    def record_agent_reply(self, handoff_id: int, agent: str) -> None:
        """An agent's first message starts the work and stamps the first response time."""
        handoff = self.get(handoff_id)
        if handoff.owner != agent:
            raise HandoffConflict(
                f"claim handoff {handoff_id} before replying" if not handoff.owner
                else f"handoff {handoff_id} belongs to {handoff.owner}"
            )
        if handoff.status == HandoffStatus.assigned.value:
            self.transition(handoff_id, "start", agent)
        if handoff.first_response_at is None:
            now = utcnow()
            with self._sessions.begin() as session:
                row = session.get_one(Handoff, handoff_id)
                row.first_response_at = row.updated_at = now  # updated_at: live consoles see it
            if now > handoff.first_response_due:
                metrics.SLA_BREACHES.labels(handoff.priority).inc()


AT_RISK_SHARE = 0.2  # without configured service levels: the last 20 % of a window is at risk


def _pending_deadline(h: Handoff) -> tuple[datetime, bool] | None:
    """The deadline that applies now and whether it is the first response; None when none does."""
    if h.status == HandoffStatus.closed.value:
        return None
    if h.first_response_at is None:
        return h.first_response_due, True
    if h.status == HandoffStatus.resolved.value:
        return None
    return h.resolution_due, False


def at_risk_from(h: Handoff, levels: ServiceLevels | None = None) -> datetime | None:
    """When the deadline that applies now starts to count as at risk (None: no deadline applies)."""
    pending = _pending_deadline(h)
    if pending is None:
        return None
    due, first_response = pending
    window = max(due - h.created_at, timedelta(0))
    lead = levels.at_risk_lead(window, first_response) if levels else window * AT_RISK_SHARE
    return due - lead


def sla_state(h: Handoff, now: datetime | None = None, levels: ServiceLevels | None = None) -> str:
    """breached | at_risk | ok, for the deadline that applies now (first response, then resolution)."""
    now = now or utcnow()
    if h.status == HandoffStatus.closed.value:
        return "ok"
    if h.first_response_at is not None and h.first_response_at > h.first_response_due:
        return "breached"
    pending = _pending_deadline(h)
    if pending is None:
        return "ok"
    if now > pending[0]:
        return "breached"
    risk_from = at_risk_from(h, levels)
    return "at_risk" if risk_from is not None and now >= risk_from else "ok"


def handoff_json(h: Handoff, now: datetime | None = None, levels: ServiceLevels | None = None) -> dict[str, Any]:
    now = now or utcnow()
    risk_from = at_risk_from(h, levels)
    return {
        "id": h.id,
        "conversation_id": h.conversation_id,
        "channel": h.channel,
        "customer_id": h.customer_id,
        "customer_profile": h.customer_profile,
        "created_at": h.created_at.isoformat(),
        "reason": h.reason,
        "summary": h.summary,
        "classification": h.classification,
        "priority": h.priority,
        "sla": {
            "first_response_due": h.first_response_due.isoformat(),
            "resolution_due": h.resolution_due.isoformat(),
            "first_response_at": h.first_response_at.isoformat() if h.first_response_at is not None else None,
            "first_response_breached": (h.first_response_at or now) > h.first_response_due,
            "resolution_breached": h.status != "closed" and now > h.resolution_due,
            "state": sla_state(h, now, levels),
            # when the deadline that applies now turns at risk, so a page can highlight it on time
            "at_risk_from": risk_from.isoformat() if risk_from else None,
        },
        "transcript": h.transcript,
        "owner": h.owner,
        "status": h.status,
        "updated_at": h.updated_at.isoformat(),
        # What the waiting customer was told (handoffs/waiting.py): an agent should know that a
        # customer chose to leave a message rather than wait.
        "waiting": {name: (value.isoformat() if value else None) for name, value in (
            ("last_holding_reply_at", h.last_ack_at), ("soothed_at", h.soothed_at),
            ("message_left_at", h.message_left_at))},
    }
