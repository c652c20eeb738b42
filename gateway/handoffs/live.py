"""Server-sent events for the agent console: the handoff queue and the open case.

As with the widget's stream (gateway/conversations/live.py), everything comes from the
database on every poll, so an agent connected to one gateway replica sees cases and messages
stored through another. A stream ends after a while and the browser reconnects: the queue
stream starts again with a snapshot, the case stream where it stopped (`Last-Event-ID`).
"""

from __future__ import annotations

from datetime import datetime

from db.base import utcnow
from gateway.conversations.live import event
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import Handoff
from gateway.handoffs.service import HandoffService, sla_state

# status, owner, updated_at, first_response_at
Fingerprint = tuple[str, str | None, datetime, datetime | None]


def _fingerprint(h: Handoff) -> Fingerprint:
    """What the console shows of a case that a write can change."""
    return h.status, h.owner, h.updated_at, h.first_response_at


class QueueWatch:
    """One queue stream: a `snapshot` of the cases the filter lists, then `case` for every
    listed case that is added or changed (or whose SLA state moves as time passes), `gone` for
    one that no longer matches the filter and `new` for every newly created case, listed or not."""

    def __init__(self, handoffs: HandoffService, status: str | None, owner: str | None) -> None:
        self.handoffs, self.status, self.owner = handoffs, status, owner
        self.mark: tuple[int, int, datetime | None] | None = None
        self.newest = 0
        self.rows: dict[int, Handoff] = {}
        self.sent: dict[int, Fingerprint] = {}
        self.sla: dict[int, str] = {}

    def _list(self) -> list[Handoff]:
        return self.handoffs.list(self.status, None, None, self.owner)

    def step(self) -> list[str]:
        now = utcnow()
        if self.mark is None:
            self.mark = self.handoffs.change_mark()
            rows = self._list()
            self.newest = max([self.mark[0], *(h.id for h in rows)])
            self._remember(rows, now)
            return [event("snapshot", {"records": [self.handoffs.json(h, now) for h in rows]})]
        out: list[str] = []
        mark = self.handoffs.change_mark()
        if mark != self.mark:
            self.mark = mark
            rows = self._list()
            listed = {h.id for h in rows}
            out += [event("gone", {"id": gone}) for gone in self.rows if gone not in listed]
            for h in rows:
                change = ("added" if h.id not in self.sent else "changed" if _fingerprint(h) != self.sent[h.id]
                          else "sla" if sla_state(h, now, self.handoffs.levels) != self.sla[h.id] else None)
                if change:
                    out.append(event("case", {"change": change, "record": self.handoffs.json(h, now)}))
            created = self.handoffs.created_after(self.newest)
            out += [event("new", self.handoffs.json(h, now)) for h in created]
            self.newest = max([self.newest, mark[0], *(h.id for h in created)])
            self._remember(rows, now)
        else:  # nothing written: only the SLA states move, with the clock
            moved = [h for h in self.rows.values() if sla_state(h, now, self.handoffs.levels) != self.sla[h.id]]
            out += [event("case", {"change": "sla", "record": self.handoffs.json(h, now)}) for h in moved]
            self._remember(list(self.rows.values()), now)
        return out

    def _remember(self, rows: list[Handoff], now: datetime) -> None:
        self.rows = {h.id: h for h in rows}
        self.sent = {h.id: _fingerprint(h) for h in rows}
        self.sla = {h.id: sla_state(h, now, self.handoffs.levels) for h in rows}


class CaseWatch:
    """One open case's stream: `record` (the escalation record with its events) first and
    whenever it changes, `message` (id = the message id) for every message after `after`, then
    for new ones as they are stored, and `ready` once the messages stored before the stream
    opened are all sent (what comes after it is new)."""

    def __init__(self, handoffs: HandoffService, conversations: ConversationService,
                 conversation_id: str, after: int) -> None:
        self.handoffs, self.conversations = handoffs, conversations
        self.conversation_id, self.after = conversation_id, after
        self.seen: tuple[str, str | None, datetime, datetime | None, str] | None = None
        self.ready = False

    def step(self) -> list[str] | None:
        h = self.handoffs.for_conversation(self.conversation_id)
        if h is None:
            return None
        out: list[str] = []
        seen = (*_fingerprint(h), sla_state(h, utcnow(), self.handoffs.levels))
        if seen != self.seen:
            self.seen = seen
            out.append(event("record", self.handoffs.record(h.id)))
        for row in self.conversations.messages(self.conversation_id, self.after):
            self.after = row.id
            out.append(event("message", row.__dict__, row.id))
        if not self.ready:
            self.ready = True
            out.append(event("ready", {"after": self.after}))
        return out
