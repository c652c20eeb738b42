"""Agent assist over HTTP: classify, suggest, the template library, transfer and SLA filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import update

from assist_api.assist.config import load_config
from assist_api.assist.templates import Stage
from common.labels import CLASSIFICATION, load_labels
from config.settings import Settings
from db.base import utcnow
from db.engine import session_factory
from gateway.handoffs.models import Handoff
from tests.support.gateway import customer, open_gateway

CLASSIFY = "/api/assist/classify"
SUGGEST = "/api/assist/suggest"


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    var = tmp_path_factory.mktemp("assist")
    client, gateway = open_gateway(f"sqlite:///{var / 'a.sqlite3'}", var / "var")
    yield gateway
    client.__exit__(None, None, None)


def test_classify_returns_every_field_with_confidences(gw):
    text = "我刚被骗子骗走了5000元，他冒充你们客服让我转账，怎么办！！"
    body = gw.as_("alice", "POST", CLASSIFY, json={"text": text}).json()
    for name in CLASSIFICATION:
        assert body[name]["label"] in load_labels().values(name)
        assert 0 <= body[name]["confidence"] <= 1
    assert body["category"]["label"] == "security"
    assert body["priority"]["label"] == "urgent"
    assert body["route"] in load_labels().values("route")
    assert "5000元" in body["keywords"]


def test_route_follows_the_routing_table(gw):
    text = "你们营业厅的人态度恶劣，我要投诉，还要曝光到微博上！"
    body = gw.as_("alice", "POST", CLASSIFY, json={"text": text}).json()
    labels = {k: body[k]["label"] for k in CLASSIFICATION}
    labels["is_complaint"] = body["is_complaint"]
    assert body["route"] == load_config().route(labels)


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "  "}, {"text": "话" * 2001}, {"text": 12},
                                     {}, {"text": "好", "history": "不是列表"}])
def test_classify_refuses_bad_input_with_422(gw, payload):
    assert gw.as_("alice", "POST", CLASSIFY, json=payload).status_code == 422


@pytest.mark.parametrize("path,body", [(CLASSIFY, {"text": "宽带断了"}), (SUGGEST, {"text": "宽带断了"})])
def test_assist_needs_agent_credentials(gw, path, body):
    assert gw.client.post(path, json=body).status_code == 401
    assert gw.as_("editor", "POST", path, json=body).status_code == 403  # an editor
    assert gw.as_("root", "POST", path, json=body).status_code == 200  # admins may


def test_angry_customers_get_soothing_first_and_nothing_discouraged(gw):
    text = "你们到底什么时候来修？我已经等了两天了，太过分了！"
    body = gw.as_("alice", "POST", SUGGEST, json={"text": text, "k": 5}).json()
    suggestions = body["suggestions"]
    assert len(suggestions) == 5
    assert suggestions[0]["source"] == "template" and suggestions[0]["stage"] == "soothing"
    config = load_config()
    assert not any(config.discouraged(s["text"]) for s in suggestions)
    assert not any(re.search(r"\{[a-z_]+\}", s["text"]) for s in suggestions)


def test_suggestions_for_a_conversation_fill_ticket_variables(gw):
    who = customer()
    conv, record = gw.handed_off(who, "我的宽带从昨天开始一直断网，光猫红灯在闪")
    body = gw.as_("alice", "POST", SUGGEST, json={"conversation_id": conv, "k": 10}).json()
    assert body["classification"]["category"]["label"] in ("broadband", "device")
    texts = " ".join(s["text"] for s in body["suggestions"])
    assert "{" not in texts
    # The ticket id or the agent's name made it into the filled templates.
    assert str(record["id"]) in texts or "alice" in texts
    assert gw.as_("alice", "POST", SUGGEST, json={"conversation_id": "nope"}).status_code == 404
    assert gw.as_("alice", "POST", SUGGEST, json={"k": 3}).status_code == 422


def test_template_library_crud_by_editors_only(gw):
    template = {"id": "soothe-test-01", "stage": "soothing", "channels": ["web"], "categories": ["broadband"],
                "title": "测试安抚", "text": "非常抱歉{customer_name}，我会在{eta}内给您回复。"}
    assert gw.as_("alice", "GET", "/api/templates").status_code == 200
    assert gw.as_("alice", "POST", "/api/templates", json=template).status_code == 403
    assert gw.client.post("/api/templates", json=template).status_code == 401
    created = gw.as_("editor", "POST", "/api/templates", json=template)
    assert created.status_code == 201 and created.json()["version"] == 1
    assert gw.as_("editor", "POST", "/api/templates", json=template).status_code == 409
    bad_var = {**template, "id": "bad-var", "text": "您好{nickname}"}
    assert gw.as_("editor", "POST", "/api/templates", json=bad_var).status_code == 422
    discouraged = {**template, "id": "bad-phrase", "text": "这个我也没办法，你自己看吧"}
    assert gw.as_("editor", "POST", "/api/templates", json=discouraged).status_code == 422
    changed = gw.as_("editor", "PUT", "/api/templates/soothe-test-01", json={**template, "title": "新标题"})
    assert changed.json()["version"] == 2 and changed.json()["title"] == "新标题"
    listed = gw.as_("alice", "GET", "/api/templates", params={"stage": "soothing", "category": "broadband"}).json()
    assert "soothe-test-01" in [t["id"] for t in listed]
    assert gw.as_("editor", "DELETE", "/api/templates/soothe-test-01").status_code == 204
    assert gw.as_("alice", "GET", "/api/templates/soothe-test-01").status_code == 404
    assert gw.as_("editor", "DELETE", "/api/templates/soothe-test-01").status_code == 404


def test_seed_library_covers_every_stage(gw):
    templates = gw.as_("alice", "GET", "/api/templates").json()
    seeded = yaml.safe_load(Settings.model_fields["assist_templates_file"].default.read_text("utf-8"))
    assert {t["id"] for t in templates} >= {t["id"] for t in seeded}
    assert {t["stage"] for t in templates} == {stage.value for stage in Stage}


def test_transfer_moves_ownership_and_is_audited(gw):
    conv, record = gw.handed_off(customer())
    assert gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/claim").status_code == 200
    assert gw.as_("bob", "POST", f"/api/handoffs/{record['id']}/transfer", json={"to": "bob"}).status_code == 409
    moved = gw.as_("alice", "POST", f"/api/handoffs/{record['id']}/transfer", json={"to": "bob", "note": "需要二线"})
    assert moved.status_code == 200 and moved.json()["owner"] == "bob"
    events = gw.as_("bob", "GET", f"/api/handoffs/{record['id']}").json()["events"]
    assert events[-1]["actor"] == "alice" and "bob" in events[-1]["note"]
    reply = gw.as_("bob", "POST", f"/api/conversations/{conv}/agent-messages", json={"text": "您好，我来跟进"})
    assert reply.status_code == 200


def test_queue_filters_by_sla_state(gw):
    conv, record = gw.handed_off(customer())
    with session_factory(gw.url).begin() as session:
        session.execute(update(Handoff).where(Handoff.id == record["id"])
                        .values(first_response_due=utcnow() - timedelta(minutes=1)))
    breached = gw.as_("alice", "GET", "/api/handoffs", params={"sla": "breached"}).json()
    assert record["id"] in [h["id"] for h in breached]
    assert all(h["sla"]["state"] == "breached" for h in breached)
    ok = gw.as_("alice", "GET", "/api/handoffs", params={"sla": "ok"}).json()
    assert record["id"] not in [h["id"] for h in ok]


def test_the_customer_profile_is_kept_masked_and_fills_the_name(gw):
    who = customer()
    first = gw.client.post("/api/channels/web/messages", json={
        "customer_id": who, "text": "我的宽带连不上", "profile": {"name": "王女士", "phone": "13812345678"}}).json()
    conv = first["conversation_id"]
    assert gw.say(who, "转人工", conv)["state"] == "queued"
    record = gw.record_of(conv)
    assert record["customer_profile"] == {"name": "王女士", "phone": "138****5678"}
    body = gw.as_("alice", "POST", SUGGEST, json={"conversation_id": conv, "k": 10}).json()
    assert any("王女士" in s["text"] for s in body["suggestions"])
    bad = gw.client.post("/api/channels/web/messages", json={
        "customer_id": who, "text": "你好", "profile": {"idcard": "110105194912310021"}})
    assert bad.status_code == 422
