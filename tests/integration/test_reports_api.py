"""The reports API over HTTP with a real SQLite database: role checks, the report in JSON,
HTML and CSV on the fixture day, drafts from unanswered clusters, the reports page, /metrics
in the Prometheus exposition format, request ids, and turn recording by the gateway."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from common import bot_protocol
from config.settings import Settings
from db.engine import session_factory
from gateway.conversations.models import Message
from gateway.conversations.service import ConversationService
from gateway.conversations.turns import BotTurn
from tests.support import reports_fixture as fx

DAY = {"start": "2026-10-12", "end": "2026-10-12"}


@pytest.fixture
def api(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    fx.build(url)
    app = create_app(Settings(database_url=url, var_dir=tmp_path / "var", log_format="text", dense_search=False))
    with TestClient(app) as client:
        keys = KeyStore(session_factory(url))
        tokens = {role.value: keys.create(f"{role.value}-1", role) for role in Role}
        client.keys = tokens
        client.url = url
        yield client


def _as(client, role, method, path, **kw):
    headers = {"Authorization": f"Bearer {client.keys[role]}"} if role else {}
    return client.request(method, path, headers=headers, **kw)


@pytest.mark.parametrize("path", ["/api/reports/summary", "/api/reports/view", "/api/reports/export.csv"])
def test_report_endpoints_need_the_supervisor_role(api, path):
    assert _as(api, None, "GET", path).status_code == 401
    for role in ("agent", "editor"):
        r = _as(api, role, "GET", path)
        assert r.status_code == 403 and "supervisor" in r.json()["detail"]
    assert _as(api, "supervisor", "GET", path, params=DAY).status_code == 200
    assert _as(api, "admin", "GET", path, params=DAY).status_code == 200
    revoked = KeyStore(session_factory(api.url))
    revoked.revoke("supervisor-1")
    assert _as(api, "supervisor", "GET", path).status_code == 401


def test_summary_matches_the_fixture_day(api):
    r = _as(api, "supervisor", "GET", "/api/reports/summary", params={**DAY, "granularity": "day"}).json()
    assert r["totals"]["conversations"] == 10 and r["totals"]["fcr_rate"] == 0.3
    assert r["demo_conversations"] == 0
    wechat = _as(api, "supervisor", "GET", "/api/reports/summary", params={**DAY, "channel": "wechat"}).json()
    assert wechat["totals"]["conversations"] == 3


def test_bad_ranges_are_refused(api):
    r = _as(api, "supervisor", "GET", "/api/reports/summary", params={"start": "2026-10-12", "end": "2026-10-01"})
    assert r.status_code == 422 and "before" in r.json()["detail"]
    r = _as(api, "supervisor", "GET", "/api/reports/summary", params={"granularity": "year"})
    assert r.status_code == 422


def test_view_and_csv(api):
    html = _as(api, "supervisor", "GET", "/api/reports/view", params=DAY).text
    assert "<svg" in html and "机器人解决率" in html and "<script" not in html
    r = _as(api, "supervisor", "GET", "/api/reports/export.csv", params=DAY)
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="report_2026-10-12_2026-10-12.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = rows[0]
    total = dict(zip(header, rows[1], strict=True))
    assert total["维度"] == "合计" and total["会话量"] == "10" and total["首次接触解决率"] == "0.3"
    by = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows[1:] if len(row) == len(header)}
    assert by[("channel", "wechat")]["会话量"] == "3"
    assert by[("day", "2026-10-12")]["首响SLA达标率"] == "0.6"
    assert ["billing-001", "话费怎么查？", "billing", "1", "1", "0.5"] in rows


def test_unanswered_clusters_roles_and_drafts(api):
    assert _as(api, "agent", "GET", "/api/reports/unanswered").status_code == 403
    body = {"question": "换了新手机，eSIM怎么转过去？", "similar_questions": ["eSIM能迁移吗", "eSIM能迁移吗", ""],
            "category": "number"}
    assert _as(api, "supervisor", "POST", "/api/reports/unanswered/drafts", json=body).status_code == 403
    r = _as(api, "editor", "POST", "/api/reports/unanswered/drafts", json=body)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["id"] == "number-001" and entry["status"] == "draft"
    assert entry["similar_questions"] == ["eSIM能迁移吗"] and "待补充" in entry["answer"]
    bad = _as(api, "editor", "POST", "/api/reports/unanswered/drafts", json={**body, "category": "nope"})
    assert bad.status_code == 422


def test_reports_page_is_served(api):
    r = api.get("/reports")
    assert r.status_code == 200 and "运营报表" in r.text and "/ui/reports.js" in r.text
    assert api.get("/ui/reports.js").status_code == 200


def test_metrics_exposition(api):
    api.get("/health", headers={"X-Request-ID": "req-123"})
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name in ("cs_http_requests", "cs_http_request_duration_seconds", "cs_bot_decisions", "cs_handoffs",
                 "cs_sla_breached_open", "cs_handoffs_open", "cs_kb_index_version"):
        assert name in families, name
    health = [s for s in families["cs_http_requests"].samples
              if s.labels.get("route") == "/health" and s.name == "cs_http_requests_total"]
    assert health and health[0].value >= 1
    breached = {(s.labels["priority"], s.labels["stage"]): s.value for s in families["cs_sla_breached_open"].samples}
    # fixture: c7 (urgent, queued, no reply) is past its first-response deadline
    assert breached[("urgent", "first_response")] == 1
    assert families["cs_kb_index_version"].samples[0].value >= 1


def test_request_id_is_echoed_or_made(api):
    assert api.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = api.get("/health", headers={"X-Request-ID": "bad id\nwith newline"}).headers["X-Request-ID"]
    assert made != "bad id\nwith newline" and len(made) == 32


def test_gateway_records_the_bots_decision_per_turn(tmp_path):
    url = f"sqlite:///{tmp_path / 't.sqlite3'}"
    from db.migrate import upgrade

    upgrade(url)
    sessions = session_factory(url)
    conversations = ConversationService(sessions)
    conv = conversations.receive("web", "cust-1", None, "话费怎么查")
    conversations.reply(conv.id, [{"text": "发送 CXHF 到 10050。"}, {"text": "这个回答对您有帮助吗？", "buttons": [
        {"title": "有帮助", "payload": '/feedback_helpful{"entry_id": "billing-001"}'},
        {"title": "没帮助", "payload": '/feedback_unhelpful{"entry_id": "billing-001"}'}]}],
        bot_protocol.answered("billing-001", 0.93))
    conversations.reply(conv.id, [{"text": "请选择：", "buttons": [{"title": "转人工", "payload": "/request_human"}]}],
                        bot_protocol.clarified(["billing-001", "billing-002"], 0.55))
    conversations.reply(conv.id, [{"text": "您好！"}])  # no decision: chit-chat
    conversations.reply(conv.id, [{"text": "换个说法试试。"}], bot_protocol.missed(0.12))
    with sessions() as s:
        turns = [(t.decision, t.entry_id, t.confidence, t.offered, s.get(Message, t.message_id).text)
                 for t in s.query(BotTurn).order_by(BotTurn.id)]
    # The decision as sent, linked to the turn's last bot message, whatever the wording.
    assert turns == [("answer", "billing-001", 0.93, ["billing-001"], "这个回答对您有帮助吗？"),
                     ("clarify", None, 0.55, ["billing-001", "billing-002"], "请选择："),
                     ("no_answer", None, 0.12, None, "换个说法试试。")]


class CharGrams:
    """A stand-in encoder (character 1–2-grams, hashed) so the endpoint's flow is tested
    without the shipped model; the clustering bar itself uses the real model."""

    def encode(self, texts):
        from sklearn.feature_extraction.text import HashingVectorizer

        v = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=4096, alternate_sign=False)
        return v.transform(texts).toarray()


def test_unanswered_clusters_from_stored_conversations(api, monkeypatch):
    from assist_api.reports import unanswered

    monkeypatch.setattr(unanswered, "load_encoder", lambda path: CharGrams())
    conversations = ConversationService(session_factory(api.url))
    for i, text in enumerate(["eSIM怎么转到新手机", "eSIM怎么转到新手机上", "新手机eSIM怎么转",
                              "云盘空间满了怎么扩容", "云盘怎么扩容"]):
        conv = conversations.receive("web", f"u{i}", None, text)
        conversations.reply(conv.id, [{"text": "抱歉，这个问题我暂时没有找到准确的答案。"}], bot_protocol.missed())
    r = _as(api, "editor", "GET", "/api/reports/unanswered")
    assert r.status_code == 200, r.text
    clusters = r.json()
    assert clusters[0]["volume"] == 3 and "eSIM" in clusters[0]["draft"]["question"]
    assert clusters[0]["kinds"] == {"no_answer": 3}
    assert all(c["volume"] >= 3 for c in clusters)


def test_the_default_range_ends_on_the_services_today(service_clock, api):
    """The page's date pickers start from the server's today in Asia/Shanghai: at 20:00 UTC
    that is UTC's tomorrow, and today's conversations must be inside the default range."""
    from datetime import timedelta

    shanghai_today = service_clock.astimezone(ZoneInfo(Settings().business_timezone)).date()
    r = _as(api, "supervisor", "GET", "/api/reports/range")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"start": (shanghai_today - timedelta(days=29)).isoformat(), "end": shanghai_today.isoformat(),
                    "today": shanghai_today.isoformat(), "timezone": "Asia/Shanghai"}
    conversations = ConversationService(session_factory(api.url))
    conversations.receive("web", "range-today", None, "宽带怎么报修")
    report = _as(api, "supervisor", "GET", "/api/reports/summary").json()
    assert report["range"]["end"] == body["end"]
    assert report["totals"]["conversations"] >= 1
    assert _as(api, "agent", "GET", "/api/reports/range").status_code == 403


def test_unanswered_clusters_follow_the_reports_date_range(service_clock, api, monkeypatch):
    """The reports page asks for the topics of the range it shows: last month's failed
    questions are not this month's topics, and the other way round. Run at 08:00 and at
    20:00 UTC, when Shanghai's "today" is UTC's tomorrow."""
    from datetime import datetime

    from sqlalchemy import update

    from assist_api.reports import unanswered
    from assist_api.reports.period import local_today

    monkeypatch.setattr(unanswered, "load_encoder", lambda path: CharGrams())
    sessions = session_factory(api.url)
    conversations = ConversationService(sessions)
    ids = {}
    for i, text in enumerate(["eSIM怎么转到新手机", "eSIM怎么转到新手机上", "新手机eSIM怎么转",
                              "云盘空间满了怎么扩容", "云盘怎么扩容", "云盘扩容怎么收费"]):
        conv = conversations.receive("web", f"range-{i}", None, text)
        conversations.reply(conv.id, [{"text": "抱歉，这个问题我暂时没有找到准确的答案。"}], bot_protocol.missed())
        ids.setdefault("esim" if i < 3 else "cloud", []).append(conv.id)
    october = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    with sessions.begin() as session:
        session.execute(update(Message).where(Message.conversation_id.in_(ids["cloud"])).values(created_at=october))

    def topics(**params):
        r = _as(api, "supervisor", "GET", "/api/reports/unanswered", params=params)
        assert r.status_code == 200, r.text
        return [c["draft"]["question"] for c in r.json()]

    in_october = topics(start="2026-10-01", end="2026-10-31")
    assert len(in_october) == 1 and "云盘" in in_october[0]
    today = local_today(api.app.state.settings.business_timezone).isoformat()
    assert [q for q in topics(start=today, end=today) if "云盘" in q] == []
    assert any("eSIM" in q for q in topics(start=today, end=today))
    assert len(topics()) == 2  # no range: the most recent messages, whatever their date
    assert _as(api, "supervisor", "GET", "/api/reports/unanswered",
               params={"start": "2026-10-31", "end": "2026-10-01"}).status_code == 422
