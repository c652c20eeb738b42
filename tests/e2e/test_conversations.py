"""End-to-end through the real processes: gateway → Rasa server → action server → database."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e


def customer() -> str:
    return f"web-{uuid.uuid4().hex[:8]}"


def texts(reply: dict) -> str:
    return "\n".join(r["text"] for r in reply["replies"])


def decisions(stack, conversation_id: str) -> list[tuple[str, str | None, float | None, list[str] | None]]:
    """The bot's decisions the gateway stored for a conversation (sent by the action server as
    data through Rasa), oldest first."""
    from sqlalchemy import select

    from db.engine import session_factory
    from gateway.conversations.turns import BotTurn

    with session_factory(stack.settings.database_url)() as session:
        turns = session.scalars(select(BotTurn).where(BotTurn.conversation_id == conversation_id)
                                .order_by(BotTurn.id))
        return [(t.decision, t.entry_id, t.confidence, t.offered) for t in turns]


def shown_only_text(reply: dict) -> bool:
    """The customer sees text and buttons, never the decision message."""
    return all(set(r) <= {"text", "buttons"} and r["text"] for r in reply["replies"])


def test_greeting(stack):
    reply = stack.say(customer(), "你好")
    assert reply["state"] == "bot"
    assert "您好" in texts(reply)


def test_faq_question_is_answered_from_the_kb_with_feedback_buttons(stack):
    who = customer()
    reply = stack.say(who, "宽带老是掉线怎么办")
    assert "光猫" in texts(reply) and "10050报修" in texts(reply)  # broadband-006's answer
    buttons = [b for r in reply["replies"] for b in r.get("buttons", [])]
    assert [b["title"] for b in buttons] == ["有帮助", "没帮助"]
    assert shown_only_text(reply)
    [(decision, entry_id, confidence, offered)] = decisions(stack, reply["conversation_id"])
    assert (decision, entry_id, offered) == ("answer", "broadband-006", ["broadband-006"])
    assert 0 < confidence <= 1
    # The mark is stored per entry, for the reports.
    thanks = stack.say(who, buttons[0]["payload"], reply["conversation_id"])
    assert "很高兴" in texts(thanks)


def test_ambiguous_question_is_clarified_and_a_button_resolves_it(stack):
    who = customer()
    reply = stack.say(who, "经常掉线怎么办")  # broadband or calls? both entries are close
    assert "您是不是想问" in texts(reply)
    buttons = [b for r in reply["replies"] for b in r.get("buttons", [])]
    assert len(buttons) >= 2 and buttons[-1]["title"] == "转人工"
    calls = next(b for b in buttons if "通话" in b["title"])
    answer = stack.say(who, calls["payload"], reply["conversation_id"])
    assert answer["state"] == "bot"
    assert "VoLTE" in texts(answer) or "信号" in texts(answer)
    assert shown_only_text(reply) and shown_only_text(answer)
    clarified, answered = decisions(stack, reply["conversation_id"])
    assert clarified[0] == "clarify" and clarified[1] is None and len(clarified[3]) == len(buttons) - 1
    assert answered[0] == "answer" and answered[1] in clarified[3]


def test_two_misses_hand_off_with_the_reason(stack):
    who = customer()
    first = stack.say(who, "帮我订一张明天去北京的机票")
    assert first["state"] == "bot" and "转人工" in texts(first)
    assert shown_only_text(first)
    second = stack.say(who, "附近有什么好吃的餐厅推荐", first["conversation_id"])
    assert second["state"] == "queued"
    # The first miss is a no_answer turn; the second is the handoff, its own record.
    assert [d[0] for d in decisions(stack, first["conversation_id"])] == ["no_answer"]
    record = _record_of(stack, second["conversation_id"])
    assert record["reason"] == "no_answer"


def _record_of(stack, conversation_id: str) -> dict:
    records = stack.agent("GET", "/api/handoffs").json()
    return next(r for r in records if r["conversation_id"] == conversation_id)


def test_human_request_creates_a_complete_escalation_record_and_the_bot_goes_quiet(stack):
    who = customer()
    first = stack.say(who, "光猫上有个红灯一直在闪是什么意思？我电话13812345678")
    assert first["state"] == "bot"
    conv = first["conversation_id"]
    handed = stack.say(who, "转人工", conv)
    assert handed["state"] == "queued"
    assert "工单号" in texts(handed) and "无需重复" in texts(handed)

    assert stack.gateway.get("/api/handoffs").status_code == 401  # agents only
    record = _record_of(stack, conv)
    for field in ("id", "conversation_id", "channel", "customer_id", "customer_profile", "created_at",
                  "reason", "summary", "classification", "sla", "transcript", "owner", "status"):
        assert field in record, field
    assert record["reason"] == "user_request" and record["status"] == "queued"
    assert record["channel"] == "web" and record["customer_id"] == who
    assert "红灯" in record["summary"]["background"]
    assert record["summary"]["bottleneck"]
    # What the bot already tried travels with the record (slot memory → escalation record).
    tried = record["summary"]["bot_tried"]
    assert tried and all({"id", "question", "confidence"} <= set(t) for t in tried)
    assert any(t["id"].startswith("device-") for t in tried)
    for label in ("category", "priority", "complexity", "emotion"):
        assert 0 <= record["classification"][label]["confidence"] <= 1
    assert record["sla"]["first_response_due"] > record["created_at"]
    # PII is masked in the stored transcript.
    transcript = " ".join(m["text"] for m in record["transcript"])
    assert "13812345678" not in transcript and "138****5678" in transcript

    # The bot stays out; the customer hears where they stand, once a minute at most.
    holding = stack.say(who, "请问还要等多久？", conv)
    assert holding["state"] == "queued" and len(holding["replies"]) == 1
    text = holding["replies"][0]["text"]
    assert f"工单号 {record['id']}" in text and "预计等待约" in text
    assert "您是下一位" in text or "您前面还有" in text
    assert stack.say(who, "快点", conv)["replies"] == []
    # A retried handoff (as when the action server retries) finds the same record.
    again = stack.gateway.post("/api/internal/handoffs", headers={"X-Service-Token": stack.service_token},
                               json={"conversation_id": conv, "reason": "user_request"}).json()
    assert again["handoff_id"] == record["id"] and again["created"] is False
    assert len([r for r in stack.agent("GET", "/api/handoffs").json() if r["conversation_id"] == conv]) == 1


def test_agent_reply_reaches_the_customer_and_closing_returns_to_the_bot(stack):
    who = customer()
    conv = stack.say(who, "转人工")["conversation_id"]
    record = _record_of(stack, conv)

    early = stack.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "您好"})
    assert early.status_code == 409  # claim first
    assert stack.agent("POST", f"/api/handoffs/{record['id']}/claim").json()["status"] == "assigned"
    sent = stack.agent("POST", f"/api/conversations/{conv}/agent-messages",
                       json={"text": "您好，我是客服小李，正在为您查询。"})
    assert sent.status_code == 200
    seen = stack.gateway.get(f"/api/channels/web/conversations/{conv}/messages",
                             params={"customer_id": who}).json()
    assert seen[-1]["sender"] == "agent" and "客服小李" in seen[-1]["text"]
    # Other customers cannot read it.
    assert stack.gateway.get(f"/api/channels/web/conversations/{conv}/messages",
                             params={"customer_id": "someone-else"}).status_code == 404

    assert stack.agent("POST", f"/api/handoffs/{record['id']}/resolve").json()["status"] == "resolved"
    assert stack.agent("POST", f"/api/handoffs/{record['id']}/close").json()["status"] == "closed"
    events = stack.agent("GET", f"/api/handoffs/{record['id']}").json()["events"]
    assert [(e["from"], e["to"]) for e in events] == [
        (None, "queued"), ("queued", "assigned"), ("assigned", "in_progress"),
        ("in_progress", "resolved"), ("resolved", "closed")]
    assert all(e["actor"] and e["at"] for e in events)

    after = stack.say(who, "你好")
    assert after["conversation_id"] != conv and after["state"] == "bot"
    assert "您好" in texts(after)


def test_complaint_and_urgent_fault_hand_off_with_priority(stack):
    urgent = stack.say(customer(), "我被诈骗了，刚给骗子转了五千块钱，怎么办")
    assert urgent["state"] == "queued"
    record = _record_of(stack, urgent["conversation_id"])
    assert record["reason"] == "urgent" and record["priority"] == "urgent"

    complaint = stack.say(customer(), "我要投诉你们营业厅的工作人员，态度太差了")
    assert complaint["state"] == "queued"
    assert _record_of(stack, complaint["conversation_id"])["reason"] == "complaint"


def test_rasa_down_gets_an_apology_and_a_human_offer_and_loses_nothing(stack):
    who = customer()
    conv = stack.say(who, "你好")["conversation_id"]
    stack.supervisor.kill("rasa")
    try:
        reply = stack.say(who, "我的话费怎么扣了这么多", conv)
        assert reply["state"] == "bot"
        assert "抱歉" in texts(reply)
        assert reply["replies"][0]["buttons"][0]["payload"] == "/request_human"
        stored = stack.gateway.get(f"/api/channels/web/conversations/{conv}/messages",
                                   params={"customer_id": who}).json()
        assert any(m["sender"] == "customer" and "话费" in m["text"] for m in stored)
        # The human offer works without the bot.
        handed = stack.say(who, "/request_human", conv)
        assert handed["state"] == "queued" and "工单号" in texts(handed)
    finally:
        stack.supervisor.respawn("rasa")
    assert "您好" in texts(stack.say(customer(), "你好"))


def test_gateway_health_and_unknown_conversation(stack):
    assert stack.gateway.get("/health").json()["status"] == "ok"
    response = stack.gateway.post("/api/channels/web/messages",
                                  json={"customer_id": "x", "text": "你好", "conversation_id": "nope"})
    assert response.status_code == 404
    assert httpx.get(f"{stack.settings.rasa_url}/").status_code == 200


def test_action_server_down_gets_an_apology_not_silence(stack):
    who = customer()
    conv = stack.say(who, "你好")["conversation_id"]
    stack.supervisor.kill("actions")
    try:
        reply = stack.say(who, "宽带老是掉线怎么办", conv)
        assert reply["replies"], "the customer must never get silence"
        assert "抱歉" in texts(reply)
        assert any(b["payload"] == "/request_human" for r in reply["replies"] for b in r.get("buttons", []))
        # The human offer works while the action server is down: the gateway hands off itself.
        handed = stack.say(who, "/request_human", conv)
        assert handed["state"] == "queued" and "工单号" in texts(handed)
    finally:
        stack.supervisor.respawn("actions")
    assert "光猫" in texts(stack.say(customer(), "宽带老是掉线怎么办"))
