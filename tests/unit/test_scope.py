"""The out-of-scope signal (kb.search.scope): nearest pool line, the scope model's input, the
lines a KB answers left out, and the calibration carrying the scope model."""

from __future__ import annotations

import numpy as np
import pytest

from kb.search.calibration import Calibrator, LinearModel
from kb.search.decision import decide
from kb.search.scope import ANSWERED_BY_KB, SCOPE_FEATURES, PoolNeighbours, kb_similarity, neighbour_pool, scope_row


def _unit(*rows: list[float]) -> np.ndarray:
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_a_pool_line_searched_as_a_pseudo_query_does_not_find_itself():
    pool = PoolNeighbours(["天气", "笑话", "外卖"], _unit([1, 0, 0], [0, 1, 0], [0.8, 0.6, 0]))
    vectors = _unit([1, 0, 0], [1, 0, 0])
    near = pool.nearest_many(vectors, ["天气", "别的问题"])
    assert near[0] == pytest.approx(0.8)  # itself left out: the next nearest line
    assert near[1] == pytest.approx(1.0)
    assert pool.nearest(vectors[1]) == pytest.approx(1.0)
    assert pool.nearest(np.zeros(3, np.float32)) == 0.0


def test_lines_the_kb_answers_are_left_out_of_its_pool():
    pool = PoolNeighbours(["天气", "笑话"], _unit([1, 0], [0, 1]))

    def index_search(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        kb = _unit([1, 0.05])  # one KB question, a near-paraphrase of the first line
        return vectors @ kb.T, np.zeros((len(vectors), 1), np.int64)

    answered = pool.answered_by(index_search)
    assert answered == {"天气"}
    kept = pool.without(answered)
    assert kept.lines == ["笑话"] and kept.vectors.shape == (1, 2)
    assert 0.5 < ANSWERED_BY_KB < 1.0


def test_scope_row_spreads_the_plausibility_and_compares_kb_with_pool():
    row = scope_row(0.5, kb_similarity([{"dense_norm": 0.7}, {"dense_norm": 0.9}, {}]), 0.4)
    assert set(row) == set(SCOPE_FEATURES)
    assert row["plausibility_logit"] == pytest.approx(0.0)
    assert row["kb_pool_gap"] == pytest.approx(0.5)
    assert scope_row(1.0, 0.0, 0.0)["plausibility_logit"] < 10  # clipped, never infinite


def test_the_clarify_threshold_applies_to_the_scope_model_when_the_kb_has_one(tmp_path):
    calibrator = Calibrator()
    assert calibrator.clarify_signal(0.7, 0.3, 0.9) == 0.7  # no scope model: the plausibility
    calibrator.scope_model = LinearModel(list(SCOPE_FEATURES), [0.3, 6.0], 0.0)
    calibrator.scope_excluded = ["天气"]
    near_pool = calibrator.clarify_signal(0.7, 0.3, 0.9)
    near_kb = calibrator.clarify_signal(0.7, 0.9, 0.3)
    assert near_pool < 0.5 < near_kb
    thresholds = calibrator.thresholds
    assert decide(0.3, thresholds, 0.1, near_pool) == "handoff"
    assert decide(0.3, thresholds, 0.1, near_kb) == "clarify"
    calibrator.save(tmp_path / "c.json")
    loaded = Calibrator.load(tmp_path / "c.json")
    assert loaded.scope_excluded == ["天气"]
    assert loaded.clarify_signal(0.7, 0.9, 0.3) == pytest.approx(near_kb, abs=1e-5)
    assert calibrator.clarify_signal(0.7, 0.9, None) == 0.7  # no dense half: no pool similarity


def test_the_shipped_pool_has_no_duplicates():
    lines = neighbour_pool()
    assert len(lines) >= 790 and len(set(lines)) == len(lines)
