"""`kb tune`: fit the ranker and confidence models and choose thresholds on a dev split.

Procedure (also in the README):
1. Every dev query's top candidates from the retrievers are labelled 1 when they are the
   expected entry; the ranker (logistic regression) is fitted on them.
2. The confidence model is fitted on each query's top-ranked candidate (label: it is the
   expected entry). The ranker outputs it sees are out-of-fold (5-fold cross-fitting), so it
   learns how reliable the ranker is on queries the ranker was not fitted on.
3. Answer threshold: the lowest confidence at which the dev queries answered outright are at
   least `tune_answer_precision` correct (an out-of-scope query answered counts as wrong). A
   query is answered outright only when its runner-up trails by the fixed margin (0.1), so
   the search for the threshold applies the same rule.
4. Clarify threshold (≤ answer): the lowest confidence at which at least
   `tune_oos_recall` of the dev out-of-scope queries are handed off. Lower would hand fewer
   in-scope customers to a human but let chit-chat and foreign questions through to a
   "您是不是想问" that cannot help them.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from kb.evaluation import EvalQuery
from kb.search.calibration import RANK_FEATURES, Calibrator, LinearModel, Thresholds
from kb.search.engine import SearchEngine

CANDIDATES_PER_QUERY = 10
FOLDS = 5


def tune(
    engine: SearchEngine,
    queries: list[EvalQuery],
    target_precision: float,
    target_oos_recall: float,
    source: str,
    progress: Callable[[], None] | None = None,
) -> Calibrator:
    per_query: list[tuple[EvalQuery, list[dict[str, float]], list[int]]] = []
    for q in queries:
        candidates = engine.candidates(q.query, CANDIDATES_PER_QUERY)
        features = [dict(c.features) for c in candidates]
        labels = [int(engine.entries[c.entry_index].id == q.expected_id) for c in candidates]
        per_query.append((q, features, labels))
        if progress:
            progress()
    names = sorted({name for _, rows, _ in per_query for row in rows for name in row})

    def fit_ranker(items) -> LinearModel:
        rows = [row for _, feats, _ in items for row in feats]
        labels = [label for _, _, labs in items for label in labs]
        return LinearModel.fit(names, rows, labels)

    # Out-of-fold ranker outputs for the confidence model's training rows.
    order = list(range(len(per_query)))
    random.Random(13).shuffle(order)
    top_rows: list[dict[str, float]] = []
    top_labels: list[int] = []
    for fold in range(FOLDS):
        held = set(order[fold::FOLDS])
        ranker = fit_ranker([item for i, item in enumerate(per_query) if i not in held])
        scratch = Calibrator(ranker=ranker)
        for i in held:
            _, feats, labels = per_query[i]
            rows = [dict(f) for f in feats]
            if not rows:
                top_rows.append({name: 0.0 for name in names + list(RANK_FEATURES)})
                top_labels.append(0)
                continue
            probs = scratch.rank(rows)
            best = int(np.argmax(probs))
            top_rows.append(rows[best])
            top_labels.append(labels[best])

    calibrator = Calibrator(
        ranker=fit_ranker(per_query),
        confidence_model=LinearModel.fit(names + list(RANK_FEATURES), top_rows, top_labels),
    )

    margin = Thresholds().margin
    tops: list[tuple[float, bool, bool, bool]] = []  # (confidence, top1 ok, in top3, oos)
    clear: list[bool] = []  # the runner-up trails by the margin
    for q, feats, labels in per_query:
        rows = [dict(f) for f in feats]
        probs = calibrator.rank(rows)
        ranked = sorted(zip(probs, rows, labels), key=lambda t: -t[0])
        confs = [calibrator.confidence(r) for _, r, _ in ranked]
        conf = confs[0] if confs else 0.0
        clear.append(len(confs) < 2 or conf - max(confs[1:]) >= margin)
        oos = q.expected_id is None
        top1 = bool(ranked) and ranked[0][2] == 1
        top3 = any(label for _, _, label in ranked[:3])
        tops.append((conf, top1, top3, oos))

    answer = _answer_threshold([t for t, ok in zip(tops, clear) if ok], target_precision)
    clarify = _clarify_threshold(tops, answer, target_oos_recall)
    calibrator.thresholds = Thresholds(answer=answer, clarify=clarify, margin=margin)
    calibrator.provenance = {
        "tuned_on": source,
        "queries": len(queries),
        "candidates_per_query": CANDIDATES_PER_QUERY,
        "target_answer_precision": target_precision,
        "target_oos_recall": target_oos_recall,
        "tuned_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return calibrator


def _answer_threshold(tops: list[tuple[float, bool, bool, bool]], target: float) -> float:
    for t in sorted({round(c, 4) for c, *_ in tops}):
        answered = [ok for c, ok, _, _ in tops if c >= t]
        if answered and sum(answered) / len(answered) >= target:
            return t
    return 1.0


def _clarify_threshold(
    tops: list[tuple[float, bool, bool, bool]], ceiling: float, target_oos_recall: float
) -> float:
    oos = np.array([c for c, _, _, is_oos in tops if is_oos])
    if len(oos) == 0:
        return round(ceiling / 2, 4)
    for t in sorted({round(c, 4) for c, *_ in tops} | {round(ceiling, 4)}):
        if t > ceiling:
            break
        if float((oos < t).mean()) >= target_oos_recall:
            return t
    return round(ceiling, 4)
