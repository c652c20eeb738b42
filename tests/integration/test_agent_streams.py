"""The agent console's push channel over HTTP, with a real SQLite database and Rasa down for real:
the queue stream (snapshot, new cases, changes, SLA at risk as time passes), the open case's
stream (record, messages, resuming), and the stream tickets an EventSource opens them with.
Changes mid-stream are written by a second set of services on the same database, as another
gateway replica would write them."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from assist_api.app import create_app
from assist_api.auth import stream_ticket
from assist_api.auth.keys import KeyStore, Principal, Role
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import Handoff, HandoffReason
from gateway.handoffs.service import HandoffService
from tests.support.sse import events

WEB = "/api/channels/web"
STREAM_S = 1.2


class Console:
    def __init__(self, client: TestClient, keys: dict[str, str], settings: Settings):
        self.client, self.keys, self.settings = client, keys, settings
        sessions = session_factory(settings.database_url)
        # Another replica: its own services on the same database.
        self.replica_conversations = ConversationService(sessions)
        self.replica = HandoffService(sessions, settings, self.replica_conversations)

    def as_(self, who: str | None, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ticket(self, who: str = "agent") -> str:
        response = self.as_(who, "POST", "/api/stream-tickets")
        assert response.status_code == 200, response.text
        return response.json()["ticket"]

    def handed_off(self, text: str = "宽带断了好几次") -> tuple[str, dict]:
        """A customer writes, asks for a human: a queued case (through the gateway API)."""
        who = f"web-{uuid.uuid4().hex[:10]}"
        conv = self.client.post(f"{WEB}/messages",
                                json={"customer_id": who, "text": text}).json()["conversation_id"]
        queued = self.client.post(f"{WEB}/messages",
                                  json={"customer_id": who, "text": "转人工", "conversation_id": conv})
        assert queued.json()["state"] == "queued"
        return conv, self.replica.json(self.replica.for_conversation(conv))

    def replica_case(self) -> int:
        """A new case written by the other replica."""
        conv = self.replica_conversations.receive("web", f"web-{uuid.uuid4().hex[:10]}", None, "我的手机号被盗用了")
        return self.replica.create(conv.id, HandoffReason.urgent).handoff.id

    def during_stream(self, at_s: float, action) -> threading.Thread:
        def run():
            time.sleep(at_s)
            action()
        thread = threading.Thread(target=run)
        thread.start()
        return thread


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    var = tmp_path_factory.mktemp("agent-streams")
    url = f"sqlite:///{var / 'app.sqlite3'}"
    settings = Settings(database_url=url, var_dir=var / "var", rasa_url="http://127.0.0.1:9",
                        business_open="00:00", business_close="24:00",
                        live_stream_max_s=STREAM_S, live_poll_interval_s=0.05)
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    client.__enter__()
    store = KeyStore(session_factory(url))
    keys = {"agent": store.create("agent-li", Role.agent), "editor": store.create("ed-wang", Role.editor),
            "gone": store.create("agent-gone", Role.agent)}
    yield Console(client, keys, settings)
    client.__exit__(None, None, None)


# ---- the queue ---------------------------------------------------------------------------------

def test_the_queue_stream_pushes_new_cases_and_changes_as_they_are_stored(console):
    _, waiting = console.handed_off()
    created: list[int] = []

    def another_replica_works():
        created.append(console.replica_case())
        console.replica.transition(waiting["id"], "claim", "agent-wang")

    worker = console.during_stream(0.3, another_replica_works)
    started = time.monotonic()
    response = console.client.get("/api/handoffs/events", params={"status": "queued", "ticket": console.ticket()})
    worker.join()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert time.monotonic() - started < STREAM_S + 1  # the stream ends by itself; the browser reconnects
    got = [(name, data) for name, data, _ in events(response.text)]

    name, snapshot = got[0]
    assert name == "snapshot" and waiting["id"] in [r["id"] for r in snapshot["records"]]
    [new] = [data for name, data in got if name == "new"]
    assert new["id"] == created[0] and new["status"] == "queued" and new["priority"] == "urgent"
    assert ("case", "added", created[0]) in [(n, d["change"], d["record"]["id"]) for n, d in got if n == "case"]
    # Claimed by someone: no longer queued, so it leaves this agent's 排队中 list.
    assert ("gone", {"id": waiting["id"]}) in got


def test_an_unfiltered_queue_stream_shows_the_status_and_owner_change(console):
    _, record = console.handed_off()
    worker = console.during_stream(0.3, lambda: console.replica.transition(record["id"], "claim", "agent-wang"))
    response = console.as_("agent", "GET", "/api/handoffs/events")  # the API key works as well
    worker.join()
    changed = [d["record"] for n, d, _ in events(response.text) if n == "case" and d["change"] == "changed"]
    assert [(r["id"], r["status"], r["owner"]) for r in changed] == [(record["id"], "assigned", "agent-wang")]


def test_a_case_turns_at_risk_on_the_stream_as_its_deadline_nears(console):
    _, record = console.handed_off()
    # The first-response deadline 2 min + 0.4 s away: at risk (the last 120 s, from the
    # settings) in 0.4 s, while the stream is open, with nothing written meanwhile.
    due = utcnow() + timedelta(seconds=console.settings.sla_first_response_at_risk_s + 0.4)
    with session_factory(console.settings.database_url).begin() as session:
        session.execute(update(Handoff).where(Handoff.id == record["id"]).values(first_response_due=due))
    got = events(console.as_("agent", "GET", "/api/handoffs/events", params={"status": "queued"}).text)
    [snapshot] = [d["records"] for n, d, _ in got if n == "snapshot"]
    [before] = [r for r in snapshot if r["id"] == record["id"]]
    assert before["sla"]["state"] == "ok"
    assert before["sla"]["at_risk_from"] == (due - timedelta(seconds=120)).isoformat()
    moved = [d["record"] for n, d, _ in got if n == "case" and d["change"] == "sla"]
    assert [(r["id"], r["sla"]["state"]) for r in moved] == [(record["id"], "at_risk")]
    listed = console.as_("agent", "GET", "/api/handoffs", params={"sla": "at_risk"}).json()
    assert record["id"] in [r["id"] for r in listed]


# ---- the open case -----------------------------------------------------------------------------

def test_the_case_stream_sends_the_record_the_conversation_and_new_messages(console):
    conv, record = console.handed_off("宽带断了好几次")
    console.replica.transition(record["id"], "claim", "agent-li")

    def customer_writes():
        console.client.post(f"{WEB}/messages", json={"customer_id": record["customer_id"], "text": "还要等多久？",
                                                     "conversation_id": conv})
        console.as_("agent", "POST", f"/api/conversations/{conv}/agent-messages", json={"text": "马上为您处理"})

    worker = console.during_stream(0.3, customer_writes)
    response = console.client.get(f"/api/conversations/{conv}/events", params={"ticket": console.ticket()})
    worker.join()
    got = events(response.text)
    names = [n for n, _, _ in got]
    assert names[0] == "record" and got[0][1]["id"] == record["id"] and got[0][1]["owner"] == "agent-li"
    assert [e["to"] for e in got[0][1]["events"]] == ["queued", "assigned"]
    before_ready = [d for n, d, _ in got[:names.index("ready")] if n == "message"]
    after_ready = [d for n, d, _ in got[names.index("ready"):] if n == "message"]
    assert before_ready[0]["text"] == "宽带断了好几次" and before_ready[0]["sender"] == "customer"
    assert [(m["sender"], m["text"]) for m in after_ready] == [("customer", "还要等多久？"), ("agent", "马上为您处理")]
    # The first reply moves the case on: the record is sent again.
    records = [d for n, d, _ in got if n == "record"]
    assert records[-1]["status"] == "in_progress" and records[-1]["sla"]["first_response_at"]

    # A reconnecting browser resumes after the last message it saw.
    seen, last = after_ready[-2]["id"], after_ready[-1]["id"]
    resumed = console.client.get(f"/api/conversations/{conv}/events",
                                 headers={"Authorization": f"Bearer {console.keys['agent']}",
                                          "Last-Event-ID": str(seen)})
    assert [d["id"] for n, d, _ in events(resumed.text) if n == "message"] == [last]


def test_the_case_stream_is_only_for_handed_off_conversations(console):
    conv = console.client.post(f"{WEB}/messages", json={"customer_id": "web-bot-only", "text": "你好"}).json()
    response = console.client.get(f"/api/conversations/{conv['conversation_id']}/events",
                                  params={"ticket": console.ticket()})
    assert response.status_code == 404 and "你好" not in response.text


# ---- tickets -----------------------------------------------------------------------------------

def test_a_stream_ticket_opens_only_the_streams_and_only_while_valid(console):
    conv, _ = console.handed_off()
    secret = console.client.app.state.service_token
    good = console.ticket()

    def queue(ticket: str):
        return console.client.get("/api/handoffs/events", params={"ticket": ticket})

    assert queue(good).status_code == 200
    # Not a credential for anything else.
    assert console.client.get("/api/handoffs", params={"ticket": good}).status_code == 401
    assert console.client.get("/api/handoffs", headers={"Authorization": f"Bearer {good}"}).status_code == 401
    # Expired, forged, tampered or signed by another deployment: refused.
    agent = Principal("agent-li", Role.agent)
    expired = stream_ticket.issue(secret, agent, 60, now=time.time() - 61)
    foreign = stream_ticket.issue("another-secret", agent, 60)
    payload, signature = good.split(".")
    forged = stream_ticket.issue(secret, Principal("agent-li", Role.admin), 60).split(".")[0] + "." + signature
    for bad in (expired, foreign, forged, payload, "x.y", "a" * 300):
        response = queue(bad)
        assert response.status_code == 401, bad
        assert "event:" not in response.text
    # The key behind it revoked: its tickets stop opening streams at once.
    gone = console.ticket("gone")
    assert queue(gone).status_code == 200
    KeyStore(session_factory(console.settings.database_url)).revoke("agent-gone")
    assert queue(gone).status_code == 401
    assert console.client.get(f"/api/conversations/{conv}/events", params={"ticket": gone}).status_code == 401


def test_stream_tickets_and_streams_need_the_agent_role(console):
    assert console.as_(None, "POST", "/api/stream-tickets").status_code == 401
    assert console.as_("editor", "POST", "/api/stream-tickets").status_code == 403
    editor_ticket = stream_ticket.issue(console.client.app.state.service_token, Principal("ed-wang", Role.editor), 60)
    assert console.client.get("/api/handoffs/events", params={"ticket": editor_ticket}).status_code == 403
    assert console.as_("editor", "GET", "/api/handoffs/events").status_code == 403
    assert console.client.get("/api/handoffs/events").status_code == 401
