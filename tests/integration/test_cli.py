"""The real `kb` command line, run as a subprocess against temporary SQLite databases.

One database with the demo KB imported is shared by the module (tests on it only read, or
make changes that are refused); tests that need other contents get their own database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT
from kb.search.decision import Decision
from tests.support.demo_kb import DEMO_ENTRIES, DEMO_KB, EVAL_DIR

DEMO_COUNT = DEMO_ENTRIES
DECISIONS = {d.value for d in Decision}


class KB:
    """Runs `python -m kb.cli` with the index and var dir inside a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CS_DATABASE_URL", "CS_INDEX_DIR")
        }
        self.env["CS_VAR_DIR"] = str(root / "var")

    def db(self, name: str) -> str:
        return f"sqlite:///{self.root / name}.sqlite3"

    def __call__(self, *args: str, db: str | None = None) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "kb.cli", *map(str, args)]
        if db is not None:
            cmd += ["--db", db]
        return subprocess.run(
            cmd, cwd=PROJECT_ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )


def flat(text: str) -> str:
    """Output with line wrapping undone, for matching messages."""
    return re.sub(r"\s+", " ", text).strip()


def assert_refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Non-zero exit, nothing half-done on stdout, one `error:` line on stderr (last)."""
    assert result.returncode != 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert lines[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KB:
    return KB(tmp_path_factory.mktemp("kbcli"))


@pytest.fixture(scope="module")
def demo_db(kb):
    """The demo KB imported once into a database the module shares."""
    db = kb.db("demo")
    result = kb("import", DEMO_KB, db=db)
    return db, result


# ---- import / export ------------------------------------------------------------------------


def test_import_of_demo_creates_every_entry_and_builds_the_index(kb, demo_db):
    _, result = demo_db
    assert result.returncode == 0, result.stderr
    out = flat(result.stdout)
    assert f"{DEMO_COUNT} created, 0 updated, 0 unchanged, 0 skipped as invalid" in out
    assert f"search index rebuilt: {DEMO_COUNT} published entries" in out
    # the index went to the temporary var dir, not the project's
    assert list((kb.root / "var" / "index").iterdir())


def test_reimport_changes_nothing(kb, demo_db):
    db, _ = demo_db
    result = kb("import", DEMO_KB, db=db)
    assert result.returncode == 0, result.stderr
    assert f"0 created, 0 updated, {DEMO_COUNT} unchanged" in flat(result.stdout)
    assert "index rebuilt" not in result.stdout  # nothing changed, nothing to rebuild


def test_export_and_reimport_into_another_database_is_identical(kb, demo_db, tmp_path):
    db, _ = demo_db
    jsonl, yaml_ = tmp_path / "a.jsonl", tmp_path / "a.yaml"
    for target in (jsonl, yaml_):
        result = kb("export", target, db=db)
        assert result.returncode == 0, result.stderr
        assert f"exported {DEMO_COUNT} entries" in flat(result.stdout)

    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(records) == DEMO_COUNT
    assert len({r["id"] for r in records}) == DEMO_COUNT
    assert {r["status"] for r in records} == {"published"}
    assert "broadband-006" in {r["id"] for r in records}

    # YAML export → second database → JSONL export equals the first JSONL export
    second = kb.db("second")
    result = kb("import", yaml_, db=second)
    assert result.returncode == 0, result.stderr
    assert f"{DEMO_COUNT} created" in flat(result.stdout)
    assert kb("export", tmp_path / "b.jsonl", db=second).returncode == 0
    assert (tmp_path / "b.jsonl").read_bytes() == jsonl.read_bytes()

    # JSONL export → third database → YAML export equals the first YAML export
    third = kb.db("third")
    result = kb("import", jsonl, db=third)
    assert result.returncode == 0, result.stderr
    assert kb("export", tmp_path / "c.yaml", db=third).returncode == 0
    assert (tmp_path / "c.yaml").read_bytes() == yaml_.read_bytes()


def test_bad_records_import_nothing_unless_skip_invalid(kb, tmp_path):
    db = kb.db("badrecords")
    source = tmp_path / "mixed.yaml"
    source.write_text(
        "- id: good-1\n"
        "  question: 怎么查话费\n"
        "  answer: 发短信CXYE到10050\n"
        "  category: billing\n"
        "- id: bad-1\n"
        "  question: 怎么办\n"
        "  answer: 看情况\n"
        "  category: weather\n"
        "- id: good-2\n"
        "  question: 宽带怎么报修\n"
        "  answer: 拨打10000\n"
        "  category: broadband\n"
        "- id: bad-2\n"
        "  question: 没有答案\n"
        "  category: other\n",
        encoding="utf-8",
    )
    refused = kb("import", source, db=db)
    message = assert_refused(refused, "2 invalid record(s)", "nothing imported")
    assert "--skip-invalid" in message
    # each bad record is reported with its line, id and reason
    assert "line 5, record 2 (id bad-1)" in refused.stderr and "weather" in refused.stderr
    assert "line 13, record 4 (id bad-2)" in refused.stderr and "answer" in refused.stderr

    empty_export = tmp_path / "after-refusal.jsonl"
    result = kb("export", empty_export, db=db)
    assert result.returncode == 0, result.stderr
    assert "exported 0 entries" in flat(result.stdout)
    assert empty_export.read_text(encoding="utf-8") == ""

    skipped = kb("import", source, "--skip-invalid", db=db)
    assert skipped.returncode == 0, skipped.stderr
    assert "2 created, 0 updated, 0 unchanged, 2 skipped as invalid" in flat(skipped.stdout)
    assert "line 5, record 2 (id bad-1)" in skipped.stderr  # still told what was skipped

    listed = kb("list", db=db)
    assert listed.returncode == 0, listed.stderr
    assert "2 entries" in listed.stdout
    assert "good-1" in listed.stdout and "good-2" in listed.stdout
    assert "bad-1" not in listed.stdout and "bad-2" not in listed.stdout


# ---- search / eval / reindex ----------------------------------------------------------------


def _search(kb, db, *args):
    result = kb("search", *args, "--json", db=db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_json_finds_the_broadband_entry(kb, demo_db):
    db, _ = demo_db
    response = _search(kb, db, "宽带老是掉线")
    assert set(response) >= {"decision", "results"}
    assert response["decision"] in DECISIONS
    results = response["results"]
    assert len(results) == 5  # the default --top-k
    for hit in results:
        assert set(hit) >= {"id", "question", "score", "confidence"}
        assert isinstance(hit["score"], float)
        assert 0.0 <= hit["confidence"] <= 1.0
    assert results[0]["id"] == "broadband-006"
    assert "掉线" in results[0]["question"]
    assert len({hit["id"] for hit in results}) == 5  # one hit per entry
    scores = [hit["score"] for hit in results]  # ranked by the ranker's score
    assert scores == sorted(scores, reverse=True)
    assert results[0]["confidence"] == max(hit["confidence"] for hit in results)

    top3 = _search(kb, db, "宽带老是掉线", "--top-k", "3")
    assert len(top3["results"]) == 3
    assert [h["id"] for h in top3["results"]] == [h["id"] for h in results[:3]]


def test_traditional_query_finds_the_same_entry(kb, demo_db):
    db, _ = demo_db
    response = _search(kb, db, "寬帶老是掉線！！")
    assert response["results"][0]["id"] == "broadband-006"


def test_eval_json_reports_the_documented_metrics(kb, demo_db):
    db, _ = demo_db
    result = kb("eval", EVAL_DIR / "dev.jsonl", "--json", db=db)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in ("recall@1", "recall@3", "mrr", "oos_precision", "oos_recall"):
        assert isinstance(metrics[key], float) and 0.0 <= metrics[key] <= 1.0, key
    assert metrics["recall@1"] <= metrics["recall@3"]
    assert metrics["recall@1"] <= metrics["mrr"] <= 1.0
    lines = [line for line in (EVAL_DIR / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert metrics["queries"] == len(lines)
    assert set(metrics["decisions"]) <= DECISIONS
    assert sum(metrics["decisions"].values()) == len(lines)
    latency = metrics["latency_ms"]
    assert 0.0 < latency["p50"] <= latency["p95"]
    # Resolved: answered right or clarified with the right entry among the three buttons.
    assert metrics["resolved"] <= metrics["recall@3"]
    in_scope = metrics["decisions_in_scope"]
    assert metrics["in_scope_handoff_rate"] == round(in_scope.get("handoff", 0) / metrics["in_scope"], 4)


def test_eval_details_show_each_query_with_its_decision_and_top_three(kb, demo_db, tmp_path):
    db, _ = demo_db
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "你好，我的号码13812345678，怎么查话费余额？急", "expected_id": "billing-001"}\n'
                       '{"query": "给我讲个笑话吧", "expected_id": null}\n', "utf-8")
    result = kb("eval", queries, "--json", "--details", db=db)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    first, second = metrics["details"]
    assert first["expected_id"] == "billing-001" and first["top"][0]["id"] == "billing-001"
    assert first["decision"] == "answer" and len(first["top"]) == 3
    assert 0 < first["top"][0]["confidence"] <= 1
    assert second["expected_id"] is None and second["decision"] == "handoff"
    assert metrics["resolved"] == 1.0
    table = kb("eval", queries, "--details", db=db)
    assert table.returncode == 0 and "billing-001" in table.stdout and "handoff" in table.stdout


def test_reindex_succeeds(kb, demo_db):
    db, _ = demo_db
    result = kb("reindex", db=db)
    assert result.returncode == 0, result.stderr
    assert f"indexed {DEMO_COUNT} published entries" in flat(result.stdout)
    assert str(kb.root / "var" / "index") in flat(result.stdout).replace(" ", "")


# ---- refusals ---------------------------------------------------------------------------------


def test_set_status_refuses_invalid_transition(kb, demo_db):
    db, _ = demo_db
    result = kb("set-status", "broadband-006", "review", db=db)  # published → review
    assert result.returncode == 1
    assert_refused(result, "broadband-006", "cannot go from published to review")

    shown = kb("show", "broadband-006", db=db)
    assert shown.returncode == 0, shown.stderr
    entry = json.loads(shown.stdout)
    assert entry["status"] == "published" and entry["version"] == 1


def test_show_of_unknown_id_is_refused(kb, demo_db):
    db, _ = demo_db
    assert_refused(kb("show", "no-such-entry", db=db), "no-such-entry")


def test_missing_import_file_is_refused(kb, tmp_path):
    assert_refused(kb("import", tmp_path / "missing.yaml", db=kb.db("unused")), "no such file")


def test_malformed_yaml_is_refused_with_its_line(kb, tmp_path):
    source = tmp_path / "broken.yaml"
    source.write_text(
        "- id: a-1\n  question: 问题\n  answer: 答案\n  category: [billing\n- id: a-2\n",
        encoding="utf-8",
    )
    assert_refused(kb("import", source, db=kb.db("unused")), "malformed YAML", "line 5")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("", "query is empty"), ("   ", "query is empty"), ("查" * 1001, "1001 characters")],
    ids=["empty", "blank", "too-long"],
)
def test_bad_queries_are_refused(kb, demo_db, query, fragment):
    db, _ = demo_db
    result = kb("search", query, "--json", db=db)
    assert_refused(result, fragment)
    assert result.stdout == ""


def test_query_of_exactly_the_limit_is_accepted(kb, demo_db):
    db, _ = demo_db
    response = _search(kb, db, "宽带" * 500)
    assert response["decision"] in DECISIONS


def test_eval_with_unknown_expected_id_is_refused(kb, demo_db, tmp_path):
    db, _ = demo_db
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        json.dumps({"query": "宽带老是掉线", "expected_id": "broadband-006"}, ensure_ascii=False) + "\n"
        + json.dumps({"query": "怎么查话费", "expected_id": "billing-999"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    assert_refused(kb("eval", queries, "--json", db=db), "line 2", "billing-999")


# ---- kb train ---------------------------------------------------------------------------------
def test_train_adapts_the_model_to_the_kb_and_search_uses_it(kb, demo_db, tmp_path):
    db, _ = demo_db
    out = tmp_path / "kb-model"
    result = kb("train", "--out", out, "--epochs", "1", db=db)
    assert result.returncode == 0, result.stderr
    assert "CS_EMBEDDING_MODEL_DIR" in flat(result.stdout)
    # The output is a sentence-transformers model directory the search loads like the shipped one.
    assert (out / "modules.json").is_file() and (out / "model.safetensors").is_file()
    from kb.search.encoder import load_encoder

    vectors = load_encoder(out).encode(["宽带老是掉线", "寬帶老是掉線"])
    assert vectors.shape[0] == 2 and abs(float(vectors[0] @ vectors[1]) - 1.0) < 1e-5

    kb.env["CS_EMBEDDING_MODEL_DIR"] = str(out)
    try:
        response = _search(kb, db, "宽带老是掉线")
    finally:
        del kb.env["CS_EMBEDDING_MODEL_DIR"]
    assert response["results"][0]["id"] == "broadband-006"


def test_train_refuses_a_kb_without_questions_to_learn_from(kb, tmp_path):
    empty = kb.db("empty-train")
    assert kb("migrate", db=empty).returncode == 0
    assert_refused(kb("train", "--out", tmp_path / "m", db=empty), "nothing to learn from")
