"""Combine the retrievers' per-entry scores into one ranked candidate list.

With one retriever its score passes through; with several, Reciprocal Rank Fusion orders the
candidates and every retriever's features travel on for the calibrator (a retriever that did
not return an entry contributes zeros, which is itself informative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.search.retriever import EntryScore

RRF_K = 60


@dataclass
class Candidate:
    entry_index: int
    score: float
    features: dict[str, float] = field(default_factory=dict)


def fuse(per_retriever: dict[str, dict[int, EntryScore]], limit: int) -> list[Candidate]:
    names = list(per_retriever)
    feature_names = {
        name: sorted({f for s in per_retriever[name].values() for f in s.features}) for name in names
    }
    entries = {e for hits in per_retriever.values() for e in hits}
    if len(names) == 1:
        scores = {e: per_retriever[names[0]][e].score for e in entries}
    else:
        scores = {e: 0.0 for e in entries}
        for name in names:
            ranked = sorted(per_retriever[name].items(), key=lambda kv: -kv[1].score)
            for rank, (e, _) in enumerate(ranked, start=1):
                scores[e] += 1.0 / (RRF_K + rank)

    candidates = []
    for e in entries:
        features: dict[str, float] = {}
        for name in names:
            hit = per_retriever[name].get(e)
            for f in feature_names[name]:
                features[f] = hit.features.get(f, 0.0) if hit else 0.0
        if len(names) > 1:
            # The fused rank is evidence of its own: an entry both retrievers rank high.
            features["rrf"] = scores[e] * RRF_K / len(names)
        candidates.append(Candidate(e, scores[e], features))
    candidates.sort(key=lambda c: (-c.score, c.entry_index))
    candidates = candidates[:limit]
    _add_margins(candidates)
    return candidates


def _add_margins(candidates: list[Candidate]) -> None:
    """How far each candidate's main normalised feature stands above the best other one:
    positive only for a clear winner, which is what separates answer from clarify."""
    for c in candidates:
        for f in [f for f in c.features if f.endswith("_norm")]:
            others = [o.features[f] for o in candidates if o is not c and f in o.features]
            c.features[f.replace("_norm", "_gap")] = c.features[f] - max(others, default=0.0)
