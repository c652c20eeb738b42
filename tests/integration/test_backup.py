"""Backups and restore (db/backup.py) on SQLite and on a real PostgreSQL: a database with the
demo KB, edits (versions + audit), conversations and escalation records is backed up, damaged,
restored and compared table by table; the CLI refuses garbage and non-empty targets."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import MetaData, delete, select, update
from typer.testing import CliRunner

from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.backup import BackupError, app, create_backup, has_data, restore_backup, verify_backup
from db.engine import get_engine, session_factory
from db.migrate import upgrade
from gateway.conversations.models import Message
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import Handoff, HandoffReason
from gateway.handoffs.service import HandoffService
from kb.models import KBEntry
from kb.store import KBStore
from tests.support.demo_kb import DEMO_ENTRIES

runner = CliRunner()


def populate(url: str, tmp_path, demo_records) -> None:
    upgrade(url)
    store = KBStore(url)
    store.import_records(demo_records, actor="importer")
    first, second = demo_records[0].id, demo_records[1].id
    store.transition(first, "draft", actor="editor-li")
    store.update(first, {"answer": "新的答案：请重启光猫后再试。"}, actor="editor-li")
    store.transition(first, "review", actor="editor-li")
    store.create("backup-test-1", {"question": "备份测试问题", "answer": "备份测试答案",
                                   "category": "other"}, actor="editor-wang")
    store.transition(second, "draft", actor="editor-wang")
    store.transition(second, "review", actor="editor-wang")
    store.transition(second, "published", actor="editor-wang")

    sessions = session_factory(url)
    settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    handoffs = HandoffService(sessions, settings, conversations)
    for i in range(3):
        conv = conversations.resolve("web", f"customer-{i}", None)
        conversations.add_message(conv.id, "customer", f"宽带老是掉线，第{i}次了，电话13812345678")
        conversations.add_message(conv.id, "bot", "您是不是想问：宽带掉线怎么办？",
                                  [{"title": "转人工", "payload": "/request_human"}])
        if i < 2:
            conversations.add_message(conv.id, "customer", "转人工")
            outcome = handoffs.create(conv.id, HandoffReason.user_request)
            if i == 0:
                handoffs.transition(outcome.handoff.id, "claim", actor="agent-zhao")
    KeyStore(sessions).create("agent-zhao", Role.agent)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key."""
    engine = get_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    rows = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def damage(url: str) -> None:
    """Edits, deletions and inserts the restore must undo."""
    sessions = session_factory(url)
    with sessions.begin() as session:
        session.execute(update(KBEntry).values(answer="被篡改的答案"))
        session.execute(delete(Message).where(Message.sender == "bot"))
        session.execute(update(Handoff).values(status="closed", owner="nobody"))
    store = KBStore(url)
    store.create("added-after-backup", {"question": "备份后新增", "answer": "不应存在", "category": "other"})


@pytest.fixture
def populated(db_url, tmp_path, demo_records) -> str:
    populate(db_url, tmp_path, demo_records)
    return db_url


def test_backup_and_restore_bring_every_row_back(populated, tmp_path):
    url = populated
    before = snapshot(url)
    entries = DEMO_ENTRIES + 1  # the demo KB and backup-test-1
    assert len(before["kb_entries"]) == entries and len(before["handoffs"]) == 2
    assert len(before["kb_entry_versions"]) > entries and len(before["audit_log"]) > entries
    assert len(before["conversations"]) == 3 and len(before["messages"]) == 8
    assert len(before["handoff_events"]) == 3 and len(before["api_keys"]) == 1

    backup = tmp_path / "backup.bin"
    info = create_backup(url, backup)
    assert info.size > 0 and backup.stat().st_size == info.size
    verify_backup(backup, info.backend)

    damage(url)
    assert snapshot(url) != before
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(backup, url)
    assert snapshot(url)["kb_entries"] != before["kb_entries"]  # the refusal changed nothing

    restore_backup(backup, url, force=True)
    after = snapshot(url)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert after == before
    # The app reads the restored database.
    store = KBStore(url)
    assert len(store.published()) == len([r for r in before["kb_entries"] if "published" in r])
    assert store.get("backup-test-1").answer == "备份测试答案"
    upgrade(url)  # already at head: a no-op


def test_restore_into_an_empty_database_needs_no_force(populated, tmp_path, request):
    backup = tmp_path / "backup.bin"
    create_backup(populated, backup)
    before = snapshot(populated)
    if populated.startswith("sqlite"):
        target = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"  # not even created yet
    else:
        server = request.getfixturevalue("postgres_server")
        if isinstance(server, str):
            pytest.skip("an external server: no second database to create")
        target = server.create_database("restore_target_" + str(abs(hash(str(tmp_path))))[:10])
        upgrade(target)  # migrated but empty counts as empty
    assert not has_data(target)
    restore_backup(backup, target)
    assert snapshot(target) == before


def test_restore_refuses_garbage_and_corrupt_files(populated, tmp_path):
    url = populated
    before = snapshot(url)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"this is not a backup\n" * 100)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    good = tmp_path / "good.bin"
    create_backup(url, good)
    corrupt = tmp_path / "corrupt.bin"
    data = bytearray(good.read_bytes())
    if url.startswith("sqlite"):
        for offset in range(4096 * 2, len(data) - 4096, 4096):
            data[offset + 100: offset + 600] = b"\xff" * 500  # scribble over page contents
    else:
        data = data[: len(data) // 2]  # a truncated archive
    corrupt.write_bytes(bytes(data))
    for bad in (garbage, empty, corrupt, tmp_path / "missing.bin"):
        with pytest.raises(BackupError):
            restore_backup(bad, url, force=True)
    assert snapshot(url) == before  # nothing was touched


def test_cli_create_verify_restore(populated, tmp_path):
    url = populated
    backup = tmp_path / "cli.bin"
    result = runner.invoke(app, ["create", "--out", str(backup), "--db", url])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.stdout
    assert runner.invoke(app, ["verify", str(backup), "--db", url]).exit_code == 0

    before = snapshot(url)
    damage(url)
    refused = runner.invoke(app, ["restore", str(backup), "--db", url])
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "error: the target database is not empty; use --force to overwrite it"]

    garbage = tmp_path / "garbage.bin"
    garbage.write_text("hello")
    bad = runner.invoke(app, ["restore", str(garbage), "--force", "--db", url])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1

    ok = runner.invoke(app, ["restore", str(backup), "--force", "--db", url])
    assert ok.exit_code == 0, ok.output
    assert snapshot(url) == before


def test_cli_errors_are_one_line(tmp_path):
    missing_db = f"sqlite:///{tmp_path / 'nope.sqlite3'}"
    result = runner.invoke(app, ["create", "--out", str(tmp_path / "x.bin"), "--db", missing_db])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: database file not found: {tmp_path / 'nope.sqlite3'}"
    result = runner.invoke(app, ["restore", str(tmp_path / "none.bin"), "--db", missing_db])
    assert result.exit_code == 1 and "backup file not found" in result.stderr
    result = runner.invoke(app, ["create", "--out", str(tmp_path / "x.bin"), "--db", "mysql://h/db"])
    assert result.exit_code == 1 and "unsupported database backend" in result.stderr


def test_a_foreign_sqlite_file_is_refused(sqlite_url, tmp_path):
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="not a backup of this application"):
        restore_backup(foreign, sqlite_url)


def test_sqlite_backup_while_another_thread_writes_is_consistent(demo_store, sqlite_url, tmp_path):
    """Every KB edit writes the entry, a version and an audit row in one transaction; a backup
    taken in the middle of a stream of edits holds either all three or none of each edit."""
    store = demo_store
    ids = [e.id for e in store.list_entries()[:20]]
    stop = threading.Event()
    edits = [0]
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set():
                store.update(ids[n % len(ids)], {"answer": f"并发编辑 {n}"}, actor="writer")
                n += 1
                edits[0] = n
        except BaseException as exc:  # noqa: BLE001 - pragma: no cover; any failure in the writer thread is reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    backups = []
    try:
        deadline = time.monotonic() + 30
        while edits[0] < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(5):
            path = tmp_path / f"live-{i}.bin"
            create_backup(sqlite_url, path)
            backups.append((path, edits[0]))
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert edits[0] > 5
    seen = set()
    for path, _ in backups:
        verify_backup(path, "sqlite")
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            mismatched = conn.execute(
                """SELECT e.id FROM kb_entries e
                   WHERE e.version != (SELECT max(v.version) FROM kb_entry_versions v WHERE v.entry_id = e.id)
                      OR e.version != (SELECT count(*) FROM kb_entry_versions v WHERE v.entry_id = e.id)
                      OR (SELECT count(*) FROM audit_log a WHERE a.entity_id = e.id)
                         != (SELECT count(*) FROM kb_entry_versions v WHERE v.entry_id = e.id)"""
            ).fetchall()
            writer_edits = conn.execute("SELECT count(*) FROM audit_log WHERE actor = 'writer'").fetchone()[0]
            writer_versions = conn.execute(
                "SELECT count(*) FROM kb_entry_versions WHERE actor = 'writer'").fetchone()[0]
        finally:
            conn.close()
        assert mismatched == []
        assert writer_edits == writer_versions
        seen.add(writer_edits)
    assert len(seen) > 1, "the writer should have made progress between backups"
    # A live backup restores like any other.
    target = f"sqlite:///{tmp_path / 'from-live.sqlite3'}"
    restore_backup(backups[-1][0], target)
    assert KBStore(target).get(ids[0]).version >= 1


def test_restore_replaces_the_sqlite_file_atomically(sqlite_url, tmp_path, demo_records, monkeypatch):
    """A restore that fails half-way leaves the old database as it was, and no temp files."""
    url = sqlite_url
    populate(url, tmp_path, demo_records)
    backup = tmp_path / "b.bin"
    create_backup(url, backup)
    damage(url)
    before = snapshot(url)
    import db.backup as mod

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(mod.os, "replace", boom)
    with pytest.raises(OSError):
        restore_backup(backup, url, force=True)
    monkeypatch.undo()
    assert snapshot(url) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".test.sqlite3.")]


def test_an_older_release_backup_restores_over_a_newer_schema(db_url, tmp_path, demo_records, request):
    """A backup at the previous release's revision (0003) restored over a head database with
    data: the newer tables go too, and the next start migrates the old rows to head."""
    from alembic import command

    from db.migrate import alembic_config, is_up_to_date
    from tests.support.previous_release import PREVIOUS_RELEASE, check_the_app_reads_them, insert_previous_release_rows

    if db_url.startswith("sqlite"):
        old_url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        server = request.getfixturevalue("postgres_server")
        if isinstance(server, str):
            pytest.skip("an external server: no second database to create")
        old_url = server.create_database("old_" + str(abs(hash(str(tmp_path))))[:10])
    command.upgrade(alembic_config(old_url), PREVIOUS_RELEASE)
    insert_previous_release_rows(old_url)
    old_backup = tmp_path / "old.bin"
    create_backup(old_url, old_backup)

    populate(db_url, tmp_path, demo_records)  # a head database with other data
    restore_backup(old_backup, db_url, force=True)
    assert not is_up_to_date(db_url)
    upgrade(db_url)
    check_the_app_reads_them(db_url, tmp_path)
    assert len(KBStore(db_url).list_entries()) == 2
