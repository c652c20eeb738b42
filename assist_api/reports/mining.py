"""Unanswered-question mining: group the questions the bot failed on (clarify, no answer,
没帮助, handoff) by meaning with the project's sentence-embedding model, rank the groups by
volume and propose a draft KB entry for each (standard question + similar questions).

Clustering is agglomerative with average linkage over cosine distances and a distance
threshold, so the number of topics need not be known. The standard question is the cluster's
medoid (the question most similar on average to the others); the similar questions follow in
order of closeness to the cluster's centre.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

DRAFT_ANSWER = "（待补充：请根据业务规定填写答案后提交审核。）"
DRAFT_TAG = "未解答问题挖掘"


class TextEncoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Question:
    text: str
    count: int = 1
    kinds: dict[str, int] | None = None
    conversation_id: str | None = None
    last_at: str | None = None


def cluster_labels(vectors: np.ndarray, distance_threshold: float) -> np.ndarray:
    """One label per vector; questions closer than the threshold (average linkage) share one."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=int)
    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=distance_threshold)
    labels: np.ndarray = model.fit_predict(vectors)
    return labels


def mine(questions: Sequence[Question], encoder: TextEncoder, distance_threshold: float = 0.5,
         min_cluster_size: int = 3, limit: int = 20, max_similar: int = 15,
         categorise: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """Clusters of failed questions, largest volume (questions asked, repeats included) first."""
    questions = [q for q in questions if q.text.strip()]
    if not questions:
        return []
    vectors = np.asarray(encoder.encode([q.text for q in questions]), dtype=np.float32)
    labels = cluster_labels(vectors, distance_threshold)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    clusters = []
    for members in groups.values():
        volume = sum(questions[i].count for i in members)
        if volume < min_cluster_size:
            continue
        clusters.append((volume, members))
    clusters.sort(key=lambda c: (-c[0], -len(c[1])))
    out = []
    for rank, (volume, members) in enumerate(clusters[:limit], start=1):
        out.append(_describe(rank, volume, members, questions, vectors, max_similar, categorise))
    return out


def _describe(rank: int, volume: int, members: list[int], questions: Sequence[Question], vectors: np.ndarray,
              max_similar: int, categorise: Callable[[str], str] | None) -> dict[str, Any]:
    vecs = vectors[members]
    sims = vecs @ vecs.T
    medoid = members[int(np.argmax(sims.mean(axis=1)))]
    centre = vecs.mean(axis=0)
    closeness = vecs @ centre
    order = [members[i] for i in np.argsort(-closeness)]
    kinds: dict[str, int] = {}
    for i in members:
        for kind, n in (questions[i].kinds or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    standard = questions[medoid].text
    similar = []
    seen = {standard}
    for i in order:
        text = questions[i].text
        if text not in seen:
            seen.add(text)
            similar.append(text)
    examples = sorted((questions[i] for i in members), key=lambda q: (-q.count, q.text))[:5]
    category = categorise(" ".join([standard, *similar[:5]])) if categorise else "other"
    return {
        "rank": rank,
        "volume": volume,
        "distinct_questions": len(members),
        "kinds": kinds,
        "cohesion": round(float(sims.mean()), 3),
        "examples": [{"text": q.text, "count": q.count, "conversation_id": q.conversation_id,
                      "last_at": q.last_at} for q in examples],
        "draft": {
            "question": standard,
            "similar_questions": similar[:max_similar],
            "answer": DRAFT_ANSWER,
            "category": category,
            "tags": [DRAFT_TAG],
        },
    }


def from_unanswered(items: list[dict[str, Any]]) -> list[Question]:
    """The editor's unanswered-questions list (assist_api/editor/unanswered.py) as input."""
    return [Question(i["text"], i.get("count", 1), i.get("kinds"), i.get("conversation_id"), i.get("last_at"))
            for i in items]
