"""Migrations upgrade a database holding the previous release's data without loss (SQLite and a
real PostgreSQL). The previous release's schema is Alembic revision 0003; rows are written with
plain SQL as that release left them, then the database goes to head, down to 0003 and back."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from assist_api.auth.keys import KeyStore, Role
from assist_api.editor.unanswered import unanswered_questions
from config.settings import Settings
from db.engine import get_engine, session_factory
from db.migrate import alembic_config, is_up_to_date, upgrade
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import HandoffReason
from gateway.handoffs.service import HandoffService
from kb.store import KBStore
from tests.support.previous_release import (
    PREVIOUS_RELEASE,
    check_the_app_reads_them,
    insert_previous_release_rows,
    j,
    old_rows,
    revision,
    ts,
)


@pytest.fixture
def previous_release(db_url) -> str:
    command.upgrade(alembic_config(db_url), PREVIOUS_RELEASE)
    assert revision(db_url) == PREVIOUS_RELEASE
    insert_previous_release_rows(db_url)
    get_engine(db_url).dispose()
    return db_url


def test_upgrade_from_the_previous_release_keeps_every_row(previous_release, tmp_path):
    url = previous_release
    before = old_rows(url)
    assert sum(len(r) for r in before.values()) == 27

    upgrade(url)  # what every entry point runs at start
    assert is_up_to_date(url) and revision(url) == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert old_rows(url) == before
    check_the_app_reads_them(url, tmp_path)

    # The new release keeps writing next to the old rows (sequences continue, new tables work).
    store = KBStore(url)
    assert store.update("bb-001", {"answer": "升级后的答案"}, actor="li").version == 3
    sessions = session_factory(url)
    settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    handoffs = HandoffService(sessions, settings, conversations)
    conversations.add_message("e" * 32, "customer", "转人工")
    outcome = handoffs.create("e" * 32, HandoffReason.user_request)
    assert outcome.created and outcome.handoff.id > max(r[0] for r in before["handoffs"])
    KeyStore(sessions).create("agent-new", Role.agent)
    with get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO bot_turns (conversation_id, message_id, decision, entry_id, confidence,"
                          " offered, created_at) VALUES (:c, (SELECT MAX(id) FROM messages), 'answer', 'bb-001',"
                          " 0.91, :offered, :at)"), {"c": "c" * 32, "offered": j(["bb-001"]), "at": ts(url, 8)})
        conn.execute(text("INSERT INTO csat_ratings (conversation_id, handoff_id, agent_id, score, created_at)"
                          " VALUES (:c, (SELECT id FROM handoffs WHERE conversation_id = :c2), 'agent-zhao', 5,"
                          " :at)"), {"c": "d" * 32, "c2": "d" * 32, "at": ts(url, 8)})


def test_turns_stored_before_the_decision_data_link_to_their_bot_message(previous_release, tmp_path):
    """0009 links each existing bot turn to the bot message its decision was read from, so the
    editor's unanswered list keeps the questions of turns stored before it."""
    url = previous_release
    cfg = alembic_config(url)
    command.upgrade(cfg, "0008")
    get_engine(url).dispose()
    with get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO bot_turns (conversation_id, decision, entry_id, created_at)"
                          " VALUES (:c, 'clarify', NULL, :at)"), {"c": "c" * 32, "at": ts(url, 4)})
    get_engine(url).dispose()
    upgrade(url)
    with get_engine(url).connect() as conn:
        linked = conn.execute(text("SELECT m.text FROM bot_turns t JOIN messages m ON m.id = t.message_id")).all()
    assert [r[0] for r in linked] == ["您是不是想问：宽带老是掉线怎么办？"]
    found = {i["text"]: i["kinds"] for i in unanswered_questions(session_factory(url), scan=100)}
    assert found["宽带老是掉线，电话138****5678"] == {"clarify": 1, "handoff": 1}


def test_downgrade_to_the_previous_release_and_back(previous_release, tmp_path):
    url = previous_release
    before = old_rows(url)
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    get_engine(url).dispose()
    command.downgrade(cfg, PREVIOUS_RELEASE)
    get_engine(url).dispose()
    assert revision(url) == PREVIOUS_RELEASE
    assert old_rows(url) == before
    with get_engine(url).connect() as conn:
        tables = set(conn.dialect.get_table_names(conn))
    assert not tables & {"wechat_inbound", "wechat_nonces", "wechat_outbox", "csat_ratings", "bot_turns"}
    command.upgrade(cfg, "head")
    get_engine(url).dispose()
    assert old_rows(url) == before
    check_the_app_reads_them(url, tmp_path)


def test_every_revision_steps_up_and_down_on_an_empty_database(db_url):
    cfg = alembic_config(db_url)
    script = ScriptDirectory.from_config(cfg)
    revisions = [s.revision for s in reversed(list(script.walk_revisions()))]
    assert revisions[:3] == ["0001", "0002", PREVIOUS_RELEASE]
    for rev in revisions:
        command.upgrade(cfg, rev)
        get_engine(db_url).dispose()
        assert revision(db_url) == rev
    command.downgrade(cfg, "base")
    get_engine(db_url).dispose()
    assert revision(db_url) is None
    with get_engine(db_url).connect() as conn:
        assert set(conn.dialect.get_table_names(conn)) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    get_engine(db_url).dispose()
    assert is_up_to_date(db_url)
