"""Search quality on the demo KB's held-out test split, and that the shipped calibration is
exactly what `kb tune` produces from the dev split (so nobody tuned on test)."""

from __future__ import annotations

import json

import pytest

from config.settings import Settings
from kb.evaluation import evaluate, read_queries
from kb.search.calibration import Calibrator
from kb.search.indexer import open_engine
from kb.tuning import tune
from tests.conftest import EVAL_DIR


@pytest.fixture
def engine(demo_store, settings):
    return open_engine(demo_store, settings)


def test_held_out_split_meets_the_quality_bars(engine):
    queries = read_queries(EVAL_DIR / "test.jsonl", {e.id for e in engine.entries})
    metrics = evaluate(engine, queries)
    # Hybrid search (lexical + the shipped embedding model), calibrated on dev only.
    assert metrics["recall@1"] >= 0.90
    assert metrics["recall@3"] >= 0.97
    assert metrics["oos_recall"] >= 0.80
    # Answering outright must stay trustworthy: most direct answers are the right entry.
    assert metrics["answer_precision"] >= 0.85


def test_shipped_calibration_is_reproduced_from_the_dev_split(demo_store, tmp_path):
    shipped_settings = Settings(var_dir=tmp_path / "var")
    shipped = json.loads(shipped_settings.calibration_file.read_text("utf-8"))
    assert shipped["provenance"]["tuned_on"] == "dev.jsonl"

    engine = open_engine(demo_store, shipped_settings)
    queries = read_queries(EVAL_DIR / "dev.jsonl", {e.id for e in engine.entries})
    retuned: Calibrator = tune(
        engine, queries, shipped_settings.tune_answer_precision,
        shipped_settings.tune_oos_recall, source="dev.jsonl",
    )
    assert retuned.thresholds.answer == pytest.approx(shipped["thresholds"]["answer"], abs=1e-3)
    assert retuned.thresholds.clarify == pytest.approx(shipped["thresholds"]["clarify"], abs=1e-3)
    assert retuned.ranker.weights == pytest.approx(shipped["ranker"]["weights"], abs=1e-3)
