"""Lexical retriever: BM25 (bm25s) over jieba words + character n-grams of every question."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from kb.search.documents import Document
from kb.search.retriever import EntryScore
from kb.text.tokenize import tokenize


class LexicalRetriever:
    name = "lexical"

    def __init__(self, k1: float = 1.2, b: float = 0.75, ngram_sizes: tuple[int, ...] = (1, 2)):
        self.k1 = k1
        self.b = b
        self.ngram_sizes = tuple(ngram_sizes)
        self._bm25: bm25s.BM25 | None = None
        self._doc_entry = np.zeros(0, dtype=np.int32)
        self._doc_tokens: list[frozenset[str]] = []
        self._idf: dict[str, float] = {}
        self._max_idf = 1.0

    # ---- building and persistence -------------------------------------------------------
    def build(self, documents: list[Document], entry_count: int) -> None:
        token_lists = [tokenize(doc.text, self.ngram_sizes) for doc in documents]
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        if documents:
            self._bm25.index(token_lists, show_progress=False)
        self._doc_entry = np.array([doc.entry_index for doc in documents], dtype=np.int32)
        self._doc_tokens = [frozenset(tokens) for tokens in token_lists]
        self._compute_idf()

    def _compute_idf(self) -> None:
        df = Counter(t for tokens in self._doc_tokens for t in tokens)
        n = len(self._doc_tokens)
        # Lucene's BM25 idf, the same formula bm25s scores with.
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # A query term no question contains is as informative as the rarest known term.
        self._max_idf = max(self._idf.values(), default=1.0)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._doc_tokens:
            self._bm25.save(str(directory / "bm25"))
        meta = {
            "k1": self.k1,
            "b": self.b,
            "ngram_sizes": list(self.ngram_sizes),
            "doc_entry": self._doc_entry.tolist(),
            "doc_tokens": [sorted(tokens) for tokens in self._doc_tokens],
        }
        (directory / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    def load(self, directory: Path) -> None:
        meta = json.loads((directory / "lexical.json").read_text("utf-8"))
        self.k1, self.b = meta["k1"], meta["b"]
        self.ngram_sizes = tuple(meta["ngram_sizes"])
        self._doc_entry = np.array(meta["doc_entry"], dtype=np.int32)
        self._doc_tokens = [frozenset(tokens) for tokens in meta["doc_tokens"]]
        self._bm25 = bm25s.BM25.load(str(directory / "bm25")) if self._doc_tokens else None
        self._compute_idf()

    # ---- search --------------------------------------------------------------------------
    def search(self, query: str, limit: int) -> dict[int, EntryScore]:
        query_tokens = list(dict.fromkeys(tokenize(query, self.ngram_sizes)))
        if not query_tokens or not self._doc_tokens:
            return {}
        weights = {t: self._idf.get(t, self._max_idf) for t in query_tokens}
        mass = sum(weights.values())
        word_mass = sum(w for t, w in weights.items() if t.startswith("w:")) or 1.0
        known = [t for t in query_tokens if t in self._idf]
        if not known:
            return {}
        scores = self._bm25.get_scores(known)
        top = self._top_docs(scores, limit * 4)

        best: dict[int, int] = {}
        for doc in top:
            entry = int(self._doc_entry[doc])
            if entry not in best or scores[doc] > scores[best[entry]]:
                best[entry] = doc
        ranked = sorted(best.items(), key=lambda kv: -scores[kv[1]])[:limit]

        results: dict[int, EntryScore] = {}
        for entry, doc in ranked:
            shared = self._doc_tokens[doc].intersection(weights)
            covered = sum(weights[t] for t in shared)
            covered_words = sum(weights[t] for t in shared if t.startswith("w:"))
            norm = float(scores[doc]) / mass
            results[entry] = EntryScore(
                score=norm,
                features={
                    "lex_norm": norm,
                    "lex_cov": covered / mass,
                    "lex_wcov": covered_words / word_mass,
                },
            )
        return results

    @staticmethod
    def _top_docs(scores: np.ndarray, n: int) -> np.ndarray:
        positive = np.flatnonzero(scores > 0)
        if len(positive) <= n:
            return positive
        part = np.argpartition(-scores[positive], n)[:n]
        return positive[part]
