"""Dense retriever: the sentence-embedding half of hybrid search.

Every standard and similar question is one vector in a faiss index (kb/search/vector_index).
An entry's score is its best-matching question; an entry centroid (mean of its questions'
vectors) is a second feature, the dense counterpart of lexical search's whole-entry field.
Entries the lexical half found and this half did not are scored too (`rescore`), so the
ranker sees both retrievers' evidence for every candidate.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np

from kb.search.documents import Document, IndexedEntry
from kb.search.encoder import Encoder
from kb.search.retriever import EntryScore
from kb.search.vector_index import HnswParams, VectorIndex

META_FILE = "dense.json"


class StaleIndexError(RuntimeError):
    """The saved dense index was built with another embedding model."""


class DenseRetriever:
    name = "dense"

    def __init__(self, encoder: Encoder, exact_max: int = 50_000, hnsw: HnswParams | None = None,
                 docs_per_entry: int = 4) -> None:
        self.encoder = encoder
        self.exact_max = exact_max
        self.hnsw = hnsw or HnswParams()
        # Nearest questions fetched per wanted entry: paraphrases of one entry crowd the top.
        self.docs_per_entry = docs_per_entry
        self.index = VectorIndex.build(np.zeros((0, encoder.dim), np.float32), exact_max)
        self._doc_entry = np.zeros(0, dtype=np.int32)
        self._entry_start = np.zeros(1, dtype=np.int64)
        self._centroids = np.zeros((0, encoder.dim), dtype=np.float16)
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    # ---- building and persistence -------------------------------------------------------
    def build(self, documents: list[Document], entries: list[IndexedEntry]) -> None:
        vectors = self.encoder.encode([d.text for d in documents])
        self._set_documents(np.array([d.entry_index for d in documents], dtype=np.int32), len(entries), vectors)
        self.index = VectorIndex.build(vectors, self.exact_max, self.hnsw)

    def _set_documents(self, doc_entry: np.ndarray, n_entries: int, vectors: np.ndarray) -> None:
        if len(doc_entry) and np.any(np.diff(doc_entry) < 0):
            raise ValueError("documents must be grouped by entry")  # build_documents guarantees it
        self._doc_entry = doc_entry
        self._entry_start = np.searchsorted(doc_entry, np.arange(n_entries + 1)).astype(np.int64)
        sums = np.zeros((n_entries, vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, doc_entry, vectors)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        # float16 halves the memory of a million-entry KB; only candidates' rows are read.
        self._centroids = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float16)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.index.save(directory)
        np.save(directory / "doc_entry.npy", self._doc_entry)
        np.save(directory / "centroids.npy", self._centroids)
        meta = {"encoder": self.encoder.fingerprint, "dim": self.encoder.dim,
                "entries": int(len(self._centroids)), "index": self.index.kind}
        (directory / META_FILE).write_text(json.dumps(meta), "utf-8")

    def load(self, directory: Path) -> None:
        meta = json.loads((directory / META_FILE).read_text("utf-8"))
        if meta["encoder"] != self.encoder.fingerprint:
            raise StaleIndexError(
                f"dense index in {directory} was built with model {meta['encoder']}, "
                f"not the configured {self.encoder.fingerprint}"
            )
        self.index = VectorIndex.load(directory, self.hnsw.ef_search)
        self._doc_entry = np.load(directory / "doc_entry.npy")
        self._centroids = np.load(directory / "centroids.npy")
        self._entry_start = np.searchsorted(
            self._doc_entry, np.arange(len(self._centroids) + 1)
        ).astype(np.int64)

    # ---- search --------------------------------------------------------------------------
    def _query_vector(self, query: str) -> np.ndarray:
        # search() and rescore() of one query share the encoding.
        vector = self._query_cache.get(query)
        if vector is None:
            vector = self.encoder.encode([query])[0]
            self._query_cache[query] = vector
            while len(self._query_cache) > 64:
                self._query_cache.popitem(last=False)
        return vector

    def search(self, query: str, limit: int) -> dict[int, EntryScore]:
        if self.index.size == 0:
            return {}
        q = self._query_vector(query)
        if not q.any():
            return {}
        _, ids = self.index.search(q[None, :], limit * self.docs_per_entry)
        found: list[int] = []
        for doc in ids[0].tolist():
            if doc < 0:
                continue
            entry = int(self._doc_entry[doc])
            if entry not in found:  # results come best first
                found.append(entry)
                if len(found) == limit:
                    break
        return self._scores(q, found)

    def rescore(self, query: str, entry_indices: list[int]) -> dict[int, EntryScore]:
        """This retriever's view of entries another retriever proposed."""
        if not entry_indices or self.index.size == 0:
            return {}
        return self._scores(self._query_vector(query), entry_indices)

    def _scores(self, q: np.ndarray, entries: list[int]) -> dict[int, EntryScore]:
        """Features of each entry from all of its questions' vectors: the best match (the
        score), the mean of the best two (several paraphrases agreeing), the standard
        question's match and the centroid's."""
        if not entries:
            return {}
        starts = self._entry_start[entries]
        ends = self._entry_start[np.asarray(entries) + 1]
        docs = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        sims = self.index.vectors(docs) @ q
        centroid = self._centroids[entries].astype(np.float32) @ q
        results: dict[int, EntryScore] = {}
        offset = 0
        for entry, start, end, c in zip(entries, starts, ends, centroid.tolist(), strict=True):
            own = sims[offset : offset + (end - start)]
            offset += end - start
            if len(own) == 0:
                continue
            top = np.sort(own)[::-1]
            best = float(top[0])
            results[entry] = EntryScore(
                score=best,
                features={
                    "dense_norm": best,
                    "dense_top2": float(top[:2].mean()),
                    "dense_std": float(own[0]),  # build_documents puts the standard question first
                    "dense_c": float(c),
                },
            )
        return results
