"""Is a query about this KB at all? The out-of-scope signal beside the clarify model.

The clarify model says how likely the right entry is among the buttons; a question about
gas bills or the weather can still look plausible to it when it shares a few service words
with an entry ("怎么交", "投诉"). A second piece of evidence is which the query is nearer to:
the KB's own questions, or the shipped pool of questions that no FAQ answers
(kb/calibration_data: chit-chat, other industries, service questions too specific for any
FAQ), both in the embedding model's space. The scope model, a logistic regression fitted per
KB by kb.autotune on its pseudo-queries (in scope) against the left-out entries and the pool
(out of scope), combines the two; the clarify threshold then applies to its output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.search.encoder import Encoder

POOL_DIR = Path(__file__).resolve().parent.parent / "calibration_data"
# What no FAQ answers: chit-chat, unrelated areas of life, over-specific service requests...
OUT_OF_SCOPE_FILE = POOL_DIR / "out_of_scope.txt"
# ...and the ordinary service questions of other industries (the first file's lines are
# mostly far from any KB; these are what a customer of another company asks).
OTHER_SERVICES_FILE = POOL_DIR / "other_services.txt"
SCOPE_FEATURES = ("plausibility_logit", "kb_pool_gap")
# A pool line this close (cosine) to one of the KB's questions is a question the KB answers:
# not out of scope for it (a food-delivery KB and the pool's food-delivery questions).
ANSWERED_BY_KB = 0.8
_LOGIT_CLIP = 1e-4


def read_pool(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def neighbour_pool() -> list[str]:
    """The out-of-scope questions a query is compared with."""
    return read_pool(OUT_OF_SCOPE_FILE) + read_pool(OTHER_SERVICES_FILE)


def scope_row(plausibility: float, kb_similarity: float, pool_similarity: float) -> dict[str, float]:
    """The scope model's input: the clarify signal (as a logit, so both ends spread out) and
    how much nearer the query is to the KB's nearest question than to the nearest pool line."""
    p = min(max(plausibility, _LOGIT_CLIP), 1.0 - _LOGIT_CLIP)
    return {"plausibility_logit": math.log(p / (1.0 - p)), "kb_pool_gap": kb_similarity - pool_similarity}


def kb_similarity(candidate_features: list[dict[str, float]]) -> float:
    """Cosine of the query with the KB's nearest question: the dense retriever's best match
    among the candidates (it fetches the nearest questions, so this is the KB's maximum)."""
    return max((f.get("dense_norm", 0.0) for f in candidate_features), default=0.0)


class PoolNeighbours:
    """The pool's sentence vectors; `nearest` is a query's cosine with the closest line."""

    def __init__(self, lines: list[str], vectors: np.ndarray) -> None:
        self.lines = lines
        self.vectors = vectors
        self._row = {line: i for i, line in enumerate(lines)}

    def nearest(self, query_vector: np.ndarray) -> float:
        if not len(self.vectors) or not query_vector.any():
            return 0.0
        return float((self.vectors @ query_vector).max())

    def nearest_many(self, query_vectors: np.ndarray, queries: list[str]) -> list[float]:
        """Each query's nearest pool line, the query itself left out: a pool line searched as
        a pseudo-query must not find itself (calibration, kb.autotune)."""
        if not len(self.vectors) or not len(query_vectors):
            return [0.0] * len(queries)
        sims = query_vectors @ self.vectors.T
        for i, query in enumerate(queries):
            row = self._row.get(query)
            if row is not None:
                sims[i, row] = -1.0
        return sims.max(axis=1).tolist()

    def answered_by(self, index_search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]) -> set[str]:
        """The lines a KB answers: those with one of its questions within `ANSWERED_BY_KB`
        (`index_search`: the dense half's vector index, best question first)."""
        if not len(self.vectors):
            return set()
        scores, _ = index_search(self.vectors, 1)
        if scores.shape[1] == 0:
            return set()
        return {line for line, best in zip(self.lines, scores[:, 0].tolist(), strict=True) if best >= ANSWERED_BY_KB}

    def without(self, excluded: set[str]) -> PoolNeighbours:
        keep = [i for i, line in enumerate(self.lines) if line not in excluded]
        return PoolNeighbours([self.lines[i] for i in keep], self.vectors[keep])


_ENCODED: dict[tuple[str, int], np.ndarray] = {}  # (model fingerprint, hash of the lines)


def _encoded(encoder: Encoder, lines: list[str]) -> np.ndarray:
    key = (encoder.fingerprint, hash(tuple(lines)))
    vectors = _ENCODED.get(key)
    if vectors is None:
        vectors = np.asarray(encoder.encode(lines), dtype=np.float32)
        if len(_ENCODED) >= 4:
            _ENCODED.clear()
        _ENCODED[key] = vectors
    return vectors


def pool_neighbours(encoder: Encoder, excluded: set[str] | frozenset[str] = frozenset()) -> PoolNeighbours:
    """The shipped pool encoded by this model (once per process), less the lines a KB's
    calibration found that it answers."""
    lines = neighbour_pool()
    vectors = _encoded(encoder, lines) if lines else np.zeros((0, encoder.dim), np.float32)
    pool = PoolNeighbours(lines, vectors)
    return pool.without(set(excluded)) if excluded else pool
