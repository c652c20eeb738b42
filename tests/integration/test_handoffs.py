"""Escalation records (问题升级单) on SQLite and on a real PostgreSQL: creation with every field
the design asks for, idempotency (also under concurrency), the audited lifecycle, the queue."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from common.labels import CLASSIFICATION, load_labels
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.models import Conversation
from gateway.conversations.service import ConversationNotFound, ConversationService
from gateway.handoffs.models import Handoff, HandoffEvent, HandoffReason
from gateway.handoffs.service import HandoffConflict, HandoffNotFound, HandoffService

# The classification's label sets, from their one source.
LABELS = {kind: set(load_labels().values(kind)) for kind in CLASSIFICATION}


@dataclass
class Services:
    url: str
    settings: Settings
    conversations: ConversationService
    handoffs: HandoffService

    def conversation(self, customer: str, *messages: tuple[str, str]) -> str:
        conv = self.conversations.resolve("web", customer, None)
        for sender, text in messages:
            buttons = [{"title": "转人工", "payload": "/request_human"}] if sender == "bot" else None
            self.conversations.add_message(conv.id, sender, text, buttons)
        return conv.id

    def state(self, conversation_id: str) -> str:
        return self.conversations.get(conversation_id).state

    def count(self, model, *where) -> int:
        with session_factory(self.url)() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))


def build(url: str, tmp_path, **overrides) -> Services:
    upgrade(url)
    sessions = session_factory(url)
    settings = Settings(var_dir=tmp_path / "var", **{"business_open": "00:00", "business_close": "24:00",
                                                     **overrides})
    conversations = ConversationService(sessions)
    return Services(url, settings, conversations, HandoffService(sessions, settings, conversations))


@pytest.fixture
def svc(db_url, tmp_path) -> Services:
    return build(db_url, tmp_path)


def snapshot(svc: Services, handoff_id: int) -> tuple:
    h = svc.handoffs.get(handoff_id)
    events = [(e.from_status, e.to_status, e.actor) for e in svc.handoffs.events(handoff_id)]
    return h.status, h.owner, h.updated_at, h.first_response_at, events, svc.state(h.conversation_id)


# ---- creation --------------------------------------------------------------------------------

def test_a_new_record_has_every_field_of_the_escalation_record(svc):
    conv = svc.conversation(
        "web-zhang",
        ("customer", "光猫上的红灯一直在闪，上不了网，我电话13812345678"),
        ("bot", "您是不是想问：光猫红灯闪烁怎么办？"),
        ("customer", "/affirm"),  # a button click, not the customer's words
        ("bot", "可以尝试重启光猫。"),
        ("customer", "重启过了还是不行，身份证110101199003071234"),
    )
    tried = [{"id": "broadband-006", "question": "宽带老是掉线怎么办", "confidence": 0.41},
             {"id": "device-003", "question": "光猫红灯闪烁", "confidence": 0.38}]
    before = utcnow()

    outcome = svc.handoffs.create(conv, HandoffReason.no_answer, tried, "broadband", 0.81)

    h = outcome.handoff
    assert outcome.created is True and outcome.queue_position == 1 and outcome.in_business_hours is True
    assert (h.conversation_id, h.channel, h.customer_id) == (conv, "web", "web-zhang")
    assert isinstance(h.customer_profile, dict)
    assert before <= h.created_at <= utcnow()
    assert h.reason == "no_answer"
    # Background: the customer's own words, masked, without the button payload.
    assert h.summary["background"] == ("光猫上的红灯一直在闪，上不了网，我电话138****5678\n"
                                       "重启过了还是不行，身份证110101********1234")
    assert h.summary["bot_tried"] == tried
    assert h.summary["bottleneck"] == "知识库连续两次没有找到合适答案"
    assert h.classification["category"] == {"label": "broadband", "confidence": 0.81}
    for name, allowed in LABELS.items():
        assert h.classification[name]["label"] in allowed
        assert 0 <= h.classification[name]["confidence"] <= 1
    assert h.priority == h.classification["priority"]["label"]
    minutes = svc.settings.sla_first_response_min[h.priority]
    assert h.first_response_due == h.created_at + timedelta(minutes=minutes)
    complexity = h.classification["complexity"]["label"]
    assert h.resolution_due == h.created_at + timedelta(hours=svc.settings.sla_resolution_hours[complexity])
    assert h.first_response_at is None and h.owner is None
    assert [m["sender"] for m in h.transcript] == ["customer", "bot", "customer", "bot", "customer"]
    transcript = "\n".join(m["text"] for m in h.transcript)
    assert "13812345678" not in transcript and "138****5678" in transcript
    assert "110101199003071234" not in transcript and "110101********1234" in transcript
    assert all(m["at"] for m in h.transcript)
    assert h.status == "queued"
    assert svc.state(conv) == "queued"
    events = svc.handoffs.events(h.id)
    assert [(e.from_status, e.to_status, e.actor, e.note) for e in events] == [(None, "queued", "bot", "no_answer")]
    assert events[0].at == h.created_at


@pytest.mark.parametrize(
    ("reason", "text", "priority", "resolution_hours"),
    [
        (HandoffReason.user_request, "想咨询一下套餐", "normal", 24),
        (HandoffReason.urgent, "手机号被盗了，有人在用我的号转账", "urgent", 72),
        (HandoffReason.complaint, "我要投诉营业厅的工作人员", "high", 72),
    ],
)
def test_priority_and_reason_set_the_deadlines(svc, reason, text, priority, resolution_hours):
    conv = svc.conversation(f"web-{reason}", ("customer", text))
    h = svc.handoffs.create(conv, reason).handoff
    assert h.priority == priority
    assert h.first_response_due == h.created_at + timedelta(minutes={"urgent": 3, "high": 5, "normal": 10}[priority])
    assert h.resolution_due == h.created_at + timedelta(hours=resolution_hours)
    assert h.classification["is_complaint"] is (reason == HandoffReason.complaint)
    assert h.summary["bottleneck"] and h.summary["background"] == text


def test_bottlenecks_say_why_the_bot_stopped_and_differ_by_reason(svc):
    seen = set()
    for reason in HandoffReason:
        conv = svc.conversation(f"web-b-{reason}", ("customer", "有问题"))
        seen.add(svc.handoffs.create(conv, reason).handoff.summary["bottleneck"])
    assert len(seen) == len(HandoffReason) and all(seen)


def test_creating_twice_returns_the_same_record(svc):
    conv = svc.conversation("web-retry", ("customer", "转人工吧"))
    first = svc.handoffs.create(conv, HandoffReason.user_request)
    again = svc.handoffs.create(conv, HandoffReason.complaint, [{"id": "x", "question": "q", "confidence": 0.1}])
    assert first.created is True and again.created is False
    assert again.handoff.id == first.handoff.id
    assert again.handoff.reason == "user_request" and again.handoff.summary["bot_tried"] == []
    assert again.queue_position == 1
    assert svc.count(Handoff, Handoff.conversation_id == conv) == 1
    assert len(svc.handoffs.events(first.handoff.id)) == 1


def test_a_concurrent_double_create_yields_one_record(svc):
    for attempt in range(3):
        conv = svc.conversation(f"web-race-{attempt}", ("customer", "人工客服在吗"))
        barrier = threading.Barrier(2)
        outcomes, errors = [], []

        def create(conv: str, barrier: threading.Barrier, outcomes: list, errors: list) -> None:
            barrier.wait()
            try:
                outcomes.append(svc.handoffs.create(conv, HandoffReason.user_request))
            except Exception as exc:  # noqa: BLE001 - any failure in the thread is reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(conv, barrier, outcomes, errors)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert len(outcomes) == 2
        assert outcomes[0].handoff.id == outcomes[1].handoff.id
        assert sorted(o.created for o in outcomes) == [False, True]
        assert svc.count(Handoff, Handoff.conversation_id == conv) == 1
        assert svc.count(HandoffEvent, HandoffEvent.handoff_id == outcomes[0].handoff.id) == 1
        assert svc.state(conv) == "queued"


def test_creating_for_an_unknown_conversation_fails_and_stores_nothing(svc):
    with pytest.raises(ConversationNotFound):
        svc.handoffs.create("0" * 32, HandoffReason.user_request)
    assert svc.count(Handoff) == 0


def test_outside_business_hours_the_deadline_counts_from_the_next_opening(service_clock, db_url, tmp_path):
    tz = ZoneInfo(Settings().business_timezone)  # the service's zone, as the code under test uses
    today = datetime.now(tz).date()
    business_day = today + timedelta(days=3)  # the only business day: still 3 days ahead if midnight passes
    svc = build(db_url, tmp_path, business_open="09:00", business_close="21:00",
                business_days=(business_day.weekday(),))
    conv = svc.conversation("web-night", ("customer", "宽带装机预约"))
    outcome = svc.handoffs.create(conv, HandoffReason.user_request)
    assert outcome.in_business_hours is False
    opening = datetime(business_day.year, business_day.month, business_day.day, 9, 0, tzinfo=tz)
    assert outcome.handoff.first_response_due == opening + timedelta(minutes=10)


# ---- lifecycle -------------------------------------------------------------------------------

def test_lifecycle_claim_reply_resolve_close_is_audited_and_moves_the_conversation(svc):
    conv = svc.conversation("web-life", ("customer", "流量用超了"))
    h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
    assert svc.state(conv) == "queued"

    claimed = svc.handoffs.transition(h.id, "claim", "alice")
    assert (claimed.status, claimed.owner) == ("assigned", "alice")
    assert svc.state(conv) == "agent"
    assert svc.handoffs.queue_position(h.id) is None

    svc.handoffs.record_agent_reply(h.id, "alice")  # the first reply starts the work
    started = svc.handoffs.get(h.id)
    assert started.status == "in_progress" and started.first_response_at is not None
    assert started.first_response_at <= started.first_response_due  # answered in time
    first_response = started.first_response_at
    svc.handoffs.record_agent_reply(h.id, "alice")  # a second reply changes neither
    assert svc.handoffs.get(h.id).first_response_at == first_response
    assert svc.handoffs.get(h.id).status == "in_progress"
    assert svc.state(conv) == "agent"

    assert svc.handoffs.transition(h.id, "resolve", "alice").status == "resolved"
    assert svc.state(conv) == "agent"
    closed = svc.handoffs.transition(h.id, "close", "alice", note="客户确认已解决")
    assert closed.status == "closed" and closed.owner == "alice"
    assert svc.state(conv) == "closed"
    assert svc.conversations.get(conv).closed_at is not None

    events = svc.handoffs.events(h.id)
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        (None, "queued", "bot"),
        ("queued", "assigned", "alice"),
        ("assigned", "in_progress", "alice"),
        ("in_progress", "resolved", "alice"),
        ("resolved", "closed", "alice"),
    ]
    assert events[-1].note == "客户确认已解决"
    stamps = [e.at for e in events]
    assert all(at.tzinfo is not None for at in stamps)
    assert stamps == sorted(stamps) and stamps[-1] <= utcnow()


def test_an_agent_must_own_the_record_to_reply(svc):
    conv = svc.conversation("web-own", ("customer", "退费"))
    h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
    before = snapshot(svc, h.id)
    with pytest.raises(HandoffConflict):
        svc.handoffs.record_agent_reply(h.id, "alice")  # nobody claimed it yet
    assert snapshot(svc, h.id) == before
    svc.handoffs.transition(h.id, "claim", "alice")
    claimed = snapshot(svc, h.id)
    with pytest.raises(HandoffConflict):
        svc.handoffs.record_agent_reply(h.id, "bob")
    assert snapshot(svc, h.id) == claimed


@pytest.mark.parametrize(
    ("setup", "action", "actor"),
    [
        ([], "close", "alice"),  # a queued record cannot be closed
        ([], "resolve", "alice"),
        ([], "reopen", "alice"),
        ([("claim", "alice")], "claim", "alice"),  # claim twice
        ([("claim", "alice")], "claim", "bob"),
        ([("claim", "alice")], "resolve", "bob"),  # only the owner resolves
        ([("claim", "alice")], "close", "bob"),
        ([("claim", "alice"), ("resolve", "alice")], "resolve", "alice"),
        ([("claim", "alice"), ("resolve", "alice"), ("close", "alice")], "close", "alice"),
        ([("claim", "alice"), ("resolve", "alice"), ("close", "alice")], "claim", "bob"),
    ],
)
def test_invalid_transitions_conflict_and_change_nothing(svc, setup, action, actor):
    conv = svc.conversation("web-bad", ("customer", "话费"))
    h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
    for step, who in setup:
        svc.handoffs.transition(h.id, step, who)
    before = snapshot(svc, h.id)
    with pytest.raises(HandoffConflict):
        svc.handoffs.transition(h.id, action, actor)
    assert snapshot(svc, h.id) == before


def test_reopen_brings_a_closed_record_back_to_its_owner(svc):
    conv = svc.conversation("web-reopen", ("customer", "宽带又断了"))
    h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
    for step in ("claim", "resolve", "close"):
        svc.handoffs.transition(h.id, step, "alice")
    assert svc.state(conv) == "closed"

    reopened = svc.handoffs.transition(h.id, "reopen", "alice", note="客户反馈仍未解决")
    assert (reopened.status, reopened.owner) == ("in_progress", "alice")
    assert svc.state(conv) == "agent"
    assert svc.conversations.get(conv).closed_at is None
    last = svc.handoffs.events(h.id)[-1]
    assert (last.from_status, last.to_status, last.actor, last.note) == ("closed", "in_progress", "alice",
                                                                          "客户反馈仍未解决")
    # …and it can be finished again.
    assert svc.handoffs.transition(h.id, "resolve", "alice").status == "resolved"
    assert svc.handoffs.transition(h.id, "reopen", "alice").status == "in_progress"
    assert svc.handoffs.transition(h.id, "close", "alice").status == "closed"
    assert svc.state(conv) == "closed"
    assert len(svc.handoffs.events(h.id)) == 8


def test_unknown_records_are_not_found(svc):
    with pytest.raises(HandoffNotFound):
        svc.handoffs.get(4242)
    with pytest.raises(HandoffNotFound):
        svc.handoffs.transition(4242, "claim", "alice")


def test_concurrent_claims_have_exactly_one_winner(svc, request):
    for attempt in range(5):
        conv = svc.conversation(f"web-claim-{attempt}", ("customer", "查一下话费"))
        h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
        barrier = threading.Barrier(2)
        won, lost = [], []

        def claim(agent: str, handoff_id: int, barrier: threading.Barrier, won: list, lost: list) -> None:
            barrier.wait()
            try:
                svc.handoffs.transition(handoff_id, "claim", agent)
                won.append(agent)
            except HandoffConflict:
                lost.append(agent)

        threads = [threading.Thread(target=claim, args=(agent, h.id, barrier, won, lost)) for agent in ("alice", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(won) == 1 and len(lost) == 1, (won, lost)
        assert svc.handoffs.get(h.id).owner == won[0]
        assert [e.to_status for e in svc.handoffs.events(h.id)] == ["queued", "assigned"]


# ---- the queue -------------------------------------------------------------------------------

def test_queue_is_ordered_by_priority_then_age(svc):
    def create(customer, reason, text):
        conv = svc.conversation(customer, ("customer", text))
        return svc.handoffs.create(conv, reason)

    normal_old = create("web-q1", HandoffReason.user_request, "咨询套餐")
    urgent = create("web-q2", HandoffReason.urgent, "号码被盗了")
    high = create("web-q3", HandoffReason.complaint, "我要投诉")
    normal_new = create("web-q4", HandoffReason.user_request, "咨询宽带")
    # The position told to each customer when their record was made.
    assert [o.queue_position for o in (normal_old, urgent, high, normal_new)] == [1, 1, 2, 4]
    ids = [o.handoff.id for o in (urgent, high, normal_old, normal_new)]
    assert [svc.handoffs.queue_position(i) for i in ids] == [1, 2, 3, 4]
    assert [h.id for h in svc.handoffs.list(status="queued")] == ids
    assert svc.handoffs.queued_count() == 4

    svc.handoffs.transition(urgent.handoff.id, "claim", "alice")
    assert [svc.handoffs.queue_position(i) for i in ids] == [None, 1, 2, 3]
    assert svc.handoffs.queued_count() == 3


def test_list_filters_by_status_and_priority(svc):
    made = {}
    for customer, reason in (("web-l1", HandoffReason.user_request), ("web-l2", HandoffReason.urgent),
                             ("web-l3", HandoffReason.user_request), ("web-l4", HandoffReason.complaint)):
        conv = svc.conversation(customer, ("customer", "你好，有个问题"))
        made[customer] = svc.handoffs.create(conv, reason).handoff.id
    svc.handoffs.transition(made["web-l3"], "claim", "alice")
    svc.handoffs.transition(made["web-l4"], "claim", "bob")
    svc.handoffs.transition(made["web-l4"], "resolve", "bob")

    def ids(**filters):
        return {h.id for h in svc.handoffs.list(**filters)}

    assert ids() == set(made.values())
    assert ids(status="queued") == {made["web-l1"], made["web-l2"]}
    assert ids(status="assigned") == {made["web-l3"]}
    assert ids(status="resolved") == {made["web-l4"]}
    assert ids(status="closed") == set()
    assert ids(priority="urgent") == {made["web-l2"]}
    assert ids(priority="normal") == {made["web-l1"], made["web-l3"]}
    assert ids(status="queued", priority="normal") == {made["web-l1"]}
    assert ids(status="assigned", priority="urgent") == set()


# ---- conversations ---------------------------------------------------------------------------

def test_a_closed_conversation_gives_way_to_a_new_one_and_ids_are_per_customer(svc):
    conv = svc.conversation("web-conv", ("customer", "转人工"))
    assert svc.conversations.resolve("web", "web-conv", None).id == conv
    assert svc.conversations.resolve("web", "web-conv", conv).id == conv
    with pytest.raises(ConversationNotFound):
        svc.conversations.resolve("web", "someone-else", conv)
    h = svc.handoffs.create(conv, HandoffReason.user_request).handoff
    for step in ("claim", "close"):
        svc.handoffs.transition(h.id, step, "alice")
    fresh = svc.conversations.resolve("web", "web-conv", conv)
    assert fresh.id != conv and fresh.state == "bot"
    assert svc.count(Conversation, Conversation.customer_id == "web-conv") == 2
    # The customer's latest record is still found from the new conversation.
    assert svc.handoffs.latest_for_customer_of(fresh.id).id == h.id
