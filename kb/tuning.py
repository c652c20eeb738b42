"""`kb tune`: fit the ranker and confidence models and choose thresholds on a dev split.

Procedure (also in the README):
1. Every dev query's top candidates from the retrievers are labelled 1 when they are the
   expected entry; the ranker (logistic regression on standardised features) is fitted on
   them, its regularisation chosen from a grid by 5-fold cross-validated top-1 accuracy
   (folds by query).
2. The confidence model is fitted on each query's top-ranked candidate (label: it is the
   expected entry). The ranker outputs it sees are out-of-fold (5-fold cross-fitting), so it
   learns how reliable the ranker is on queries the ranker was not fitted on; its
   regularisation is chosen by cross-validated log-loss.
3. Answer threshold: the lowest confidence at which the dev queries answered outright are at
   least `tune_answer_precision` correct (an out-of-scope query answered counts as wrong). A
   query is answered outright only when its runner-up trails by the fixed margin (0.1), so
   the search for the threshold applies the same rule.
4. Clarify threshold (≤ answer): the lowest confidence at which the dev out-of-scope
   queries handed off are at least `tune_oos_recall` one standard error below the observed
   share (the Wilson interval's lower bound, z = 1: ~40 queries make the share noisy). Lower would hand fewer
   in-scope customers to a human but let chit-chat and foreign questions through to a
   "您是不是想问" that cannot help them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from kb.evaluation import EvalQuery
from kb.search.calibration import BUTTON_FEATURES, RANK_FEATURES, Calibrator, LinearModel, Thresholds, button_features
from kb.search.engine import SearchEngine

CANDIDATES_PER_QUERY = 10
FOLDS = 5
WILSON_Z = 1.0  # one standard error below the observed share (one-sided 84 %)
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)  # inverse regularisation strengths tried by cross-validation


def tune(
    engine: SearchEngine,
    queries: list[EvalQuery],
    target_precision: float,
    target_oos_recall: float,
    source: str,
    progress: Callable[[], None] | None = None,
) -> Calibrator:
    """Fit the whole calibration (ranker, confidence, clarify model, thresholds) on labelled
    queries."""
    calibrator = fit(collect(engine, queries, progress), target_precision, target_oos_recall, source,
                     clarify_at_oos_target=True)
    # The KB this calibration fits: index builds use it only for (nearly) the same entries.
    calibrator.provenance["kb_ids"] = sorted(e.id for e in engine.entries)
    return calibrator


Labelled = list[tuple[EvalQuery, list[dict[str, float]], list[int]]]
# Per query under a calibration: (top confidence, top-1 right, right entry in the top 3,
# out of scope, clarify signal = P(the right entry is among the buttons)).
Top = tuple[float, bool, bool, bool, float]


def collect(engine: SearchEngine, queries: list[EvalQuery], progress: Callable[[], None] | None = None) -> Labelled:
    """Each query's top candidates from the retrievers, their features and labels (1: the
    expected entry)."""
    per_query: Labelled = []
    for q in queries:
        candidates = engine.candidates(q.query, CANDIDATES_PER_QUERY)
        features = [dict(c.features) for c in candidates]
        labels = [int(engine.entries[c.entry_index].id == q.expected_id) for c in candidates]
        per_query.append((q, features, labels))
        if progress:
            progress()
    return per_query


def fit(per_query: Labelled, target_precision: float, target_oos_recall: float, source: str,
        ranker: LinearModel | None = None, oos_mix: dict[str, float] | None = None,
        clarify_at_oos_target: bool = False, confidence_model: LinearModel | None = None,
        answer_floor: float | None = None, clarify_model: LinearModel | None = None) -> Calibrator:
    """The ranker, confidence model and thresholds from collected candidates (see `tune`).
    With `clarify_at_oos_target`, the clarify threshold is the lowest that still hands off the
    target share of out-of-scope queries, whatever the in-scope queries below it: for
    pseudo-queries, whose in-scope confidences run higher than customers' (see kb.autotune).
    With `answer_floor`, the answer threshold is the lowest at or above the floor where the
    answered queries are `target_precision` right (1.0 when none is), and the clarify
    threshold the lowest that meets the out-of-scope target.
    `oos_mix` ({style: share}) makes the out-of-scope recall target a weighted share, each
    style counting for its share whatever its number of queries (styles not in it count
    for nothing); without it every out-of-scope query counts alike, with the Wilson bound."""
    names = sorted({name for _, rows, _ in per_query for row in rows for name in row})

    folds = query_folds(len(per_query))
    features = [feats for _, feats, _ in per_query]
    labels_per_query = [labels for _, _, labels in per_query]

    def out_of_fold_tops(c: float) -> tuple[list[dict[str, float]], list[int]]:
        """Each query's top candidate under a ranker fitted without that query's fold."""
        rows_out: list[dict[str, float]] = []
        labels_out: list[int] = []
        ranked_per_query = out_of_fold_ranked(features, labels_per_query, names, c, folds)
        for rows, labels in zip(ranked_per_query, labels_per_query, strict=True):
            if not rows:
                rows_out.append({name: 0.0 for name in names + list(RANK_FEATURES)})
                labels_out.append(0)
                continue
            best = max(range(len(rows)), key=lambda j: rows[j]["rank_p"])
            rows_out.append(rows[best])
            labels_out.append(labels[best])
        return rows_out, labels_out

    # The ranker's regularisation is chosen by cross-validated top-1 accuracy on the dev
    # queries (folds by query), the confidence model's by cross-validated log-loss.
    in_scope = [i for i, (q, _, _) in enumerate(per_query) if q.expected_id]
    ranker_c: float | None = None  # None: the ranker was given, not fitted here
    top_rows: list[dict[str, float]] = []
    top_labels: list[int] = []
    best_top1 = -1.0
    if ranker is not None:
        top_rows, top_labels = _tops_under(Calibrator(ranker=ranker), features, labels_per_query, names)
        best_top1 = float(np.mean([top_labels[i] for i in in_scope])) if in_scope else 0.0
    else:
        best_c = C_GRID[0]
        for c in C_GRID:
            rows, labels = out_of_fold_tops(c)
            top1 = float(np.mean([labels[i] for i in in_scope])) if in_scope else 0.0
            if top1 > best_top1 + 1e-9:
                best_c, top_rows, top_labels, best_top1 = c, rows, labels, top1
        ranker_c = best_c
        ranker = fit_ranker(features, labels_per_query, names, best_c)
    confidence_names = names + list(RANK_FEATURES)

    confidence_c: float | None = None
    if confidence_model is None:
        confidence_c = min(C_GRID, key=lambda c: _cv_log_loss(confidence_names, top_rows, top_labels, c, folds))
        confidence_model = LinearModel.fit(confidence_names, top_rows, top_labels, c=confidence_c)
    calibrator = Calibrator(ranker=ranker, confidence_model=confidence_model)

    margin = Thresholds().margin
    scored = []
    for q, feats, labels in per_query:
        rows = [dict(f) for f in feats]
        probs = calibrator.rank(rows)
        ranked = sorted(zip(probs, rows, labels, strict=True), key=lambda t: -t[0])
        confs = [calibrator.confidence(r) for _, r, _ in ranked]
        button_row = button_features(ranked[0][1] if ranked else {}, confs, [p for p, _, _ in ranked])
        scored.append((q, ranked, confs, button_row, any(label for _, _, label in ranked[:3])))
    # The clarify model: P(the right entry is among the three buttons), on the same queries.
    button_rows = [row for *_, row, _ in scored]
    hit3 = [int(hit) for *_, hit in scored]
    if clarify_model is None and len(set(hit3)) == 2:
        clarify_names = names + list(RANK_FEATURES) + list(BUTTON_FEATURES)
        clarify_c = min(C_GRID, key=lambda c: _cv_log_loss(clarify_names, button_rows, hit3, c, folds))
        clarify_model = LinearModel.fit(clarify_names, button_rows, hit3, c=clarify_c)
    calibrator.clarify_model = clarify_model

    tops: list[Top] = []
    clear: list[bool] = []  # the runner-up trails by the margin
    for (q, ranked, confs, button_row, top3) in scored:
        conf = confs[0] if confs else 0.0
        clear.append(len(confs) < 2 or conf - max(confs[1:]) >= margin)
        top1 = bool(ranked) and ranked[0][2] == 1
        # The clarify signal is what `decide` compares with the clarify threshold.
        tops.append((conf, top1, top3, q.expected_id is None,
                     calibrator.plausibility(button_row, confs, [p for p, _, _ in ranked])))

    weights = _oos_weights([q for q, _, _ in per_query], oos_mix) if oos_mix else None
    if answer_floor is not None:
        answer = _answer_threshold([t for t, ok in zip(tops, clear, strict=True) if ok and t[0] >= answer_floor],
                                   target_precision)
        answer = max(answer, answer_floor)
        answer, clarify = cost_thresholds(tops, clear, 0.0, target_oos_recall, oos_weights=weights,
                                          clarify_at_oos_target=True, answer_grid=[answer])
    else:
        answer, clarify = cost_thresholds(tops, clear, target_precision, target_oos_recall, oos_weights=weights,
                                          clarify_at_oos_target=clarify_at_oos_target)
    calibrator.thresholds = Thresholds(answer=answer, clarify=clarify, margin=margin)
    calibrator.provenance = {
        "tuned_on": source,
        "queries": len(per_query),
        "candidates_per_query": CANDIDATES_PER_QUERY,
        "target_answer_precision": target_precision,
        "target_oos_recall": target_oos_recall,
        "ranker_c": ranker_c,
        "ranker_cv_top1": round(best_top1, 4),
        "confidence_c": confidence_c,
        "tuned_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return calibrator


def _tops_under(scratch: Calibrator, features: list[list[dict[str, float]]], labels: list[list[int]],
                names: list[str]) -> tuple[list[dict[str, float]], list[int]]:
    """Each query's top candidate (features with rank_p / rank_gap) and label under a fixed ranker."""
    rows_out: list[dict[str, float]] = []
    labels_out: list[int] = []
    for feats, labs in zip(features, labels, strict=True):
        rows = [dict(f) for f in feats]
        if not rows:
            rows_out.append({name: 0.0 for name in names + list(RANK_FEATURES)})
            labels_out.append(0)
            continue
        probs = scratch.rank(rows)
        best = max(range(len(rows)), key=lambda j: probs[j])
        rows_out.append(rows[best])
        labels_out.append(labs[best])
    return rows_out, labels_out


def query_folds(n: int) -> list[set[int]]:
    """The cross-validation folds over n queries (seeded: the same split every run)."""
    order = list(range(n))
    random.Random(13).shuffle(order)
    return [set(order[fold::FOLDS]) for fold in range(FOLDS)]


def fit_ranker(features: list[list[dict[str, float]]], labels: list[list[int]], names: list[str],
               c: float) -> LinearModel:
    """The ranker over every candidate of the given queries (label: the expected entry)."""
    return LinearModel.fit(names, [row for rows in features for row in rows],
                           [label for labs in labels for label in labs], c=c)


def out_of_fold_ranked(features: list[list[dict[str, float]]], labels: list[list[int]], names: list[str],
                       c: float, folds: list[set[int]]) -> list[list[dict[str, float]]]:
    """Each query's candidates (copies) with `rank_p` and `rank_gap` from a ranker fitted
    without that query's fold."""
    ranked: list[list[dict[str, float]]] = [[] for _ in features]
    for held in folds:
        keep = [i for i in range(len(features)) if i not in held]
        scratch = Calibrator(ranker=fit_ranker([features[i] for i in keep], [labels[i] for i in keep], names, c))
        for i in held:
            rows = [dict(f) for f in features[i]]
            if rows:
                scratch.rank(rows)
            ranked[i] = rows
    return ranked


def _cv_log_loss(names: list[str], rows: list[dict[str, float]], labels: list[int], c: float,
                 folds: list[set[int]]) -> float:
    losses = []
    for held in folds:
        train = [i for i in range(len(rows)) if i not in held]
        if len({labels[i] for i in train}) < 2:
            continue
        model = LinearModel.fit(names, [rows[i] for i in train], [labels[i] for i in train], c=c)
        for i in held:
            p = min(max(model.predict(rows[i]), 1e-6), 1 - 1e-6)
            losses.append(-math.log(p if labels[i] else 1 - p))
    return float(np.mean(losses)) if losses else float("inf")


@dataclass(frozen=True)
class OutcomeCosts:
    """What each outcome costs the customer, in "needless handoffs" (DESIGN.md's order: a
    wrong answer is worst, a needless handoff next, one clarify click cheapest)."""

    wrong_answer: float = 5.0  # a wrong answer, or an out-of-scope question answered
    handoff: float = 2.0  # an answerable question handed to a human
    clarify_hit: float = 0.5  # one click on the right "您是不是想问" button
    clarify_miss: float = 2.5  # a click on "none of these", then the handoff anyway
    oos_clarify: float = 0.5  # an out-of-scope question: one click on "none of these", then the handoff


COSTS = OutcomeCosts()


def cost_thresholds(tops: list[Top], clear: list[bool], target_precision: float,
                    target_oos_recall: float, costs: OutcomeCosts = COSTS,
                    oos_weights: list[float] | None = None,
                    clarify_at_oos_target: bool = False,
                    answer_grid: list[float] | None = None) -> tuple[float, float]:
    """(answer, clarify) thresholds with the lowest total cost over the queries, among those
    whose direct answers are at least `target_precision` right and which hand off out-of-scope
    queries at least `target_oos_recall` of the time (Wilson lower bound, or the weighted share
    with `oos_weights`). With `clarify_at_oos_target`, each answer threshold is paired with the
    lowest clarify threshold that meets the out-of-scope target."""
    conf = np.array([t[0] for t in tops])
    top1 = np.array([t[1] for t in tops])
    top3 = np.array([t[2] for t in tops])
    oos = np.array([t[3] for t in tops])
    plausible = np.array([t[4] for t in tops])
    ok = np.array(clear)
    n_oos = int(oos.sum())
    weight = np.array(oos_weights) if oos_weights is not None else None

    def oos_recall_met(handed: np.ndarray) -> bool:
        if weight is not None:
            return float((weight * handed).sum()) >= target_oos_recall * float(weight.sum())
        return not n_oos or _wilson_lower(int((handed & oos).sum()), n_oos) >= target_oos_recall

    grid = np.unique(np.round(np.concatenate([conf, [0.0, 1.0]]), 2))
    clarify_grid = np.unique(np.round(np.concatenate([plausible, [0.0, 1.0]]), 2))
    answer_cost = np.where(top1 & ~oos, 0.0, costs.wrong_answer)
    clarify_cost = np.where(oos, costs.oos_clarify, np.where(top3, costs.clarify_hit, costs.clarify_miss))
    handoff_cost = np.where(oos, 0.0, costs.handoff)
    best: tuple[float, float, float] | None = None
    for a in (np.array(answer_grid) if answer_grid is not None else grid):
        answered = (conf >= a) & ok
        n_answered = int(answered.sum())
        if n_answered and (top1 & ~oos)[answered].mean() < target_precision:
            continue
        for c in clarify_grid:
            clarified = ~answered & (plausible >= c)
            handed = ~answered & ~clarified
            if not oos_recall_met(handed):
                continue
            total = float(answer_cost[answered].sum() + clarify_cost[clarified].sum() + handoff_cost[handed].sum())
            if best is None or total < best[0] - 1e-9:
                best = (total, float(a), float(c))
            if clarify_at_oos_target:
                break  # the lowest clarify threshold that meets the target, whatever it costs
    if best is None:  # no pair meets both targets: answer nothing, clarify only the surest
        return 1.0, _clarify_threshold(tops, target_oos_recall)
    return round(best[1], 4), round(best[2], 4)


def _oos_weights(queries: list[EvalQuery], mix: dict[str, float]) -> list[float]:
    """Per-query weights giving each out-of-scope style of `mix` its share of the target."""
    counts: dict[str, int] = {}
    for q in queries:
        if q.expected_id is None and q.style in mix:
            counts[q.style] = counts.get(q.style, 0) + 1
    return [mix[q.style] / counts[q.style] if q.expected_id is None and q.style in counts else 0.0
            for q in queries]


def _answer_threshold(tops: list[Top], target: float) -> float:
    for t in sorted({round(c, 4) for c, *_ in tops}):
        answered = [t1 and not is_oos for c, t1, _, is_oos, _ in tops if c >= t]
        if answered and sum(answered) / len(answered) >= target:
            return t
    return 1.0


def _clarify_threshold(tops: list[Top], target_oos_recall: float) -> float:
    """The lowest clarify threshold that hands off the target share of out-of-scope queries."""
    oos = np.array([p for _, _, _, is_oos, p in tops if is_oos])
    if len(oos) == 0:
        return 0.5
    for t in sorted({round(p, 4) for *_, p in tops} | {1.0}):
        if _wilson_lower(int((oos < t).sum()), len(oos)) >= target_oos_recall:
            return t
    return 1.0


def _wilson_lower(successes: int, n: int, z: float = WILSON_Z) -> float:
    """Lower bound of the Wilson score interval: with ~40 out-of-scope dev queries the
    observed share is noisy, so the threshold must meet the target with some confidence."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)
