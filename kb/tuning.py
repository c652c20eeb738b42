"""`kb tune`: fit the confidence calibrator and choose decision thresholds on a dev split.

Procedure (documented in the README):
1. For every dev query take the top candidates from the retrievers; a candidate is labelled 1
   when it is the expected entry. Fit a logistic regression on their features: the output is
   P(candidate answers the query).
2. Answer threshold: the lowest confidence at which the queries answered outright are at least
   `tune_answer_precision` correct (out-of-scope queries answered count as wrong).
3. Clarify threshold (≤ answer): the confidence that best separates out-of-scope queries (to be
   handed off) from in-scope queries whose entry is in the top 3 (worth a "您是不是想问"),
   maximising Youden's J = TPR(out-of-scope → handoff) + TPR(in-scope → not handoff) − 1.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kb.evaluation import EvalQuery
from kb.search.calibration import Calibrator, Thresholds
from kb.search.engine import SearchEngine

CANDIDATES_PER_QUERY = 10


def _feature_names(rows: list[dict[str, float]]) -> list[str]:
    return sorted({name for row in rows for name in row})


def tune(
    engine: SearchEngine,
    queries: list[EvalQuery],
    target_precision: float,
    source: str,
    progress: Callable[[], None] | None = None,
) -> Calibrator:
    per_query: list[tuple[EvalQuery, list[Any]]] = []
    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for q in queries:
        candidates = engine.candidates(q.query, CANDIDATES_PER_QUERY)
        per_query.append((q, candidates))
        for c in candidates:
            rows.append(c.features)
            labels.append(int(engine.entries[c.entry_index].id == q.expected_id))
        if progress:
            progress()

    calibrator = Calibrator.fit(_feature_names(rows), rows, labels)

    tops: list[tuple[float, bool, bool, bool]] = []  # (confidence, top1 ok, in top3, oos)
    for q, candidates in per_query:
        scored = sorted(
            ((calibrator.confidence(c.features), engine.entries[c.entry_index].id) for c in candidates),
            reverse=True,
        )
        ids = [i for _, i in scored[:3]]
        conf = scored[0][0] if scored else 0.0
        oos = q.expected_id is None
        tops.append((conf, not oos and ids[:1] == [q.expected_id], not oos and q.expected_id in ids, oos))

    answer = _answer_threshold(tops, target_precision)
    clarify = _clarify_threshold(tops, answer)
    calibrator.thresholds = Thresholds(answer=answer, clarify=clarify)
    calibrator.provenance = {
        "tuned_on": source,
        "queries": len(queries),
        "candidates": len(rows),
        "target_answer_precision": target_precision,
        "tuned_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return calibrator


def _answer_threshold(tops: list[tuple[float, bool, bool, bool]], target: float) -> float:
    for t in sorted({round(c, 4) for c, *_ in tops}):
        answered = [ok for c, ok, _, _ in tops if c >= t]
        if answered and sum(answered) / len(answered) >= target:
            return t
    return 1.0


def _clarify_threshold(tops: list[tuple[float, bool, bool, bool]], ceiling: float) -> float:
    oos = np.array([c for c, _, _, is_oos in tops if is_oos])
    useful = np.array([c for c, _, in3, is_oos in tops if not is_oos and in3])
    if len(oos) == 0 or len(useful) == 0:
        return round(ceiling / 2, 4)
    best_t, best_j = 0.0, -1.0
    for t in sorted({round(c, 4) for c, *_ in tops if c <= ceiling}):
        j = float((oos < t).mean() + (useful >= t).mean() - 1)
        if j > best_j:
            best_t, best_j = t, j
    return best_t


def save(calibrator: Calibrator, path: Path) -> None:
    calibrator.save(path)
