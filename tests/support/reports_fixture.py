"""A hand-checked fixture day for the report metrics (2026-10-12, Asia/Shanghai).

Ten conversations that day (c1–c10), one the evening before (c0) and one the morning after
(c11), so the 72-hour repeat-contact look-ahead crosses the range's edges. The expected values
in tests/integration/test_reports_metrics.py were worked out by hand from the table below.

| conv | channel | customer | local time | what happened |
|---|---|---|---|---|
| c0  | web    | B | 10-11 23:00 | answered (outside the range) |
| c1  | web    | A | 10:00 | answered billing-001, 有帮助 |
| c2  | web    | B | 10:05 | answered plan-001 |
| c3  | wechat | C | 10:10 | answered billing-001, 没帮助 |
| c4  | web    | D | 10:20 | clarify, miss → handoff no_answer, normal, broadband; reply 10:25 (due 10:30); |
|     |        |   |       | resolved 11:00, closed 11:05; CSAT 5 |
| c5  | web    | E | 10:30 | handoff user_request, high, billing; reply 10:40 (due 10:35, breached); |
|     |        |   |       | resolved 12:00, reopened 12:10, resolved 13:00, closed 13:10; CSAT 2 |
| c6  | wechat | F | 11:00 | handoff complaint, high, service; reply 11:03 (due 11:05); in progress |
| c7  | web    | G | 11:30 | handoff urgent, urgent, security; no reply (due 11:33, breached); queued |
| c8  | web    | H | 12:00 | greeting only |
| c9  | web    | A | 15:00 | answered billing-002 (A's second contact: c1 is a repeat contact) |
| c10 | wechat | I | 16:00 | handoff emotion, normal, network; reply 16:05 (due 16:10); |
|     |        |   |       | resolved 17:00, closed 17:05; no CSAT |
| c11 | wechat | I | 10-13 09:00 | answered (outside the range; makes c10 a repeat contact) |

"now" is 2026-10-12 20:00 local.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.csat import CsatRating
from gateway.conversations.models import AnswerFeedback, Conversation, Message
from gateway.conversations.turns import BotTurn
from gateway.handoffs.models import Handoff, HandoffEvent
from kb.store import KBStore

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 10, 12)
NOW = datetime(2026, 10, 12, 20, 0, tzinfo=TZ)

ENTRIES = {
    "billing-001": ("话费怎么查？", "billing", None),
    "billing-002": ("怎么开发票？", "billing", date(2026, 9, 30)),  # review overdue
    "plan-001": ("怎么换套餐？", "plan", None),
}


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


def _conv(cid: str, channel: str, customer: str, when: datetime, state: str = "bot") -> Conversation:
    return Conversation(id=cid, channel=channel, customer_id=customer, state=state, customer_profile={},
                        created_at=when, updated_at=when)


def _handoff(cid, channel, customer, when, reason, priority, category, status, reply_at, due_min,
             is_complaint=False, resolution_h=24):
    return Handoff(conversation_id=cid, channel=channel, customer_id=customer, customer_profile={},
                   created_at=when, updated_at=when, reason=reason, summary={"background": "", "bot_tried": [],
                                                                            "bottleneck": ""},
                   classification={"category": {"label": category, "confidence": 0.9},
                                   "priority": {"label": priority, "confidence": 0.9},
                                   "is_complaint": is_complaint},
                   priority=priority, first_response_due=when + timedelta(minutes=due_min),
                   resolution_due=when + timedelta(hours=resolution_h), first_response_at=reply_at,
                   transcript=[], owner="agent-li" if reply_at else None, status=status)


def build(db_url: str) -> None:
    upgrade(db_url)
    store = KBStore(db_url)
    for entry_id, (question, category, review_due) in ENTRIES.items():
        store.create(entry_id, {"question": question, "answer": "答案见营业厅。", "category": category,
                                "review_due": review_due}, actor="fixture", status="published")
    sessions = session_factory(db_url)
    with sessions.begin() as s:
        convs = [
            _conv("c0", "web", "B", at(23, 0, date(2026, 10, 11))),
            _conv("c1", "web", "A", at(10, 0)), _conv("c2", "web", "B", at(10, 5)),
            _conv("c3", "wechat", "C", at(10, 10)), _conv("c4", "web", "D", at(10, 20), "closed"),
            _conv("c5", "web", "E", at(10, 30), "closed"), _conv("c6", "wechat", "F", at(11, 0), "agent"),
            _conv("c7", "web", "G", at(11, 30), "queued"), _conv("c8", "web", "H", at(12, 0)),
            _conv("c9", "web", "A", at(15, 0)), _conv("c10", "wechat", "I", at(16, 0), "closed"),
            _conv("c11", "wechat", "I", at(9, 0, date(2026, 10, 13))),
        ]
        s.add_all(convs)
        s.flush()
        s.add(Message(conversation_id="c8", sender="customer", text="你好", created_at=at(12, 0)))
        for cid, decision, entry, when in (
            ("c0", "answer", "plan-001", at(23, 1, date(2026, 10, 11))),
            ("c1", "answer", "billing-001", at(10, 1)), ("c2", "answer", "plan-001", at(10, 6)),
            ("c3", "answer", "billing-001", at(10, 11)), ("c4", "clarify", None, at(10, 18)),
            ("c4", "no_answer", None, at(10, 19)), ("c9", "answer", "billing-002", at(15, 1)),
            ("c11", "answer", "plan-001", at(9, 1, date(2026, 10, 13))),
        ):
            s.add(BotTurn(conversation_id=cid, decision=decision, entry_id=entry, created_at=when))
        s.add(AnswerFeedback(conversation_id="c1", entry_id="billing-001", helpful=True, created_at=at(10, 2)))
        s.add(AnswerFeedback(conversation_id="c3", entry_id="billing-001", helpful=False, created_at=at(10, 12)))
        h = {
            "c4": _handoff("c4", "web", "D", at(10, 20), "no_answer", "normal", "broadband", "closed", at(10, 25), 10),
            "c5": _handoff("c5", "web", "E", at(10, 30), "user_request", "high", "billing", "closed", at(10, 40), 5),
            "c6": _handoff("c6", "wechat", "F", at(11, 0), "complaint", "high", "service", "in_progress",
                           at(11, 3), 5, is_complaint=True, resolution_h=72),
            "c7": _handoff("c7", "web", "G", at(11, 30), "urgent", "urgent", "security", "queued", None, 3),
            "c10": _handoff("c10", "wechat", "I", at(16, 0), "emotion", "normal", "network", "closed", at(16, 5), 10),
        }
        s.add_all(h.values())
        s.flush()
        events = {
            "c4": [(None, "queued", at(10, 20)), ("queued", "assigned", at(10, 22)),
                   ("assigned", "in_progress", at(10, 25)), ("in_progress", "resolved", at(11, 0)),
                   ("resolved", "closed", at(11, 5))],
            "c5": [(None, "queued", at(10, 30)), ("queued", "assigned", at(10, 38)),
                   ("assigned", "in_progress", at(10, 40)), ("in_progress", "resolved", at(12, 0)),
                   ("resolved", "in_progress", at(12, 10)), ("in_progress", "resolved", at(13, 0)),
                   ("resolved", "closed", at(13, 10))],
            "c6": [(None, "queued", at(11, 0)), ("queued", "assigned", at(11, 1)),
                   ("assigned", "in_progress", at(11, 3))],
            "c7": [(None, "queued", at(11, 30))],
            "c10": [(None, "queued", at(16, 0)), ("queued", "assigned", at(16, 2)),
                    ("assigned", "in_progress", at(16, 5)), ("in_progress", "resolved", at(17, 0)),
                    ("resolved", "closed", at(17, 5))],
        }
        for cid, rows in events.items():
            for frm, to, when in rows:
                s.add(HandoffEvent(handoff_id=h[cid].id, from_status=frm, to_status=to, actor="agent-li", at=when))
        s.add(CsatRating(conversation_id="c4", handoff_id=h["c4"].id, agent_id="agent-li", score=5,
                         created_at=at(11, 6)))
        s.add(CsatRating(conversation_id="c5", handoff_id=h["c5"].id, agent_id="agent-li", score=2,
                         created_at=at(13, 11)))
