"""SearchEngine: the one entry point callers use to search the published KB."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import Settings
from kb.search.calibration import Calibrator, Thresholds
from kb.search.decision import Decision, decide
from kb.search.dense import DenseRetriever
from kb.search.documents import IndexedEntry, build_documents
from kb.search.encoder import load_encoder, model_fingerprint
from kb.search.fusion import Candidate, fuse
from kb.search.lexical import LexicalRetriever
from kb.search.retriever import Retriever
from kb.search.vector_index import HnswParams
from kb.text.query_focus import focus

ENTRIES_FILE = "entries.json"
CALIBRATION_FILE = "calibration.json"
# Bumped whenever what `save` writes changes shape; older indexes are rebuilt, not misread.
INDEX_FORMAT = 4


class QueryError(ValueError):
    """The query cannot be searched (empty, too long); the message is for the user."""


@dataclass
class SearchHit:
    id: str
    question: str
    score: float
    confidence: float
    category: str
    answer: str
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchResponse:
    query: str
    decision: Decision
    hits: list[SearchHit]
    index_revision: int | None
    took_ms: float

    @property
    def top(self) -> SearchHit | None:
        return self.hits[0] if self.hits else None

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "results": [
                {
                    "id": h.id,
                    "question": h.question,
                    "score": round(h.score, 6),
                    "confidence": round(h.confidence, 6),
                }
                for h in self.hits
            ],
        }


def make_retrievers(settings: Settings) -> list[Retriever]:
    """The retrievers hybrid search combines: lexical and dense, unless one is switched off."""
    if not (settings.lexical_search or settings.dense_search):
        raise ValueError("lexical_search and dense_search are both off: nothing would search")
    retrievers: list[Retriever] = []
    if settings.lexical_search:
        retrievers.append(
            LexicalRetriever(
                k1=settings.bm25_k1,
                b=settings.bm25_b,
                ngram_sizes=settings.char_ngram_sizes,
                entry_weight=settings.lexical_entry_weight,
                answer_weight=settings.lexical_answer_weight,
            )
        )
    if settings.dense_search:
        retrievers.append(
            DenseRetriever(
                load_encoder(settings.embedding_model_dir),
                exact_max=settings.dense_exact_max,
                hnsw=HnswParams(settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search),
            )
        )
    return retrievers


def encoder_fingerprint(settings: Settings) -> str | None:
    """Which embedding model an index must have been built with (None: no dense half)."""
    return model_fingerprint(settings.embedding_model_dir) if settings.dense_search else None


def calibration_inputs(settings: Settings) -> str:
    """Content hash of what an index's calibration was derived from (the labelled file, the
    general file): when `kb tune` writes a new one, indexes built before are stale."""
    digest = hashlib.sha1()
    for path in (settings.resolved_calibration_file, settings.general_calibration_file):
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()[:16]


def configured_calibrator(settings: Settings) -> Calibrator:
    """The labelled calibration `kb tune` wrote, else the general one (kb/general_calibration.py)."""
    labelled = settings.resolved_calibration_file
    return Calibrator.load(labelled if labelled.is_file() else settings.general_calibration_file)


def validate_query(query: str, max_chars: int) -> str:
    if query is None or not query.strip():
        raise QueryError("query is empty")
    if len(query) > max_chars:
        raise QueryError(f"query is {len(query)} characters long; the limit is {max_chars}")
    return query.strip()


class SearchEngine:
    def __init__(
        self,
        settings: Settings,
        retrievers: list[Retriever],
        entries: list[IndexedEntry],
        calibrator: Calibrator,
        revision: int | None = None,
    ) -> None:
        self.settings = settings
        self.retrievers = retrievers
        self.entries = entries
        self.calibrator = calibrator
        self.revision = revision
        self.thresholds = Thresholds(
            margin=settings.answer_margin if settings.answer_margin is not None
            else calibrator.thresholds.margin,
            answer=settings.answer_threshold
            if settings.answer_threshold is not None
            else calibrator.thresholds.answer,
            clarify=settings.clarify_threshold
            if settings.clarify_threshold is not None
            else calibrator.thresholds.clarify,
        )

    # ---- construction --------------------------------------------------------------------
    @classmethod
    def build(
        cls, entries: Iterable[Any], settings: Settings, revision: int | None = None,
        calibrator: Calibrator | None = None,
    ) -> SearchEngine:
        """An index over `entries`; `calibrator` defaults to the configured file (the index
        builder passes the one fitted to this KB, kb.autotune)."""
        indexed, documents = build_documents(entries)
        retrievers = make_retrievers(settings)
        for retriever in retrievers:
            retriever.build(documents, indexed)
        calibrator = calibrator or configured_calibrator(settings)
        return cls(settings, retrievers, indexed, calibrator, revision)

    def save(self, directory: Path) -> dict[str, Any]:
        """Write this index into `directory`; returns the manifest describing it."""
        for retriever in self.retrievers:
            retriever.save(directory / retriever.name)
        entries = [e.to_json() for e in self.entries]
        (directory / ENTRIES_FILE).write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
        self.calibrator.save(directory / CALIBRATION_FILE)
        return {
            "format": INDEX_FORMAT,
            "revision": self.revision,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "entries": len(self.entries),
            "retrievers": [r.name for r in self.retrievers],
            "encoder": encoder_fingerprint(self.settings),
            "calibration_inputs": calibration_inputs(self.settings),
            "lexical": self.settings.lexical_search,
        }

    @classmethod
    def load(cls, directory: Path, settings: Settings, revision: int | None) -> SearchEngine:
        entries = [
            IndexedEntry(**e) for e in json.loads((directory / ENTRIES_FILE).read_text("utf-8"))
        ]
        retrievers = make_retrievers(settings)
        for retriever in retrievers:
            retriever.load(directory / retriever.name)
        # The calibration the build chose for this KB travels with the index.
        saved = directory / CALIBRATION_FILE
        calibrator = Calibrator.load(saved) if saved.is_file() else configured_calibrator(settings)
        return cls(settings, retrievers, entries, calibrator, revision)

    # ---- search --------------------------------------------------------------------------
    def candidates(self, query: str, limit: int) -> list[Candidate]:
        # Greetings, phone / order numbers and 急 tails say nothing about which entry answers.
        query = focus(query)
        per_retriever = {r.name: r.search(query, limit) for r in self.retrievers}
        # A retriever that can score any entry also scores what the others found, so every
        # candidate carries every retriever's evidence.
        found = {e for hits in per_retriever.values() for e in hits}
        for r in self.retrievers:
            if hasattr(r, "rescore"):
                missing = sorted(found - per_retriever[r.name].keys())
                per_retriever[r.name].update(r.rescore(query, missing))
        return fuse(per_retriever, limit)

    def search(self, query: str, top_k: int = 5) -> SearchResponse:
        started = time.perf_counter()
        query = validate_query(query, self.settings.max_query_chars)
        if top_k < 1:
            raise QueryError("top-k must be at least 1")
        candidates = self.candidates(query, max(top_k, self.settings.clarify_top_k, 10))
        # Retrievers find candidates; the learned ranker orders them and the confidence
        # model says how sure the top ones are.
        rank_p = self.calibrator.rank([c.features for c in candidates])
        hits = []
        for c, p in zip(candidates, rank_p, strict=True):
            entry = self.entries[c.entry_index]
            hits.append(
                SearchHit(
                    id=entry.id,
                    question=entry.question,
                    score=p,
                    confidence=self.calibrator.confidence(c.features),
                    category=entry.category,
                    answer=entry.answer,
                    features=c.features,
                )
            )
        hits.sort(key=lambda h: (-h.score, h.id))
        # The top-ranked hit is what would be answered; any other candidate nearly as
        # confident makes it a clarify. Decided before trimming, so top_k never changes it.
        decision = decide(
            hits[0].confidence if hits else None,
            self.thresholds,
            max((h.confidence for h in hits[1:]), default=None),
            self.calibrator.plausibility(hits[0].features, [h.confidence for h in hits[:3]],
                                         [h.score for h in hits[:3]]) if hits else None,
        )
        hits = hits[:top_k]
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query, decision, hits, self.revision, took)
