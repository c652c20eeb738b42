"""Search quality on the demo KB's held-out test split, out of the box (the calibration the
index build fits) and with `kb tune` on the dev split; the shipped general calibration is
exactly what its procedure produces."""

from __future__ import annotations

import json

import pytest

from config.settings import Settings
from kb.evaluation import evaluate, read_queries
from kb.general_calibration import fit_general
from kb.search.calibration import Calibrator
from kb.search.indexer import open_engine
from kb.tuning import tune
from tests.support.demo_kb import EVAL_DIR


@pytest.fixture
def engine(demo_store, settings):
    return open_engine(demo_store, settings)


def test_held_out_split_meets_the_quality_bars(engine):
    queries = read_queries(EVAL_DIR / "test.jsonl", {e.id for e in engine.entries})
    metrics = evaluate(engine, queries)
    # Hybrid search (lexical + the shipped embedding model), calibrated by the index build
    # from the KB itself: no labelled query, dev or test, is involved.
    assert engine.calibrator.provenance["tuned_on"].startswith("self")
    assert metrics["recall@1"] >= 0.90
    assert metrics["resolved"] >= 0.85
    assert metrics["recall@3"] >= 0.97
    assert metrics["oos_recall"] >= 0.80
    # Answering outright must stay trustworthy: most direct answers are the right entry.
    assert metrics["answer_precision"] >= 0.85


def test_the_shipped_general_calibration_is_what_its_procedure_produces(tmp_path):
    """config/search_calibration_general.json comes from `python -m kb.general_calibration`
    (held-out corpus groups and the demo dev split), so nobody fitted it on a test split."""
    settings = Settings(var_dir=tmp_path / "var")
    shipped = json.loads(settings.general_calibration_file.read_text("utf-8"))
    assert shipped["provenance"]["tuned_on"].startswith("general")
    refitted: Calibrator = fit_general(settings)
    assert refitted.thresholds.answer == pytest.approx(shipped["thresholds"]["answer"], abs=1e-3)
    assert refitted.thresholds.clarify == pytest.approx(shipped["thresholds"]["clarify"], abs=1e-3)
    assert refitted.ranker.weights == pytest.approx(shipped["ranker"]["weights"], abs=1e-3)
    assert refitted.confidence_model.weights == pytest.approx(shipped["confidence"]["weights"], abs=1e-3)


def test_kb_tune_on_the_dev_split_also_meets_the_bars(demo_store, tmp_path):
    """With labelled queries, `kb tune` fits everything on them; the test split still meets
    the bars under that calibration."""
    settings = Settings(var_dir=tmp_path / "var")
    engine = open_engine(demo_store, settings)
    queries = read_queries(EVAL_DIR / "dev.jsonl", {e.id for e in engine.entries})
    tuned: Calibrator = tune(engine, queries, settings.tune_answer_precision, settings.tune_oos_recall,
                             source="dev.jsonl")
    tuned.save(settings.resolved_calibration_file)
    labelled = open_engine(demo_store, settings)  # the new file makes the old index stale
    assert labelled.calibrator.provenance["tuned_on"] == "dev.jsonl"
    metrics = evaluate(labelled, read_queries(EVAL_DIR / "test.jsonl"))
    assert metrics["recall@1"] >= 0.90 and metrics["oos_recall"] >= 0.80
    assert metrics["answer_precision"] >= 0.90
