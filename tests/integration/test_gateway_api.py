"""The gateway over HTTP with Rasa down for real (port 9: nothing listens), a real database and
real API keys: customer messages, handoff, the agents' endpoints and their credentials, the
internal API, and the whole agent flow as the customer sees it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import get_engine, session_factory
from db.migrate import upgrade
from tests.support.gateway import WEB, customer, open_gateway

APOLOGY_BUTTON = [{"title": "转人工", "payload": "/request_human"}]
SH = ZoneInfo(Settings().business_timezone)  # the service's zone, as the code under test uses


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    """One gateway on SQLite for the module; tests keep apart by using their own customers."""
    var = tmp_path_factory.mktemp("gateway")
    client, gateway = open_gateway(f"sqlite:///{var / 'app.sqlite3'}", var / "var")
    yield gateway
    client.__exit__(None, None, None)


@pytest.fixture
def gw_any(db_url, tmp_path):
    """A gateway on each backend (SQLite and PostgreSQL)."""
    client, gateway = open_gateway(db_url, tmp_path / "var")
    yield gateway
    client.__exit__(None, None, None)


# ---- customers, with Rasa down -----------------------------------------------------------------

def test_rasa_down_the_message_is_stored_masked_and_answered_with_a_human_offer(gw):
    who = customer()
    reply = gw.say(who, "我的手机13812345678，这个月话费怎么扣了这么多")
    assert reply["state"] == "bot"
    assert len(reply["replies"]) == 1
    assert "抱歉" in reply["replies"][0]["text"]
    assert reply["replies"][0]["buttons"] == APOLOGY_BUTTON

    stored = gw.seen(who, reply["conversation_id"]).json()
    assert [(m["sender"], m["text"]) for m in stored] == [
        ("customer", "我的手机138****5678，这个月话费怎么扣了这么多"),
        ("bot", reply["replies"][0]["text"]),
    ]
    assert stored[1]["buttons"] == APOLOGY_BUTTON
    raw = gw.rows("SELECT text FROM messages WHERE conversation_id = :c", c=reply["conversation_id"])
    assert raw and all("13812345678" not in row.text for row in raw)


def test_a_customer_keeps_one_conversation_until_it_is_closed(gw):
    who = customer()
    first = gw.say(who, "你好")
    second = gw.say(who, "在吗")  # no id given: the customer's open conversation
    third = gw.say(who, "还在吗", first["conversation_id"])
    assert first["conversation_id"] == second["conversation_id"] == third["conversation_id"]
    assert len(gw.seen(who, first["conversation_id"]).json()) == 6


@pytest.mark.parametrize("ask", ["/request_human", "转人工", " 转人工 "])
def test_asking_for_a_human_creates_a_handoff_and_queues_the_conversation(gw, ask):
    who = customer()
    conv = gw.say(who, "光猫红灯一直闪，我电话13812345678")["conversation_id"]
    handed = gw.say(who, ask, conv)
    assert handed["conversation_id"] == conv and handed["state"] == "queued"
    record = gw.record_of(conv)
    [message] = handed["replies"]
    assert f"工单号 {record['id']}" in message["text"] and "无需重复" in message["text"]
    assert "buttons" not in message
    due = gw.client.app.state.handoffs.get(record["id"]).first_response_due.astimezone(SH)
    assert due.strftime("%H:%M") in message["text"]  # when an agent will answer, in local time
    assert record["status"] == "queued" and record["reason"] == "user_request"
    assert record["customer_id"] == who and record["channel"] == "web"
    # The customer's words, masked; a button payload is not part of them.
    assert record["summary"]["background"].split("\n")[0] == "光猫红灯一直闪，我电话138****5678"
    assert "/request_human" not in record["summary"]["background"]
    assert record["id"] in [r["id"] for r in gw.as_("alice", "GET", "/api/handoffs?status=queued").json()]


def test_while_queued_the_bot_is_silent_and_nothing_is_lost(gw):
    """The bot stays out of a queued conversation: the only reply is the holding message
    (handoffs/waiting.py, at most one a minute), and every message is kept for the agent."""
    who = customer()
    conv, record = gw.handed_off(who)
    count = len(gw.seen(who, conv).json())
    replies = [gw.say(who, text) for text in ("请问还要等多久？", "/request_human", "你好")]
    assert all(r["conversation_id"] == conv and r["state"] == "queued" for r in replies)
    holding = replies[0]["replies"][0]["text"]
    assert "预计等待" in holding and [r["replies"] for r in replies[1:]] == [[], []]
    later = gw.seen(who, conv).json()[count:]
    assert [(m["sender"], m["text"]) for m in later] == [
        ("customer", "请问还要等多久？"), ("bot", holding), ("customer", "/request_human"), ("customer", "你好")]
    # Still one record for the conversation.
    assert [r["conversation_id"] for r in gw.as_("alice", "GET", "/api/handoffs").json()].count(conv) == 1


def test_another_customer_can_neither_read_nor_write_the_conversation(gw):
    owner, intruder = customer(), customer()
    conv = gw.say(owner, "我的身份证110101199003071234")["conversation_id"]
    before = gw.seen(owner, conv).json()

    read = gw.seen(intruder, conv)
    assert read.status_code == 404
    assert "110101" not in read.text
    write = gw.client.post(f"{WEB}/messages", json={"customer_id": intruder, "text": "让我看看",
                                                    "conversation_id": conv})
    assert write.status_code == 404
    # Unknown ids look exactly the same: an id tells nothing.
    unknown = gw.client.post(f"{WEB}/messages", json={"customer_id": intruder, "text": "让我看看",
                                                      "conversation_id": uuid.uuid4().hex})
    assert unknown.status_code == 404 and unknown.json() == write.json()
    assert gw.seen(intruder, uuid.uuid4().hex).status_code == 404

    assert gw.seen(owner, conv).json() == before
    assert gw.rows("SELECT id FROM conversations WHERE customer_id = :c", c=intruder) == []


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": "C", "text": ""},
        {"customer_id": "C", "text": "   \n "},
        {"customer_id": "C", "text": "话" * 2001},
        {"text": "你好"},
        {"customer_id": "C"},
        {"customer_id": "", "text": "你好"},
        {"customer_id": "C" * 129, "text": "你好"},
        {"customer_id": 42, "text": "你好"},
        {"customer_id": "C", "text": ["你好"]},
        {"customer_id": "C", "text": None},
        {"customer_id": "C", "text": "你好", "conversation_id": 7},
        {"customer_id": "C", "text": "你好", "conversation_id": "x" * 33},
    ],
)
def test_invalid_customer_messages_are_422_and_store_nothing(gw, body):
    who = customer()
    body = {k: (who if v == "C" else v) for k, v in body.items()}
    response = gw.client.post(f"{WEB}/messages", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert gw.rows("SELECT id FROM conversations WHERE customer_id = :c", c=who) == []


def test_a_body_that_is_not_json_is_422(gw):
    response = gw.client.post(f"{WEB}/messages", content=b"customer_id=x&text=hi",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_a_message_of_exactly_2000_characters_is_accepted(gw):
    who = customer()
    reply = gw.say(who, "话" * 2000)
    assert reply["state"] == "bot"
    assert gw.seen(who, reply["conversation_id"]).json()[0]["text"] == "话" * 2000


def test_polling_parameters_are_validated(gw):
    who = customer()
    conv = gw.say(who, "你好")["conversation_id"]
    assert gw.client.get(f"{WEB}/conversations/{conv}/messages").status_code == 422  # no customer_id
    assert gw.seen(who, conv, after=-1).status_code == 422
    assert gw.client.get(f"{WEB}/conversations/{conv}/messages",
                         params={"customer_id": who, "after": "abc"}).status_code == 422


# ---- editor credentials (template library writes) ---------------------------------------------

TEMPLATE = {"id": "close-test-99", "stage": "closing", "title": "测试", "text": "感谢您的耐心，祝您生活愉快。"}
EDITOR_ENDPOINTS = [
    ("POST", "/api/templates", TEMPLATE),
    ("PUT", "/api/templates/open-greeting-01", {**TEMPLATE, "id": "open-greeting-01"}),
    ("DELETE", "/api/templates/open-greeting-01", None),
]


@pytest.mark.parametrize(("method", "path", "body"), EDITOR_ENDPOINTS)
@pytest.mark.parametrize(("credential", "status"), [(None, 401), ("revoked", 401), ("alice", 403)],
                         ids=["none", "revoked", "agent"])
def test_editor_endpoints_refuse_missing_wrong_and_agent_credentials(gw, method, path, body, credential, status):
    headers = {"Authorization": f"Bearer {gw.keys[credential]}"} if credential else {}
    before = gw.as_("alice", "GET", "/api/templates/open-greeting-01").json()
    assert gw.client.request(method, path, json=body, headers=headers).status_code == status
    assert gw.as_("alice", "GET", "/api/templates/open-greeting-01").json() == before
    assert gw.as_("alice", "GET", "/api/templates/close-test-99").status_code == 404


# ---- agent credentials -------------------------------------------------------------------------

AGENT_ENDPOINTS = [
    ("GET", "/api/handoffs", None),
    ("GET", "/api/handoffs/{id}", None),
    ("POST", "/api/handoffs/{id}/claim", None),
    ("POST", "/api/handoffs/{id}/resolve", None),
    ("POST", "/api/handoffs/{id}/close", None),
    ("POST", "/api/handoffs/{id}/reopen", None),
    ("POST", "/api/conversations/{conv}/agent-messages", {"text": "您好，我是客服"}),
    ("GET", "/api/conversations/{conv}/messages", None),
    ("POST", "/api/handoffs/{id}/transfer", {"to": "bob"}),
    ("POST", "/api/assist/classify", {"text": "宽带断了"}),
    ("POST", "/api/assist/suggest", {"conversation_id": "{conv}"}),
    ("GET", "/api/templates", None),
    ("GET", "/api/templates/open-greeting-01", None),
]


@pytest.fixture(scope="module")
def untouched_case(gw):
    who = customer()
    conv, record = gw.handed_off(who)
    return who, conv, record


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
@pytest.mark.parametrize(
    ("credential", "status"),
    [
        (None, 401),
        ({"Authorization": "Bearer cs_agent_not-a-real-key"}, 401),
        ({"X-API-Key": "cs_agent_not-a-real-key"}, 401),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, 401),
        ("revoked", 401),
        ("editor", 403),
    ],
    ids=["none", "wrong-bearer", "wrong-x-api-key", "basic", "revoked", "editor"],
)
def test_agent_endpoints_refuse_missing_wrong_revoked_and_editor_credentials(
        gw, untouched_case, method, path, body, credential, status):
    who, conv, record = untouched_case
    if isinstance(credential, str):
        credential = {"Authorization": f"Bearer {gw.keys[credential]}"}
    if body and body.get("conversation_id") == "{conv}":
        body = {"conversation_id": conv}
    response = gw.client.request(method, path.format(id=record["id"], conv=conv), json=body,
                                 headers=credential or {})
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    # Refused means nothing happened.
    after = gw.as_("alice", "GET", f"/api/handoffs/{record['id']}").json()
    assert (after["status"], after["owner"], len(after["events"])) == ("queued", None, 1)
    assert [m["sender"] for m in gw.seen(who, conv).json()].count("agent") == 0


@pytest.mark.parametrize(("who", "header"), [("alice", "Authorization"), ("root", "Authorization"),
                                             ("alice", "X-API-Key"), ("root", "X-API-Key")])
def test_agent_and_admin_keys_are_accepted_on_every_agent_endpoint(gw, who, header):
    customer_id = customer()
    conv, record = gw.handed_off(customer_id)
    value = f"Bearer {gw.keys[who]}" if header == "Authorization" else gw.keys[who]

    def call(method, path, body=None):
        response = gw.client.request(method, path.format(id=record["id"], conv=conv), json=body,
                                     headers={header: value})
        assert response.status_code == 200, (path, response.text)
        return response.json()

    assert record["id"] in [r["id"] for r in call("GET", "/api/handoffs")]
    assert call("GET", "/api/handoffs/{id}")["id"] == record["id"]
    assert call("POST", "/api/handoffs/{id}/claim")["owner"] == who
    assert call("POST", "/api/conversations/{conv}/agent-messages", {"text": "您好"})["sender"] == "agent"
    assert call("POST", "/api/handoffs/{id}/resolve")["status"] == "resolved"
    assert call("POST", "/api/handoffs/{id}/close")["status"] == "closed"
    assert call("POST", "/api/handoffs/{id}/reopen")["status"] == "in_progress"
    events = call("GET", "/api/handoffs/{id}")["events"]
    assert [e["actor"] for e in events][1:] == [who] * 5


def test_agent_endpoint_errors_are_clear(gw):
    who = customer()
    conv, record = gw.handed_off(who)
    assert gw.as_("alice", "GET", "/api/handoffs/999999").status_code == 404
    assert gw.as_("alice", "POST", "/api/handoffs/999999/claim").status_code == 404
    assert gw.as_("alice", "GET", "/api/handoffs/abc").status_code == 422
    assert gw.as_("alice", "GET", "/api/handoffs?status=bogus").status_code == 422
    assert gw.as_("alice", "GET", "/api/handoffs?priority=bogus").status_code == 422
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/close").status_code == 409  # still queued
    # Not handed off (or not existing) conversations take no agent messages.
    bot_conv = gw.say(customer(), "你好")["conversation_id"]
    for target in (bot_conv, uuid.uuid4().hex):
        assert gw.as_("alice", "POST", f"/api/conversations/{target}/agent-messages",
                      json={"text": "您好"}).status_code == 404
    for bad in ({"text": ""}, {"text": "话" * 2001}, {}, {"text": 5}):
        assert gw.as_("alice", "POST", f"/api/conversations/{conv}/agent-messages",
                      json=bad).status_code == 422
    assert gw.as_("alice", "GET", f"/api/handoffs/{record['id']}").json()["status"] == "queued"


def test_list_filters_over_http(gw):
    queued_conv, queued = gw.handed_off(customer())
    claimed_conv, claimed = gw.handed_off(customer())
    assert gw.as_("bob", "POST", f"/api/handoffs/{claimed['id']}/claim").status_code == 200

    queued_ids = [r["id"] for r in gw.as_("alice", "GET", "/api/handoffs?status=queued").json()]
    assigned_ids = [r["id"] for r in gw.as_("alice", "GET", "/api/handoffs?status=assigned").json()]
    assert queued["id"] in queued_ids and claimed["id"] not in queued_ids
    assert claimed["id"] in assigned_ids and queued["id"] not in assigned_ids
    level = queued["priority"]  # set by the ticket classifier
    same = gw.as_("alice", "GET", f"/api/handoffs?status=queued&priority={level}").json()
    assert queued["id"] in [r["id"] for r in same] and all(r["priority"] == level for r in same)
    assert gw.as_("alice", "GET", "/api/handoffs?priority=urgent").json() == [
        r for r in gw.as_("alice", "GET", "/api/handoffs").json() if r["priority"] == "urgent"]


# ---- internal API (the action server's service token) ------------------------------------------

INTERNAL = [
    ("POST", "/api/internal/handoffs", lambda conv: {"conversation_id": conv, "reason": "no_answer"}),
    ("GET", "/api/internal/conversations/{conv}/handoff", None),
    ("POST", "/api/internal/feedback", lambda conv: {"conversation_id": conv, "entry_id": "billing-001",
                                                     "helpful": False}),
]


@pytest.mark.parametrize(("method", "path", "body"), INTERNAL, ids=["handoffs", "status", "feedback"])
@pytest.mark.parametrize("headers", [{}, {"X-Service-Token": "wrong"}, {"X-Service-Token": ""}, "agent-key",
                                     "bearer-token"], ids=["none", "wrong", "empty", "agent-key", "bearer"])
def test_internal_endpoints_refuse_a_missing_or_wrong_service_token(gw, method, path, body, headers):
    who = customer()
    conv = gw.say(who, "你好")["conversation_id"]
    if headers == "agent-key":
        headers = {"X-Service-Token": gw.keys["root"]}
    elif headers == "bearer-token":
        headers = {"Authorization": f"Bearer {gw.token}"}
    response = gw.client.request(method, path.format(conv=conv), json=body(conv) if body else None,
                                 headers=headers)
    assert response.status_code == 401
    assert gw.seen(who, conv).json()[-1]["sender"] == "bot"
    assert gw.rows("SELECT id FROM handoffs WHERE conversation_id = :c", c=conv) == []
    assert gw.rows("SELECT id FROM answer_feedback WHERE conversation_id = :c", c=conv) == []


def test_internal_endpoints_accept_the_service_token(gw):
    who = customer()
    conv = gw.say(who, "帮我订机票")["conversation_id"]
    headers = {"X-Service-Token": gw.token}
    assert gw.client.get(f"/api/internal/conversations/{conv}/handoff", headers=headers).status_code == 404

    tried = [{"id": "roaming-002", "question": "出国怎么开通漫游", "confidence": 0.12}]
    created = gw.client.post("/api/internal/handoffs", headers=headers, json={
        "conversation_id": conv, "reason": "no_answer", "bot_tried": tried,
        "category": "roaming", "category_confidence": 0.97})
    assert created.status_code == 200
    body = created.json()
    assert body["created"] is True and body["status"] == "queued" and body["in_business_hours"] is True
    assert body["queue_position"] >= 1 and f"工单号 {body['handoff_id']}" in body["message"]
    record = gw.as_("alice", "GET", f"/api/handoffs/{body['handoff_id']}").json()
    assert record["summary"]["bot_tried"] == tried
    # The bot's confident KB match outweighs the ticket model's guess for this short text.
    assert record["classification"]["category"] == {"label": "roaming", "confidence": 0.97}

    again = gw.client.post("/api/internal/handoffs", headers=headers,
                           json={"conversation_id": conv, "reason": "user_request"}).json()
    assert (again["handoff_id"], again["created"]) == (body["handoff_id"], False)
    status = gw.client.get(f"/api/internal/conversations/{conv}/handoff", headers=headers).json()
    assert status["handoff_id"] == body["handoff_id"] and status["status"] == "queued"
    assert status["queue_position"] == body["queue_position"]
    assert gw.say(who, "还在吗")["state"] == "queued"

    fb = gw.client.post("/api/internal/feedback", headers=headers,
                        json={"conversation_id": conv, "entry_id": "roaming-002", "helpful": False})
    assert fb.status_code == 200
    assert [tuple(r) for r in gw.rows("SELECT entry_id, helpful FROM answer_feedback WHERE conversation_id = :c",
                                      c=conv)] == [("roaming-002", False)]
    for payload, path in (({"conversation_id": "nope", "reason": "no_answer"}, "/api/internal/handoffs"),
                          ({"conversation_id": "nope", "entry_id": "x", "helpful": True}, "/api/internal/feedback")):
        assert gw.client.post(path, headers=headers, json=payload).status_code == 404
    assert gw.client.post("/api/internal/handoffs", headers=headers,
                          json={"conversation_id": conv, "reason": "bored"}).status_code == 422


# ---- the whole agent flow, on SQLite and PostgreSQL --------------------------------------------

def test_agent_flow_claim_reply_resolve_close_then_a_new_conversation(gw_any):
    gw = gw_any
    who = customer()
    conv = gw.say(who, "宽带装好了但是没网，我的手机13912345678")["conversation_id"]
    assert gw.say(who, "/request_human", conv)["state"] == "queued"
    record = gw.record_of(conv)
    assert record["summary"]["background"] == "宽带装好了但是没网，我的手机139****5678"
    assert record["sla"]["first_response_at"] is None

    path = f"/api/conversations/{conv}/agent-messages"
    assert gw.as_("alice", "POST", path, json={"text": "您好"}).status_code == 409  # claim first
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/claim").json()["status"] == "assigned"
    assert gw.as_("bob", "POST", f"/api/handoffs/{record['id']}/claim").status_code == 409
    assert gw.as_("bob", "POST", path, json={"text": "我来"}).status_code == 409  # alice owns it
    assert gw.say(who, "有人吗")["replies"] == []  # an agent owns it: still no bot

    last_seen = gw.seen(who, conv).json()[-1]["id"]
    sent = gw.as_("alice", "POST", path, json={"text": "您好，我是客服小李，正在为您查询。"})
    assert sent.status_code == 200 and sent.json()["sender"] == "agent"
    new = gw.seen(who, conv, after=last_seen).json()
    assert [(m["sender"], m["text"]) for m in new] == [("agent", "您好，我是客服小李，正在为您查询。")]
    assert gw.seen(who, conv, after=new[0]["id"]).json() == []
    assert gw.say(who, "好的谢谢", conv)["state"] == "agent"

    detail = gw.as_("alice", "GET", f"/api/handoffs/{record['id']}").json()
    assert detail["status"] == "in_progress" and detail["owner"] == "alice"
    assert detail["sla"]["first_response_at"] is not None and detail["sla"]["first_response_breached"] is False
    assert gw.as_("bob", "POST", f"/api/handoffs/{record['id']}/resolve").status_code == 409
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/resolve").json()["status"] == "resolved"
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/close").json()["status"] == "closed"
    assert gw.as_("alice", "POST", path, json={"text": "还在吗"}).status_code == 409  # closed

    events = gw.as_("alice", "GET", f"/api/handoffs/{record['id']}").json()["events"]
    assert [(e["from"], e["to"], e["actor"]) for e in events] == [
        (None, "queued", "gateway"), ("queued", "assigned", "alice"), ("assigned", "in_progress", "alice"),
        ("in_progress", "resolved", "alice"), ("resolved", "closed", "alice")]
    assert all(e["at"] for e in events)

    after = gw.say(who, "我又有个问题")  # the next message starts a new conversation with the bot
    assert after["conversation_id"] != conv and after["state"] == "bot"
    assert after["replies"][0]["buttons"] == APOLOGY_BUTTON
    with_old_id = gw.say(who, "还有一个问题", conv)  # the old id no longer routes to the closed one
    assert with_old_id["conversation_id"] != conv and with_old_id["state"] == "bot"
    # The closed conversation stays readable for its customer.
    assert [m["sender"] for m in gw.seen(who, conv).json()].count("agent") == 1


def test_messages_sent_with_a_closed_conversations_id_continue_in_one_new_conversation(gw):
    who = customer()
    conv, record = gw.handed_off(who)
    for step in ("claim", "close"):
        assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/{step}").status_code == 200
    first = gw.say(who, "我还想问一下套餐", conv)
    second = gw.say(who, "就是每月39元那个", conv)
    assert first["conversation_id"] != conv
    assert second["conversation_id"] == first["conversation_id"]


def test_a_message_with_a_nul_character_is_not_a_server_error(gw_any, request):
    who = customer()
    response = gw_any.client.post(f"{WEB}/messages", json={"customer_id": who, "text": "你好\u0000在吗"})
    assert response.status_code == 422


# ---- API keys at rest --------------------------------------------------------------------------

def test_api_keys_are_stored_hashed(db_url, tmp_path):
    upgrade(db_url)
    store = KeyStore(session_factory(db_url))
    key = store.create("carol", Role.agent)
    assert store.verify(key).name == "carol"
    with get_engine(db_url).connect() as conn:
        rows = [tuple(r) for r in conn.execute(sql("SELECT * FROM api_keys"))]
    assert len(rows) == 1
    assert all(key not in str(value) for value in rows[0])
    secret = key.split("_", 2)[2]
    assert all(secret not in str(value) for value in rows[0])


def test_api_key_plaintext_is_nowhere_in_the_sqlite_files(gw):
    files = list(Path(gw.url.removeprefix("sqlite:///")).parent.glob("app.sqlite3*"))
    assert files
    data = b"".join(f.read_bytes() for f in files)
    assert gw.keys["alice"].encode() not in data and gw.keys["root"].encode() not in data
    # …yet the keys work, and a revoked one does not.
    assert gw.as_("alice", "GET", "/api/handoffs").status_code == 200
    assert gw.as_("revoked", "GET", "/api/handoffs").status_code == 401


def test_outside_business_hours_the_customer_is_promised_a_callback_time(service_clock, tmp_path):
    """Handoff outside service hours: the message is taken and a contact time promised."""
    tomorrow = (datetime.now(SH) + timedelta(days=1)).weekday()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.sqlite3'}", var_dir=tmp_path / "var",
                        rasa_url="http://127.0.0.1:9", business_days=(tomorrow,))
    with TestClient(create_app(settings)) as client:
        reply = client.post(f"{WEB}/messages", json={"customer_id": "night-owl", "text": "转人工"}).json()
    assert reply["state"] == "queued"
    text = reply["replies"][0]["text"]
    assert "非工作时间" in text and "前联系您" in text


def test_the_customer_confirms_or_disputes_a_resolution(gw):
    who = customer()
    conv, record = gw.handed_off(who)
    case = f"/api/handoffs/{record['id']}"
    assert gw.as_("alice", "POST", f"{case}/claim").status_code == 200
    reply = gw.as_("alice", "POST", f"/api/conversations/{conv}/agent-messages", json={"text": "已为您重置端口"})
    assert reply.status_code == 200
    assert gw.as_("alice", "POST", f"{case}/resolve").json()["status"] == "resolved"
    check = gw.seen(who, conv).json()[-1]
    assert check["sender"] == "system"
    assert [b["payload"] for b in check["buttons"]] == ["/confirm_resolved", "/not_resolved"]

    disputed = gw.say(who, "/not_resolved", conv)
    assert disputed["state"] == "agent" and "继续为您处理" in disputed["replies"][0]["text"]
    assert gw.as_("alice", "GET", case).json()["status"] == "in_progress"

    assert gw.as_("alice", "POST", f"{case}/resolve").status_code == 200
    confirmed = gw.say(who, "/confirm_resolved", conv)
    assert confirmed["state"] == "closed" and "已办结" in confirmed["replies"][0]["text"]
    events = gw.as_("alice", "GET", case).json()["events"]
    assert [(e["to"], e["actor"]) for e in events][-3:] == [
        ("in_progress", f"customer:{who}"), ("resolved", "alice"), ("closed", f"customer:{who}")]
    # A confirmation replayed later cannot reopen or re-close the case.
    gw.say(who, "/confirm_resolved", conv)
    assert gw.as_("alice", "GET", case).json()["status"] == "closed"
    assert len(gw.as_("alice", "GET", case).json()["events"]) == len(events)
