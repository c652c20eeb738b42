"""A customer waiting for an agent is never met with silence: holding replies with the queue
position and the expected wait (at most one a minute), a soothing message by itself when the
first-response deadline nears, an out-of-hours notice with the time service resumes, and a
"留言" path. Through the gateway's HTTP API with Rasa down for real (port 9), a real database,
and the real background sweep."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import update

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from gateway.handoffs.models import Handoff
from gateway.handoffs.waiting import WaitingRoom

WEB = "/api/channels/web"
LEAVE = {"title": "留言", "payload": "/leave_message"}


def settings_for(url: str, var: Path, **overrides) -> Settings:
    values = dict(database_url=url, var_dir=var, rasa_url="http://127.0.0.1:9",
                  business_open="00:00", business_close="24:00", waiting_sweep_interval_s=0.2)
    values.update(overrides)
    return Settings(**values)


class Customer:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.id = f"wait-{uuid.uuid4().hex[:10]}"
        self.conversation: str | None = None

    def say(self, text: str) -> dict:
        body = {"customer_id": self.id, "text": text}
        if self.conversation:
            body["conversation_id"] = self.conversation
        response = self.client.post(f"{WEB}/messages", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        self.conversation = data["conversation_id"]
        return data

    def queue(self) -> dict:
        data = self.say("转人工")
        assert data["state"] == "queued"
        return data

    def seen(self) -> list[dict]:
        return self.client.get(f"{WEB}/conversations/{self.conversation}/messages",
                               params={"customer_id": self.id}).json()


@pytest.fixture
def gateway(db_url, tmp_path):
    with TestClient(create_app(settings_for(db_url, tmp_path / "var"))) as client:
        yield client


def test_each_message_while_queued_gets_position_and_wait_at_most_once_a_minute(gateway):
    first, second = Customer(gateway), Customer(gateway)
    # The handoff itself already says where each stands.
    assert "您是下一位，预计等待约 3 分钟" in first.queue()["replies"][0]["text"]
    ticket = second.queue()
    assert "您前面还有 1 位客户，预计等待约 6 分钟" in ticket["replies"][0]["text"]
    reply = second.say("柜台的小姑娘态度很差")
    assert reply["state"] == "queued" and len(reply["replies"]) == 1
    holding = reply["replies"][0]
    # Second in line: one customer ahead, 2 × 3 minutes expected, the ticket and the deadline.
    assert "您前面还有 1 位客户" in holding["text"] and "预计等待约 6 分钟" in holding["text"]
    assert "工单号" in holding["text"] and "前回复您" in holding["text"]
    assert holding["buttons"] == [LEAVE]
    ticket_id = re.search(r"工单号 (\d+)", ticket["replies"][0]["text"])[1]
    assert f"工单号 {ticket_id}" in holding["text"]
    # The first in line is next.
    assert "您是下一位" in first.say("还要多久")["replies"][0]["text"]
    # Within the minute: stored, shown to agents, but no second holding reply.
    assert second.say("快点")["replies"] == []
    assert [m["text"] for m in second.seen()][-2:] == [holding["text"], "快点"]
    # A minute later the next message is acknowledged again.
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=True):
        again = second.say("还在吗")["replies"]
    assert len(again) == 1 and "您前面还有 1 位客户" in again[0]["text"]


def test_the_soothing_message_goes_out_by_itself_once_when_the_deadline_nears(db_url, tmp_path):
    # A one-minute first-response target: the deadline is "near" as soon as the case is queued.
    settings = settings_for(db_url, tmp_path / "var", waiting_soothe_before_s=120,
                            sla_first_response_min={"urgent": 1, "high": 1, "normal": 1})
    with TestClient(create_app(settings)) as client:
        customer = Customer(client)
        customer.say("我的宽带连不上")
        customer.queue()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            soothing = [m for m in customer.seen() if m["sender"] == "system"]
            if soothing:
                break
            time.sleep(0.1)
        assert len(soothing) == 1, "no soothing message within 5 s of the deadline nearing"
        assert "久等" in soothing[0]["text"] and "排在第 1 位" in soothing[0]["text"]
        assert soothing[0]["buttons"] == [LEAVE]
        time.sleep(0.6)  # three more sweeps: still once
        assert len([m for m in customer.seen() if m["sender"] == "system"]) == 1


def test_outside_business_hours_the_holding_reply_says_when_service_resumes(service_clock, tmp_path):
    # "Tomorrow" in the service's own zone, on the service's clock (time-machine moves both).
    tomorrow = (datetime.now(ZoneInfo(Settings().business_timezone)) + timedelta(days=1)).weekday()
    settings = settings_for(f"sqlite:///{tmp_path / 'w.sqlite3'}", tmp_path / "var",
                            business_open="09:00", business_close="21:00", business_days=(tomorrow,))
    with TestClient(create_app(settings)) as client:
        customer = Customer(client)
        customer.queue()
        text = customer.say("明天几点能有人回复")["replies"][0]["text"]
    assert "非工作时间" in text and "09:00 恢复" in text and "工单号" in text


def test_a_customer_can_leave_a_message_instead_of_waiting(gateway):
    customer = Customer(gateway)
    customer.queue()
    prompt = customer.say("/leave_message")["replies"]
    assert len(prompt) == 1 and "您可以先离开" in prompt[0]["text"] and "前回复您" in prompt[0]["text"]
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=True):
        receipt = customer.say("我的宽带账号是 LH2024001，晚上 8 点后方便联系")["replies"]
    assert len(receipt) == 1 and receipt[0]["text"].startswith("留言已收到")
    assert "buttons" not in receipt[0]
    # The message itself is in the conversation for the agent, and the record says the
    # customer chose not to wait.
    assert "晚上 8 点后方便联系" in customer.seen()[-2]["text"]
    key = KeyStore(gateway.app.state.sessions).create("agent-wait", Role.agent)
    records = gateway.get("/api/handoffs", headers={"Authorization": f"Bearer {key}"}).json()
    [record] = [r for r in records if r["conversation_id"] == customer.conversation]
    assert record["waiting"]["message_left_at"] and record["waiting"]["last_holding_reply_at"]


def test_the_texts_are_templates_in_the_settings(db_url, tmp_path):
    settings = settings_for(db_url, tmp_path / "var",
                            waiting_ack_template="请稍候，您排在第 {position} 位，约 {wait_min} 分钟。")
    with TestClient(create_app(settings)) as client:
        customer = Customer(client)
        customer.queue()
        assert customer.say("在吗")["replies"][0]["text"] == "请稍候，您排在第 1 位，约 3 分钟。"


def test_a_template_with_an_unknown_variable_fails_at_start_up(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'w.sqlite3'}", tmp_path / "var",
                            waiting_soothe_template="请稍候 {agent_name}")
    with pytest.raises(ValueError, match="waiting_soothe_template"):
        with TestClient(create_app(settings)):
            pass


def test_two_replicas_acknowledging_at_once_send_one_holding_reply(gateway, db_url):
    customer = Customer(gateway)
    customer.queue()
    room: WaitingRoom = gateway.app.state.waiting
    results: list[list] = []
    start = threading.Barrier(4)

    def acknowledge():
        start.wait()
        results.append(room.on_customer_message(customer.conversation, "还要等多久"))

    threads = [threading.Thread(target=acknowledge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]


def test_the_widget_stream_tells_the_waiting_customer_where_they_stand(db_url, tmp_path):
    # Streams that end after 2 s (the browser reconnects): the test reads one whole stream.
    settings = settings_for(db_url, tmp_path / "var", live_stream_max_s=2)
    with TestClient(create_app(settings)) as client:
        customer = Customer(client)
        customer.queue()
        response = client.post(f"{WEB}/messages", json={"customer_id": customer.id, "text": "在吗",
                                                        "conversation_id": customer.conversation})
        token = response.headers["X-Conversation-Token"]
        body = client.get(f"{WEB}/conversations/{customer.conversation}/events", params={"token": token}).text
    queue_events = [json.loads(part.split("data: ", 1)[1]) for part in body.split("\n\n")
                    if part.startswith("event: queue")]
    # One event: nothing about where the customer stands changed during the stream.
    assert len(queue_events) == 1
    assert queue_events[0]["position"] == 1 and queue_events[0]["expected_wait_min"] == 3
    assert queue_events[0]["in_business_hours"] is True and queue_events[0]["resume_at"] is None


def test_the_sweep_skips_cases_whose_customer_left_a_message(db_url, tmp_path):
    settings = settings_for(db_url, tmp_path / "var", waiting_sweep_interval_s=3600)
    with TestClient(create_app(settings)) as client:
        customer = Customer(client)
        customer.queue()
        customer.say("/leave_message")
        sessions = session_factory(db_url)
        with sessions.begin() as session:
            session.execute(update(Handoff).where(Handoff.conversation_id == customer.conversation)
                            .values(first_response_due=utcnow() + timedelta(seconds=30)))
        assert client.app.state.waiting.soothe_due() == 0
        assert not [m for m in customer.seen() if m["sender"] == "system"]
