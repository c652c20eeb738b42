"""Try a question against the KB before publishing: what the bot would find and decide, with
an unpublished draft counted as if it were published."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.search.engine import SearchEngine, SearchResponse
from kb.text.query_focus import focus


@dataclass
class DraftEntry:
    """Duck-typed like a stored entry for the index builder."""

    id: str
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    channels: dict[str, str]
    version: int = 0


def trial_search(live_engine: SearchEngine, published: list[Any], query: str, top_k: int,
                 draft: DraftEntry | None = None) -> tuple[SearchResponse, SearchEngine]:
    """Search the published index, or, with a draft, a throwaway index of the published entries
    plus the draft (replacing the published entry of the same id)."""
    if draft is None:
        return live_engine.search(query, top_k=top_k), live_engine
    entries = [e for e in published if e.id != draft.id] + [draft]
    # The live index's calibration (fitted to this KB), not the configured file's.
    engine = SearchEngine.build(entries, live_engine.settings, revision=None, calibrator=live_engine.calibrator)
    return engine.search(query, top_k=top_k), engine


def trial_json(response: SearchResponse, engine: SearchEngine, draft_id: str | None) -> dict[str, Any]:
    t = engine.thresholds
    return {
        "query": response.query,
        # What search looked for once greetings, numbers and 急 tails were set aside.
        "searched_as": focus(response.query),
        "decision": response.decision.value,
        "results": [
            {"rank": i + 1, "id": h.id, "question": h.question, "category": h.category,
             "score": round(h.score, 4), "confidence": round(h.confidence, 4),
             "is_draft": h.id == draft_id, "answer": h.answer}
            for i, h in enumerate(response.hits)
        ],
        "thresholds": {"answer": round(t.answer, 4), "clarify": round(t.clarify, 4),
                       "margin": round(t.margin, 4)},
        "took_ms": round(response.took_ms, 2),
    }
