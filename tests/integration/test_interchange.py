"""Interchange files: lossless YAML/JSONL round trips through the store and clear per-record
errors (with line numbers) for bad input."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from db.migrate import upgrade
from kb.interchange import InterchangeError, parse_file, write_file
from kb.schema import to_record
from kb.store import KBStore
from tests.support.demo_kb import DEMO_ENTRIES, DEMO_KB

# Entries exercising every field: channels, null owner/review_due, statuses other than
# published, numbers in tags, Markdown answers and strings YAML would otherwise retype.
EDGE_YAML = """\
- id: edge-1
  question: 宽带 "光猫" 灯不亮：怎么办？
  similar_questions: ['yes', 'null', '2027-01-01', '10050']
  answer: |
    1. 检查电源
    2. 重启光猫

    > 仍不行请拨打 **10000**
  category: broadband
  tags: [10050, 光猫, 3.5]
  channels:
    web: 见网页版说明
    wechat: 回复“光猫”获取图文指引
  status: review
  owner: null
- id: edge-2
  question: "  首尾空格会去掉  "
  answer: 'true'
  category: other
  status: archived
  review_due: 2026-12-31
- id: edge-3
  question: 草稿条目
  answer: 草稿答案
  category: service
  status: draft
"""


@pytest.fixture
def fresh_store(db_url, request, tmp_path):
    """A factory for further empty databases on the same backend as `store`."""

    def make() -> KBStore:
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'extra-{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            server = request.getfixturevalue("postgres_server")
            if isinstance(server, str):
                pytest.skip("an external PostgreSQL URL gives no way to create a second database")
            url = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
        upgrade(url)
        return KBStore(url)

    return make


def _export(store: KBStore, path: Path) -> Path:
    write_file(path, [to_record(e) for e in store.list_entries()])
    return path


def _import(store: KBStore, path: Path) -> None:
    parsed = parse_file(path)
    assert parsed.errors == []
    store.import_records(parsed.records)


# ---- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
def test_demo_round_trip_is_byte_identical(store, fresh_store, tmp_path, demo_records, suffix):
    _import(store, DEMO_KB)
    first = _export(store, tmp_path / f"first{suffix}")

    second_store = fresh_store()
    _import(second_store, first)
    second = _export(second_store, tmp_path / f"second{suffix}")

    assert first.read_bytes() == second.read_bytes()

    # and what was exported is the demo content, not just something stable
    exported = parse_file(first)
    assert exported.errors == []
    assert len(exported.records) == DEMO_ENTRIES
    by_id = {r.id: r for r in exported.records}
    assert sorted(by_id) == sorted(r.id for r in demo_records)
    for original in demo_records:
        got = by_id[original.id]
        assert got.content() == original.content(), original.id
        assert got.status == original.status == "published"
        assert got.version == 1
        assert got.created_at is not None and got.updated_at is not None


@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
def test_edge_case_round_trip_is_lossless(store, fresh_store, tmp_path, suffix):
    source = tmp_path / "edge.yaml"
    source.write_text(EDGE_YAML, encoding="utf-8")
    _import(store, source)
    # give one entry a history so version numbers above 1 travel too
    store.update("edge-3", {"answer": "草稿答案（改）", "owner": "客服部"})

    first = _export(store, tmp_path / f"first{suffix}")
    second_store = fresh_store()
    _import(second_store, first)
    second = _export(second_store, tmp_path / f"second{suffix}")
    assert first.read_bytes() == second.read_bytes()

    records = {r["id"]: r for r in (to_record(e) for e in second_store.list_entries())}
    assert records["edge-1"]["similar_questions"] == ["yes", "null", "2027-01-01", "10050"]
    assert records["edge-1"]["tags"] == ["10050", "光猫", "3.5"]
    assert records["edge-1"]["channels"] == {"web": "见网页版说明", "wechat": "回复“光猫”获取图文指引"}
    assert records["edge-1"]["answer"] == "1. 检查电源\n2. 重启光猫\n\n> 仍不行请拨打 **10000**"
    assert records["edge-1"]["status"] == "review"
    assert records["edge-1"]["owner"] is None and records["edge-1"]["review_due"] is None
    assert records["edge-2"]["question"] == "首尾空格会去掉"
    assert records["edge-2"]["answer"] == "true"
    assert records["edge-2"]["status"] == "archived"
    assert records["edge-2"]["review_due"] == "2026-12-31"
    assert records["edge-3"]["answer"] == "草稿答案（改）"
    assert records["edge-3"]["owner"] == "客服部"
    assert records["edge-3"]["version"] == 2
    # metadata survives the trip exactly, down to the microsecond
    originals = {e.id: to_record(e) for e in store.list_entries()}
    assert records == originals
    for entry in store.list_entries():
        copy = second_store.get(entry.id)
        assert (copy.version, copy.created_at, copy.updated_at) == (
            entry.version, entry.created_at, entry.updated_at
        )


def test_export_writes_documented_field_order(store, tmp_path):
    _import(store, DEMO_KB)
    path = _export(store, tmp_path / "out.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == DEMO_ENTRIES
    first = json.loads(lines[0])
    assert list(first) == [
        "id", "question", "similar_questions", "answer", "category", "tags", "channels",
        "status", "owner", "review_due", "version", "created_at", "updated_at",
    ]
    assert first["created_at"].endswith("Z")
    assert "\\u" not in lines[0]  # Chinese is written as text, not escapes
    assert not list(tmp_path.glob("*.tmp"))


def test_export_over_existing_file_replaces_it(store, tmp_path):
    path = tmp_path / "out.yaml"
    path.write_text("stale content that is not YAML: [", encoding="utf-8")
    store.create("a-1", {"question": "问", "answer": "答", "category": "other"})
    _export(store, path)
    parsed = parse_file(path)
    assert [r.id for r in parsed.records] == ["a-1"]


# ---- defaults and coercions ---------------------------------------------------------------------


def test_status_defaults_to_published_and_numbers_in_tags_become_strings(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_text(
        "- id: n-2\n"
        "  question: 客服电话是多少\n"
        "  answer: 拨打10050\n"
        "  category: service\n"
        "  tags: [10050, 5.5, 客服]\n"
        "  similar_questions: [10086]\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.errors == []
    assert [r.id for r in parsed.records] == ["n-2"]
    record = parsed.records[0]
    assert record.status == "published"
    assert record.tags == ["10050", "5.5", "客服"]
    assert record.similar_questions == ["10086"]


def test_jsonl_status_defaults_to_published(tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text(
        json.dumps({"id": "j-1", "question": "问", "answer": "答", "category": "plan", "tags": [1, 2]},
                   ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    (record,) = parse_file(path).records
    assert record.status == "published"
    assert record.tags == ["1", "2"]


def test_empty_yaml_file_has_no_records(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.records == [] and parsed.errors == []


# ---- per-record errors ------------------------------------------------------------------------

BAD_YAML = """\
# header comment
- id: ok-1
  question: 怎么查话费
  answer: 发短信
  category: billing

- id: bad-category
  question: q
  answer: a
  category: telecom

- id: no-answer
  question: q
  category: billing
- id: empty-question
  question: "   "
  answer: a
  category: billing
- id: extra-field
  question: q
  answer: a
  category: billing
  colour: red
- id: ok-1
  question: 重复
  answer: a
  category: billing
- just a string
- id: ok-2
  question: 第二条好的
  answer: a
  category: plan
"""


def test_yaml_errors_name_line_index_id_and_reason(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    parsed = parse_file(path)

    assert [r.id for r in parsed.records] == ["ok-1", "ok-2"]
    got = [(e.line, e.index, e.entry_id) for e in parsed.errors]
    assert got == [
        (7, 2, "bad-category"),
        (12, 3, "no-answer"),
        (15, 4, "empty-question"),
        (19, 5, "extra-field"),
        (24, 6, "ok-1"),
        (28, 7, None),
    ]
    reasons = [e.reason for e in parsed.errors]
    assert "unknown category 'telecom'" in reasons[0]
    assert "answer" in reasons[1] and "required" in reasons[1].lower()
    assert "question" in reasons[2] and "empty" in reasons[2]
    assert "colour" in reasons[3]
    assert "duplicate id" in reasons[4] and "line 2" in reasons[4]
    assert "mapping" in reasons[5]
    assert str(parsed.errors[0]).startswith("line 7, record 2 (id bad-category): ")


def test_jsonl_errors_name_line_index_id_and_reason(tmp_path):
    good = {"id": "j-1", "question": "问", "answer": "答", "category": "plan"}
    lines = [
        json.dumps(good, ensure_ascii=False),  # line 1
        "",  # line 2: blank lines are skipped
        '{"id": "j-2", "question": ',  # line 3: invalid JSON
        json.dumps({**good, "id": "j-3", "category": "zzz"}),  # line 4
        json.dumps({k: v for k, v in good.items() if k != "answer"} | {"id": "j-4"}),  # line 5
        json.dumps({**good, "id": "j-5", "question": ""}),  # line 6
        json.dumps({**good, "id": "j-6", "priority": "high"}),  # line 7
        json.dumps(good),  # line 8: duplicate of line 1
        "[1, 2]",  # line 9
        json.dumps({**good, "id": "j-7"}),  # line 10
    ]
    path = tmp_path / "kb.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_file(path)

    assert [r.id for r in parsed.records] == ["j-1", "j-7"]
    got = [(e.line, e.entry_id) for e in parsed.errors]
    assert got == [(3, None), (4, "j-3"), (5, "j-4"), (6, "j-5"), (7, "j-6"), (8, "j-1"), (9, None)]
    reasons = [e.reason for e in parsed.errors]
    assert reasons[0].startswith("invalid JSON")
    assert "unknown category 'zzz'" in reasons[1]
    assert "answer" in reasons[2]
    assert "question" in reasons[3] and "empty" in reasons[3]
    assert "priority" in reasons[4]
    assert "duplicate id" in reasons[5] and "line 1" in reasons[5]
    assert "mapping" in reasons[6]


def test_bad_record_values_are_reported_not_raised(tmp_path):
    path = tmp_path / "kb.jsonl"
    rows = [
        {"id": "bad id with spaces", "question": "q", "answer": "a", "category": "plan"},
        {"id": "s-1", "question": "q", "answer": "a", "category": "plan", "status": "live"},
        {"id": "c-1", "question": "q", "answer": "a", "category": "plan", "channels": {"sms": "x"}},
        {"id": "d-1", "question": "q", "answer": "a", "category": "plan", "similar_questions": ["x", "x"]},
        {"id": "r-1", "question": "q", "answer": "a", "category": "plan", "review_due": "someday"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.records == []
    assert [e.line for e in parsed.errors] == [1, 2, 3, 4, 5]
    assert "id" in parsed.errors[0].reason
    assert "status" in parsed.errors[1].reason
    assert "sms" in parsed.errors[2].reason
    assert "duplicates" in parsed.errors[3].reason
    assert "review_due" in parsed.errors[4].reason


# ---- whole-file errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "id: x\nquestion: q\nanswer: a\ncategory: plan\n",  # a mapping, not a list
        "just some text\n",
        "42\n",
    ],
)
def test_yaml_that_is_not_a_list_is_refused(tmp_path, text):
    path = tmp_path / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InterchangeError, match="must be a list"):
        parse_file(path)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("- id: a\n  question: q\n    answer: bad indent\n  category: billing\n", 3),
        ("- id: a\n  question: q\n- id: b\n  question: [x\n  answer: a\n- id: c\n", 5),
        ("- id: a\n\tquestion: q\n", 2),
    ],
)
def test_malformed_yaml_raises_with_the_line(tmp_path, text, line):
    path = tmp_path / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InterchangeError) as info:
        parse_file(path)
    message = str(info.value)
    assert "malformed YAML" in message
    assert f"line {line}" in message
    assert str(path) in message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(InterchangeError, match="no such file"):
        parse_file(tmp_path / "missing.yaml")
    with pytest.raises(InterchangeError, match="no such file"):
        parse_file(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("name", ["kb.txt", "kb.json", "kb.csv", "kb"])
def test_unknown_suffix_is_refused_for_reading_and_writing(tmp_path, name):
    path = tmp_path / name
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(InterchangeError, match="unknown file type"):
        parse_file(path)
    target = tmp_path / "out" / name
    with pytest.raises(InterchangeError, match="unknown file type"):
        write_file(target, [])
    assert not target.exists()


def test_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "KB.YML"
    path.write_text("- id: a\n  question: q\n  answer: a\n  category: plan\n", encoding="utf-8")
    assert [r.id for r in parse_file(path).records] == ["a"]


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_bytes("- id: a\n  question: 问题\n".encode("gbk"))
    with pytest.raises(InterchangeError, match="UTF-8"):
        parse_file(path)



# ---- characters and lengths that once broke round trips or backends -----------------------


def test_jsonl_round_trip_keeps_unicode_line_separator(tmp_path):
    record = {"id": "ls-1", "question": "从网页复制的问题", "answer": "第一段\u2028第二段",
              "category": "other"}
    path = tmp_path / "out.jsonl"
    write_file(path, [record])
    parsed = parse_file(path)
    assert parsed.errors == []
    assert [r.answer for r in parsed.records] == ["第一段\u2028第二段"]


def test_yaml_round_trip_keeps_next_line_character(tmp_path):
    record = {"id": "nel-1", "question": "问题", "answer": "第一行\x85第二行", "category": "other"}
    path = tmp_path / "out.yaml"
    write_file(path, [record])
    parsed = parse_file(path)
    assert [r.answer for r in parsed.records] == ["第一行\x85第二行"]


def test_jsonl_with_utf8_bom_is_read(tmp_path):
    path = tmp_path / "kb.jsonl"
    line = json.dumps({"id": "b-1", "question": "问", "answer": "答", "category": "plan"},
                      ensure_ascii=False)
    path.write_text("\ufeff" + line + "\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.errors == []
    assert [r.id for r in parsed.records] == ["b-1"]


def test_owner_longer_than_the_column_is_reported_per_record(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_text(
        "- id: o-1\n  question: 问\n  answer: 答\n  category: plan\n  owner: " + "组" * 200 + "\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.records == []
    assert [(e.line, e.entry_id) for e in parsed.errors] == [(1, "o-1")]
    assert "owner" in parsed.errors[0].reason
