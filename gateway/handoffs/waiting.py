"""What a customer hears while waiting for an agent, following the service manuals' scripts.

- Every message while queued gets a holding reply with the queue position, the expected wait
  and the first-response deadline, at most one per `waiting_ack_interval_s` (a customer typing
  three lines in a row gets one reply, not three).
- When the first-response deadline is `waiting_soothe_before_s` away and nobody has answered,
  a soothing message goes out by itself (a sweep every gateway replica runs), once per case.
- Outside business hours the reply says when service resumes instead.
- "留言" (leave a message): the customer need not stay; later messages get a short receipt.

Texts are templates in the settings. The bookkeeping (last holding reply, soothed, left a
message) lives on the escalation record, and every claim on it is a compare-and-set, so two
gateway replicas never send the same holding or soothing message twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from db.base import affected_rows, utcnow
from gateway.conversations.service import ConversationService
from gateway.handoffs import replies
from gateway.handoffs.models import Handoff, HandoffStatus
from gateway.handoffs.service import HandoffService
from gateway.threads import sweep_forever

log = logging.getLogger("gateway.waiting")

TEMPLATES = ("waiting_ack_template", "waiting_soothe_template", "waiting_out_of_hours_template",
             "waiting_leave_message_template", "waiting_message_left_template")
LEAVE_MESSAGE_BUTTON = {"title": "留言", "payload": replies.LEAVE_MESSAGE_PAYLOAD}
# A case whose deadline passed longer ago than this is not soothed any more (a restart after a
# long outage must not greet every old case at once).
SOOTHE_LATEST = timedelta(minutes=30)


@dataclass(frozen=True)
class QueueStatus:
    """Where a queued customer stands, as the holding replies and the widget show it."""

    ticket: int
    position: int
    expected_wait_min: int
    due: datetime
    in_business_hours: bool
    resume_at: datetime | None  # when service resumes; None while open
    message_left: bool

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "position": self.position, "ahead": self.position - 1,
                "expected_wait_min": self.expected_wait_min, "due": self.due.isoformat(),
                "in_business_hours": self.in_business_hours,
                "resume_at": self.resume_at.isoformat() if self.resume_at else None,
                "message_left": self.message_left}


class WaitingRoom:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, handoffs: HandoffService,
                 conversations: ConversationService) -> None:
        self._sessions = sessions
        self.settings = settings
        self.handoffs = handoffs
        self.conversations = conversations
        self.levels = handoffs.levels
        self.ack_interval = timedelta(seconds=settings.waiting_ack_interval_s)
        self.soothe_before = timedelta(seconds=settings.waiting_soothe_before_s)
        check_templates(settings)

    # ---- where the customer stands -------------------------------------------------------
    def status(self, conversation_id: str, now: datetime | None = None) -> QueueStatus | None:
        """None unless the conversation's case is waiting in the queue."""
        handoff = self.handoffs.for_conversation(conversation_id)
        if handoff is None or handoff.status != HandoffStatus.queued.value:
            return None
        return self._status(handoff, now or utcnow())

    def status_json(self, conversation_id: str) -> dict[str, Any] | None:
        """`status` for the widget's stream, with the times as the customer reads them."""
        status = self.status(conversation_id)
        if status is None:
            return None
        return {**status.to_json(), "due_local": replies.local_time(self.levels, status.due),
                "resume_at_local": replies.local_time(self.levels, status.resume_at)
                if status.resume_at else None}

    def _status(self, handoff: Handoff, now: datetime) -> QueueStatus:
        position = self.handoffs.queue_position(handoff.id) or 1
        in_hours = self.levels.in_business_hours(now)
        wait = self.levels.expected_wait_min(position, handoff.first_response_due, now)
        return QueueStatus(handoff.id, position, wait, handoff.first_response_due, in_hours,
                           None if in_hours else self.levels.next_opening(now),
                           handoff.message_left_at is not None)

    def render(self, template: str, status: QueueStatus) -> str:
        text: str = getattr(self.settings, template)
        return text.format(**_values(self, status))

    # ---- replies to the customer's messages ----------------------------------------------
    def on_customer_message(self, conversation_id: str, text: str) -> list[dict[str, Any]]:
        """The holding reply to a message of a queued customer, or nothing when one went out
        less than a minute ago (or the case is no longer queued)."""
        now = utcnow()
        handoff = self.handoffs.for_conversation(conversation_id)
        if handoff is None or handoff.status != HandoffStatus.queued.value:
            return []
        if text.strip() == replies.LEAVE_MESSAGE_PAYLOAD:
            return self._leave_message(handoff, now)
        values: dict[str, Any] = {"last_ack_at": now}
        buttons: list[dict[str, str]] | None = None
        if not self.levels.in_business_hours(now):
            template = "waiting_out_of_hours_template"
        elif handoff.message_left_at is not None:
            template = "waiting_message_left_template"
        elif handoff.soothed_at is None and now >= handoff.first_response_due - self.soothe_before:
            template, values["soothed_at"] = "waiting_soothe_template", now
            buttons = [LEAVE_MESSAGE_BUTTON]
        else:
            template, buttons = "waiting_ack_template", [LEAVE_MESSAGE_BUTTON]
        if not self._claim(handoff.id, now, values, rate_limited=True):
            return []  # said less than a minute ago: no need to look up the queue
        reply: dict[str, Any] = {"text": self.render(template, self._status(handoff, now))}
        if buttons:
            reply["buttons"] = buttons
        return [reply]

    def _leave_message(self, handoff: Handoff, now: datetime) -> list[dict[str, Any]]:
        values: dict[str, Any] = {"last_ack_at": now}
        if handoff.message_left_at is None:
            # updated_at moves too: open consoles are pushed the change (routes' event streams).
            values.update(message_left_at=now, updated_at=now)
        self._claim(handoff.id, now, values, rate_limited=False)
        status = self._status(handoff, now)
        return [{"text": self.render("waiting_leave_message_template", status)}]

    def _claim(self, handoff_id: int, now: datetime, values: dict[str, Any], rate_limited: bool) -> bool:
        """Record what is about to be said, if the case is still queued and (rate-limited)
        nothing was said within the interval; True when this caller won."""
        conditions = [Handoff.id == handoff_id, Handoff.status == HandoffStatus.queued.value]
        if rate_limited:
            conditions.append((Handoff.last_ack_at.is_(None)) | (Handoff.last_ack_at <= now - self.ack_interval))
        with self._sessions.begin() as session:
            return bool(affected_rows(session.execute(update(Handoff).where(*conditions).values(**values))))

    # ---- the soothing message near the deadline ------------------------------------------
    def soothe_due(self) -> int:
        """Send the soothing message to every queued case whose deadline is near; returns how many."""
        now = utcnow()
        if not self.levels.in_business_hours(now):
            return 0
        with self._sessions() as session:
            due = list(session.scalars(
                select(Handoff).where(
                    Handoff.status == HandoffStatus.queued.value, Handoff.soothed_at.is_(None),
                    Handoff.message_left_at.is_(None),
                    Handoff.first_response_due <= now + self.soothe_before,
                    Handoff.first_response_due > now - SOOTHE_LATEST,
                ).limit(200)))
        return sum(self._soothe(h, now) for h in due)

    def _soothe(self, handoff: Handoff, now: datetime) -> bool:
        text = self.render("waiting_soothe_template", self._status(handoff, now))
        with self._sessions.begin() as session:
            won = affected_rows(session.execute(update(Handoff).where(
                Handoff.id == handoff.id, Handoff.status == HandoffStatus.queued.value,
                Handoff.soothed_at.is_(None)).values(soothed_at=now, last_ack_at=now)))
            if not won:
                return False
            # A system message: the widget's stream shows it, WeChat relays it through the
            # customer-service message API (the customer sent nothing to reply to).
            self.conversations.add_message_in(session, handoff.conversation_id, "system", text,
                                              [LEAVE_MESSAGE_BUTTON])
        return True

    async def run_forever(self, interval_s: float) -> None:
        await sweep_forever(interval_s, self.soothe_due, log, "waiting-customer sweep")


def _values(room: WaitingRoom, status: QueueStatus) -> dict[str, Any]:
    ahead = status.position - 1
    return {
        "ticket": status.ticket, "position": status.position, "ahead": ahead,
        "position_text": f"您前面还有 {ahead} 位客户" if ahead > 0 else "您是下一位",
        "wait_min": status.expected_wait_min,
        "due": replies.local_time(room.levels, status.due),
        "resume_at": replies.local_time(room.levels, status.resume_at or status.due),
    }


def check_templates(settings: Settings) -> None:
    """A template naming a variable that does not exist fails at start-up, not in a chat."""
    sample = {"ticket": 1, "position": 2, "ahead": 1, "position_text": "您前面还有 1 位客户",
              "wait_min": 3, "due": "12月8日 10:00", "resume_at": "12月8日 09:00"}
    for name in TEMPLATES:
        try:
            getattr(settings, name).format(**sample)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"setting {name} is not a valid template ({exc!r}); "
                             f"it may use {{{'}, {'.join(sample)}}}") from exc
