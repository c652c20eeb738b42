"""KB store on SQLite and PostgreSQL: versions, audit log, workflow, imports, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from kb.schema import EntryRecord
from kb.store import (
    EntryExists,
    EntryNotFound,
    NotEditable,
    StoreError,
    VersionConflict,
    VersionNotFound,
)
from kb.workflow import InvalidTransition

CONTENT = {
    "question": "怎么查询话费余额？",
    "similar_questions": ["我还剩多少话费", "查余额"],
    "answer": "发送“CXYE”到10050查询余额。",
    "category": "billing",
    "tags": ["话费余额", "查询"],
    "channels": {"wechat": "公众号菜单“查询-话费余额”。"},
    "owner": "计费组",
    "review_due": date(2027, 3, 31),
}


def make_record(entry_id: str, **overrides) -> EntryRecord:
    return EntryRecord.model_validate({"id": entry_id, **CONTENT, **overrides})


def snapshot_state(store, entry_id):
    """Everything a change could touch: the row, its versions, its audit rows, the revision."""
    entry = store.get(entry_id)
    return (
        {k: getattr(entry, k) for k in ("question", "answer", "category", "status", "version", "updated_at")},
        [(v.version, v.snapshot) for v in store.versions(entry_id)],
        [(a.id, a.action, a.version) for a in store.audit(entry_id)],
        store.revision(),
    )


# ---- create / update / versions / audit ---------------------------------------------------


def test_create_gives_version_1_draft_with_audit_row(store):
    entry = store.create("billing-001", CONTENT, actor="alice")
    assert entry.version == 1
    assert entry.status == "draft"

    stored = store.get("billing-001")
    assert stored.version == 1 and stored.status == "draft"
    assert stored.question == CONTENT["question"]
    assert stored.channels == CONTENT["channels"]
    assert stored.review_due == date(2027, 3, 31)
    assert stored.created_at.tzinfo is not None

    audit = store.audit("billing-001")
    assert len(audit) == 1
    row = audit[0]
    assert (row.action, row.actor, row.version) == ("create", "alice", 1)
    assert row.entity_type == "kb_entry" and row.entity_id == "billing-001"
    assert row.changes["question"] == [None, CONTENT["question"]]
    assert row.changes["status"] == [None, "draft"]

    versions = store.versions("billing-001")
    assert [(v.version, v.action, v.actor) for v in versions] == [(1, "create", "alice")]
    assert versions[0].snapshot["answer"] == CONTENT["answer"]
    assert versions[0].snapshot["status"] == "draft"


def test_create_validates_content(store):
    with pytest.raises(ValidationError):
        store.create("x-1", {**CONTENT, "category": "nonsense"})
    with pytest.raises(ValidationError):
        store.create("x-1", {**CONTENT, "answer": "   "})
    with pytest.raises(ValidationError):
        store.create("has space", CONTENT)
    assert store.list_entries() == []
    assert store.revision() == 0


def test_create_refuses_an_existing_id(store):
    store.create("billing-001", CONTENT)
    before = snapshot_state(store, "billing-001")
    with pytest.raises(EntryExists):
        store.create("billing-001", {**CONTENT, "answer": "另一个答案"})
    assert snapshot_state(store, "billing-001") == before


def test_update_creates_new_version_with_diff_and_actor(store):
    store.create("billing-001", CONTENT, actor="alice")
    updated = store.update(
        "billing-001", {"answer": "新答案：拨打10050。", "tags": ["查询"]}, actor="bob"
    )
    assert updated.version == 2
    entry = store.get("billing-001")
    assert entry.version == 2
    assert entry.answer == "新答案：拨打10050。"
    assert entry.tags == ["查询"]
    assert entry.question == CONTENT["question"]  # untouched fields stay
    assert entry.updated_at >= entry.created_at

    latest = store.audit("billing-001")[0]  # newest first
    assert (latest.action, latest.actor, latest.version) == ("update", "bob", 2)
    assert latest.changes == {
        "answer": [CONTENT["answer"], "新答案：拨打10050。"],
        "tags": [CONTENT["tags"], ["查询"]],
    }


def test_update_diff_records_dates_as_text(store):
    store.create("billing-001", CONTENT)
    store.update("billing-001", {"review_due": "2028-01-15"})
    assert store.get("billing-001").review_due == date(2028, 1, 15)
    assert store.audit("billing-001")[0].changes == {"review_due": ["2027-03-31", "2028-01-15"]}


def test_every_change_adds_a_version_snapshot(store):
    store.create("e-1", CONTENT, actor="a")
    store.update("e-1", {"answer": "答案二"}, actor="b")
    store.transition("e-1", "review", actor="c")
    store.update("e-1", {"answer": "答案三"}, actor="d")
    store.transition("e-1", "published", actor="e")

    versions = store.versions("e-1")
    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    assert [v.action for v in versions] == ["create", "update", "transition", "update", "transition"]
    assert [v.actor for v in versions] == ["a", "b", "c", "d", "e"]
    assert [v.snapshot["answer"] for v in versions] == [
        CONTENT["answer"], "答案二", "答案二", "答案三", "答案三",
    ]
    assert [v.snapshot["status"] for v in versions] == [
        "draft", "draft", "review", "review", "published",
    ]
    assert all(v.snapshot["version"] == v.version for v in versions)
    # one audit row per version, newest first
    assert [a.version for a in store.audit("e-1")] == [5, 4, 3, 2, 1]


def test_update_refuses_store_owned_fields(store):
    store.create("e-1", CONTENT)
    before = snapshot_state(store, "e-1")
    with pytest.raises(StoreError, match="status"):
        store.update("e-1", {"status": "published"})
    with pytest.raises(StoreError, match="version"):
        store.update("e-1", {"version": 9})
    assert snapshot_state(store, "e-1") == before


def test_restore_brings_back_old_content_as_a_new_version(store):
    store.create("e-1", CONTENT, actor="alice")
    store.update("e-1", {"answer": "错误的答案", "similar_questions": []}, actor="bob")
    store.update("e-1", {"category": "plan"}, actor="bob")

    restored = store.restore("e-1", 1, actor="carol")
    assert restored.version == 4
    entry = store.get("e-1")
    assert entry.version == 4
    assert entry.answer == CONTENT["answer"]
    assert entry.similar_questions == CONTENT["similar_questions"]
    assert entry.category == "billing"
    assert entry.status == "draft"  # restore keeps the status

    audit = store.audit("e-1")[0]
    assert (audit.action, audit.actor, audit.version) == ("restore", "carol", 4)
    assert audit.changes["restored_version"] == 1
    assert audit.changes["answer"] == ["错误的答案", CONTENT["answer"]]
    assert audit.changes["category"] == ["plan", "billing"]
    # history is kept, not rewritten
    assert [v.version for v in store.versions("e-1")] == [1, 2, 3, 4]
    assert store.versions("e-1")[1].snapshot["answer"] == "错误的答案"


def test_restore_of_unknown_version_is_refused(store):
    store.create("e-1", CONTENT)
    before = snapshot_state(store, "e-1")
    with pytest.raises(VersionNotFound):
        store.restore("e-1", 7)
    assert snapshot_state(store, "e-1") == before


def test_stale_expected_version_raises_conflict_and_changes_nothing(store):
    store.create("e-1", CONTENT)
    store.update("e-1", {"answer": "编辑甲的答案"}, expected_version=1)  # editor A, on time
    before = snapshot_state(store, "e-1")
    with pytest.raises(VersionConflict) as info:
        store.update("e-1", {"answer": "编辑乙的答案"}, expected_version=1)  # editor B, stale
    assert "version 1" in str(info.value) and "now 2" in str(info.value)
    assert store.get("e-1").answer == "编辑甲的答案"
    assert snapshot_state(store, "e-1") == before
    # with the current version the edit goes through
    assert store.update("e-1", {"answer": "编辑乙的答案"}, expected_version=2).version == 3


# ---- workflow -------------------------------------------------------------------------------


def test_full_workflow_path(store):
    store.create("e-1", CONTENT)
    path = ["review", "draft", "review", "published", "archived", "draft", "review", "published"]
    for number, target in enumerate(path, start=2):
        entry = store.transition("e-1", target, actor="editor")
        assert entry.status == target
        assert entry.version == number
        latest = store.audit("e-1")[0]
        assert latest.action == "transition" and latest.actor == "editor"
        assert latest.changes == {"status": [store.versions("e-1")[-2].snapshot["status"], target]}
    assert store.get("e-1").status == "published"


def _move_to(store, entry_id, status):
    route = {
        "draft": [],
        "review": ["review"],
        "published": ["review", "published"],
        "archived": ["review", "published", "archived"],
    }[status]
    for step in route:
        store.transition(entry_id, step)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "published"),
        ("draft", "draft"),
        ("review", "archived"),
        ("published", "review"),
        ("archived", "published"),
        ("archived", "review"),
    ],
)
def test_invalid_transitions_are_refused_and_leave_entry_unchanged(store, current, target):
    store.create("e-1", CONTENT)
    _move_to(store, "e-1", current)
    before = snapshot_state(store, "e-1")
    with pytest.raises(InvalidTransition) as info:
        store.transition("e-1", target)
    assert f"from {current} to {target}" in str(info.value)
    assert snapshot_state(store, "e-1") == before
    assert store.get("e-1").status == current


def test_unknown_status_is_refused(store):
    store.create("e-1", CONTENT)
    with pytest.raises(ValueError):
        store.transition("e-1", "deleted")
    assert store.get("e-1").status == "draft" and store.get("e-1").version == 1


def test_archived_entry_cannot_be_edited_until_reopened(store):
    store.create("e-1", CONTENT)
    _move_to(store, "e-1", "archived")
    before = snapshot_state(store, "e-1")
    with pytest.raises(NotEditable):
        store.update("e-1", {"answer": "新的答案"})
    with pytest.raises(NotEditable):
        store.restore("e-1", 1)
    assert snapshot_state(store, "e-1") == before

    store.transition("e-1", "draft")
    assert store.update("e-1", {"answer": "新的答案"}).answer == "新的答案"


def test_published_entry_can_be_edited(store):
    store.create("e-1", CONTENT)
    _move_to(store, "e-1", "published")
    entry = store.update("e-1", {"answer": "更新后的答案"})
    assert entry.status == "published" and entry.answer == "更新后的答案"


def test_unknown_ids_raise_entry_not_found(store):
    store.create("e-1", CONTENT)
    calls = [
        lambda: store.get("nope"),
        lambda: store.update("nope", {"answer": "x"}),
        lambda: store.transition("nope", "review"),
        lambda: store.restore("nope", 1),
        lambda: store.versions("nope"),
    ]
    revision = store.revision()
    for call in calls:
        with pytest.raises(EntryNotFound, match="nope"):
            call()
    assert store.revision() == revision
    assert store.audit("nope") == []
    assert str(EntryNotFound("nope")) == "no KB entry with id 'nope'"


# ---- listing ----------------------------------------------------------------------------------


def test_published_lists_only_published_entries(store):
    for entry_id in ("a-draft", "b-review", "c-pub", "d-archived", "e-pub"):
        store.create(entry_id, CONTENT)
    _move_to(store, "b-review", "review")
    _move_to(store, "c-pub", "published")
    _move_to(store, "d-archived", "archived")
    _move_to(store, "e-pub", "published")

    assert [e.id for e in store.published()] == ["c-pub", "e-pub"]
    assert [e.id for e in store.list_entries()] == ["a-draft", "b-review", "c-pub", "d-archived", "e-pub"]
    assert [e.id for e in store.list_entries(status="archived")] == ["d-archived"]

    store.transition("c-pub", "archived")
    assert [e.id for e in store.published()] == ["e-pub"]


def test_list_entries_filters_by_category(store):
    store.create("p-1", {**CONTENT, "category": "plan"})
    store.create("b-1", CONTENT)
    assert [e.id for e in store.list_entries(category="plan")] == ["p-1"]


# ---- import ---------------------------------------------------------------------------------


def test_import_creates_updates_and_leaves_unchanged(store):
    first = store.import_records(
        [make_record("a-1"), make_record("a-2", question="第二个问题"), make_record("a-3", status="draft")],
        actor="importer",
    )
    assert sorted(first.created) == ["a-1", "a-2", "a-3"]
    assert first.updated == [] and first.unchanged == []
    assert store.get("a-1").status == "published"  # the record's default
    assert store.get("a-3").status == "draft"
    assert store.audit("a-1")[0].action == "import" and store.audit("a-1")[0].actor == "importer"

    second = store.import_records(
        [
            make_record("a-1"),  # same content
            make_record("a-2", question="第二个问题（改）"),  # content changed
            make_record("a-3"),  # status changes draft → published
            make_record("a-4"),  # new
        ]
    )
    assert second.created == ["a-4"]
    assert sorted(second.updated) == ["a-2", "a-3"]
    assert second.unchanged == ["a-1"]

    assert store.get("a-1").version == 1
    a2 = store.get("a-2")
    assert a2.question == "第二个问题（改）" and a2.version == 2
    assert store.audit("a-2")[0].changes == {"question": ["第二个问题", "第二个问题（改）"]}
    a3 = store.get("a-3")
    assert a3.status == "published" and a3.version == 2
    assert store.audit("a-3")[0].changes == {"status": ["draft", "published"]}
    assert len(store.list_entries()) == 4


def test_reimport_never_duplicates(store, demo_records):
    first = store.import_records(demo_records)
    assert len(first.created) == len(demo_records)
    revision = store.revision()
    again = store.import_records(demo_records)
    assert again.created == [] and again.updated == []
    assert len(again.unchanged) == len(demo_records)
    assert len(store.list_entries()) == len(demo_records)
    assert store.revision() == revision  # nothing changed, nothing to reindex
    assert all(len(store.versions(e.id)) == 1 for e in store.list_entries()[:5])


def test_import_keeps_version_and_timestamps_from_the_file(store):
    record = make_record(
        "a-1",
        version=7,
        created_at="2025-01-02T03:04:05.123456Z",
        updated_at="2025-06-07T08:09:10.654321Z",
    )
    store.import_records([record])
    entry = store.get("a-1")
    assert entry.version == 7
    assert entry.created_at == record.created_at
    assert entry.updated_at == record.updated_at
    assert [v.version for v in store.versions("a-1")] == [7]


# ---- revision and atomicity -------------------------------------------------------------------


def test_revision_rises_on_every_change(store):
    seen = [store.revision()]
    store.create("e-1", CONTENT)
    seen.append(store.revision())
    store.update("e-1", {"answer": "答案二"})
    seen.append(store.revision())
    store.transition("e-1", "review")
    seen.append(store.revision())
    store.restore("e-1", 1)
    seen.append(store.revision())
    store.import_records([make_record("e-2")])
    seen.append(store.revision())
    assert seen == sorted(set(seen)), f"revision did not rise on every change: {seen}"
    # refused changes leave it where it was
    with pytest.raises(InvalidTransition):
        store.transition("e-1", "archived")
    with pytest.raises(ValidationError):
        store.update("e-1", {"category": "bogus"})
    assert store.revision() == seen[-1]


def test_failed_update_leaves_nothing_half_written(store):
    store.create("e-1", CONTENT)
    store.update("e-1", {"answer": "答案二"})
    before = snapshot_state(store, "e-1")
    with pytest.raises(ValidationError):
        store.update("e-1", {"answer": "答案三", "category": "bogus"})
    assert snapshot_state(store, "e-1") == before
    assert store.get("e-1").answer == "答案二"


def test_import_failing_midway_rolls_back_every_record(store):
    store.create("existing", CONTENT)
    before = snapshot_state(store, "existing")

    def records():
        yield make_record("new-1")
        yield make_record("existing", answer="导入改的答案")  # an update, already flushed
        raise RuntimeError("reader broke halfway")

    with pytest.raises(RuntimeError):
        store.import_records(records())
    assert [e.id for e in store.list_entries()] == ["existing"]
    assert snapshot_state(store, "existing") == before
    assert store.audit("new-1") == []
    assert len(store.audit()) == 1


def test_reads_after_refusals_still_work(store):
    """A refused write must not leave a broken session/connection behind."""
    store.create("e-1", CONTENT)
    for _ in range(3):
        with pytest.raises(VersionConflict):
            store.update("e-1", {"answer": "x"}, expected_version=99)
        with pytest.raises(EntryExists):
            store.create("e-1", CONTENT)
    assert store.update("e-1", {"answer": "最终答案"}).version == 2
    assert store.get("e-1").answer == "最终答案"


def test_audit_is_newest_first_across_entries(store):
    store.create("e-1", CONTENT, actor="a")
    store.create("e-2", CONTENT, actor="b")
    store.update("e-1", {"answer": "新"}, actor="c")
    rows = store.audit()
    assert [(r.entity_id, r.action, r.actor) for r in rows] == [
        ("e-1", "update", "c"),
        ("e-2", "create", "b"),
        ("e-1", "create", "a"),
    ]
    assert len(store.audit(limit=2)) == 2


# ---- lengths the database enforces are validated first --------------------------------------


def test_overlong_owner_is_refused_the_same_way_on_every_backend(store):
    with pytest.raises(ValidationError):
        store.create("e-1", {**CONTENT, "owner": "组" * 200})
    assert store.list_entries() == []


def test_overlong_actor_is_refused_before_touching_the_database(store):
    with pytest.raises(StoreError, match="actor"):
        store.create("e-1", CONTENT, actor="人" * 129)
    assert store.list_entries() == []
