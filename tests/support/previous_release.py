"""The previous release's data: its schema is Alembic revision 0003; rows are written with plain
SQL as that release left them, and read back through today's services after an upgrade (the
migration and backup tests share them)."""

from __future__ import annotations

import json

from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, select, text

from assist_api.assist.templates import TemplateStore
from assist_api.auth.keys import KeyStore, Role, hash_key
from config.settings import Settings
from db.engine import get_engine, session_factory
from gateway.conversations.service import ConversationService
from gateway.handoffs.service import HandoffService, handoff_json
from kb.store import KBStore

PREVIOUS_RELEASE = "0003"
OLD_TABLES = ["kb_entries", "kb_entry_versions", "audit_log", "kb_state", "conversations", "messages",
              "answer_feedback", "handoffs", "handoff_events", "api_keys", "reply_templates"]
AGENT_KEY = "cs_agent_previous-release-key"
# Columns later releases added to the previous release's tables (all nullable).
ADDED_COLUMNS = {"handoffs": ("last_ack_at", "soothed_at", "message_left_at")}


def revision(url: str) -> str | None:
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ts(url: str, hour: int) -> str:
    """A timestamp literal as each backend's previous release stored it."""
    if url.startswith("sqlite"):
        return f"2026-01-05 {hour:02d}:00:00.000000"
    return f"2026-01-05 {hour:02d}:00:00+00:00"


def j(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def insert_previous_release_rows(url: str) -> None:
    def t(hour: int) -> str:
        return ts(url, hour)

    entry = {"question": "宽带老是掉线怎么办", "similar_questions": ["宽带断线", "网速断断续续"],
             "answer": "请先**重启光猫**，再检查网线。", "category": "broadband", "tags": ["宽带", "掉线"],
             "channels": {"wechat": "请重启光猫后再试。"}}
    rows = [
        ("INSERT INTO kb_entries (id, question, similar_questions, answer, category, tags, channels, status,"
         " owner, review_due, version, created_at, updated_at) VALUES (:id, :q, :sq, :a, :c, :tags, :ch,"
         " :st, :owner, :due, :v, :cr, :up)",
         [dict(id="bb-001", q=entry["question"], sq=j(entry["similar_questions"]), a=entry["answer"],
               c="broadband", tags=j(entry["tags"]), ch=j(entry["channels"]), st="published", owner="li",
               due="2026-06-30", v=2, cr=t(1), up=t(2)),
          dict(id="bill-002", q="话费怎么查", sq=j([]), a="发送 CXHF 到 10086。", c="billing", tags=j([]),
               ch=j({}), st="draft", owner=None, due=None, v=1, cr=t(3), up=t(3))]),
        ("INSERT INTO kb_entry_versions (entry_id, version, snapshot, action, actor, created_at)"
         " VALUES (:e, :v, :s, :a, :actor, :at)",
         [dict(e="bb-001", v=1, s=j({**entry, "answer": "请重启光猫。", "status": "published"}), a="create",
               actor="importer", at=t(1)),
          dict(e="bb-001", v=2, s=j({**entry, "status": "published"}), a="update", actor="li", at=t(2)),
          dict(e="bill-002", v=1, s=j({"question": "话费怎么查", "status": "draft"}), a="create",
               actor="wang", at=t(3))]),
        ("INSERT INTO audit_log (at, actor, action, entity_type, entity_id, version, changes)"
         " VALUES (:at, :actor, :a, 'kb_entry', :e, :v, :ch)",
         [dict(at=t(1), actor="importer", a="create", e="bb-001", v=1, ch=j({})),
          dict(at=t(2), actor="li", a="update", e="bb-001", v=2, ch=j({"answer": ["请重启光猫。", entry["answer"]]})),
          dict(at=t(3), actor="wang", a="create", e="bill-002", v=1, ch=j({}))]),
        ("UPDATE kb_state SET value = 3 WHERE key = 'revision'", [{}]),
        ("INSERT INTO conversations (id, channel, customer_id, state, customer_profile, created_at, updated_at,"
         " closed_at) VALUES (:id, 'web', :cust, :st, :p, :cr, :up, :cl)",
         [dict(id="c" * 32, cust="customer-1", st="queued", p=j({"plan": "畅享 129"}), cr=t(4), up=t(5), cl=None),
          dict(id="d" * 32, cust="customer-2", st="closed", p=j({}), cr=t(4), up=t(6), cl=t(6)),
          dict(id="e" * 32, cust="customer-3", st="bot", p=j({}), cr=t(7), up=t(7), cl=None)]),
        ("INSERT INTO messages (conversation_id, sender, text, buttons, agent_id, created_at)"
         " VALUES (:c, :s, :tx, :b, :ag, :at)",
         [dict(c="c" * 32, s="customer", tx="宽带老是掉线，电话138****5678", b=None, ag=None, at=t(4)),
          dict(c="c" * 32, s="bot", tx="您是不是想问：宽带老是掉线怎么办？",
               b=j([{"title": "转人工", "payload": "/request_human"}]), ag=None, at=t(4)),
          dict(c="c" * 32, s="customer", tx="转人工", b=None, ag=None, at=t(5)),
          dict(c="d" * 32, s="customer", tx="话费怎么查", b=None, ag=None, at=t(4)),
          dict(c="d" * 32, s="agent", tx="您好，已为您查询。", b=None, ag="agent-zhao", at=t(5))]),
        ("INSERT INTO answer_feedback (conversation_id, entry_id, helpful, created_at) VALUES (:c, :e, :h, :at)",
         [dict(c="c" * 32, e="bb-001", h=False, at=t(5))]),
        ("INSERT INTO handoffs (conversation_id, channel, customer_id, customer_profile, created_at, updated_at,"
         " reason, summary, classification, priority, first_response_due, resolution_due, first_response_at,"
         " transcript, owner, status) VALUES (:c, 'web', :cust, :p, :cr, :up, :r, :sum, :cls, :pr, :frd, :rd,"
         " :fra, :tr, :owner, :st)",
         [dict(c="c" * 32, cust="customer-1", p=j({"plan": "畅享 129"}), cr=t(5), up=t(5), r="user_request",
               sum=j({"background": "宽带老是掉线", "bot_tried": [], "bottleneck": "客户要求人工"}),
               cls=j({"category": {"label": "broadband", "confidence": 0.9}}), pr="normal", frd=t(6),
               rd=t(20), fra=None, tr=j([{"sender": "customer", "text": "宽带老是掉线"}]), owner=None,
               st="queued"),
          dict(c="d" * 32, cust="customer-2", p=j({}), cr=t(4), up=t(6), r="no_answer",
               sum=j({"background": "话费怎么查", "bot_tried": [], "bottleneck": "知识库无答案"}),
               cls=j({}), pr="high", frd=t(5), rd=t(12), fra=t(5), tr=j([]), owner="agent-zhao",
               st="closed")]),
        ("INSERT INTO handoff_events (handoff_id, from_status, to_status, actor, at, note) VALUES"
         " ((SELECT id FROM handoffs WHERE conversation_id = :c), :f, :to, :actor, :at, :note)",
         [dict(c="c" * 32, f=None, to="queued", actor="bot", at=t(5), note="user_request"),
          dict(c="d" * 32, f=None, to="queued", actor="bot", at=t(4), note="no_answer"),
          dict(c="d" * 32, f="queued", to="assigned", actor="agent-zhao", at=t(5), note=None),
          dict(c="d" * 32, f="assigned", to="closed", actor="agent-zhao", at=t(6), note="已解决")]),
        ("INSERT INTO api_keys (name, role, key_hash, created_at, revoked_at) VALUES (:n, :r, :h, :at, :rev)",
         [dict(n="agent-zhao", r="agent", h=hash_key(AGENT_KEY), at=t(1), rev=None),
          dict(n="old-admin", r="admin", h=hash_key("revoked-key"), at=t(1), rev=t(2))]),
        ("INSERT INTO reply_templates (id, stage, channels, categories, title, text, version, updated_by,"
         " updated_at) VALUES (:id, :st, :ch, :cat, :ti, :tx, :v, :by, :at)",
         [dict(id="soothe-delay-01", st="soothing", ch=j(["web", "wechat"]), cat=j([]), ti="致歉并承诺时间",
               tx="非常抱歉让您久等了{customer_name}，我们会尽快处理。", v=2, by="editor-li", at=t(3))]),
    ]
    with get_engine(url).begin() as conn:
        for sql, params in rows:
            for p in params:
                conn.execute(text(sql), p)


def old_rows(url: str) -> dict[str, list[tuple]]:
    """The previous release's rows, in the previous release's columns (later releases may add
    nullable columns to its tables; those must not change what was there)."""
    engine = get_engine(url)
    meta = MetaData()
    meta.reflect(engine, only=OLD_TABLES)
    out = {}
    with engine.connect() as conn:
        for name in OLD_TABLES:
            table = meta.tables[name]
            columns = [c for c in table.columns if c.name not in ADDED_COLUMNS.get(name, ())]
            out[name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*table.primary_key.columns))]
    return out


def check_the_app_reads_them(url: str, tmp_path) -> None:
    store = KBStore(url)
    published = store.published()
    assert [e.id for e in published] == ["bb-001"]
    e = published[0]
    assert (e.question, e.similar_questions, e.category, e.tags, e.version, e.owner) == (
        "宽带老是掉线怎么办", ["宽带断线", "网速断断续续"], "broadband", ["宽带", "掉线"], 2, "li")
    assert e.channels == {"wechat": "请重启光猫后再试。"} and str(e.review_due) == "2026-06-30"
    assert e.updated_at.isoformat() == "2026-01-05T02:00:00+00:00"
    assert [v.version for v in store.versions("bb-001")] == [1, 2]
    assert len(store.audit("bb-001")) == 2
    assert store.get("bill-002").status == "draft"

    sessions = session_factory(url)
    settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    handoffs = HandoffService(sessions, settings, conversations)
    queued = handoffs.list(status="queued")
    assert [h.conversation_id for h in queued] == ["c" * 32]
    record = handoff_json(queued[0])
    assert record["priority"] == "normal" and record["summary"]["background"] == "宽带老是掉线"
    closed = handoffs.for_conversation("d" * 32)
    assert closed.status == "closed" and closed.owner == "agent-zhao"
    assert [(ev.from_status, ev.to_status) for ev in handoffs.events(closed.id)] == [
        (None, "queued"), ("queued", "assigned"), ("assigned", "closed")]
    assert [m.text for m in conversations.messages("c" * 32)][-1] == "转人工"
    keys = KeyStore(sessions)
    assert keys.verify(AGENT_KEY).role == Role.agent
    assert keys.verify("revoked-key") is None
    assert TemplateStore(sessions).get("soothe-delay-01").version == 2
