"""Training pairs from a knowledge base's own content, for `kb train`.

Each entry's standard question is paired with each of its similar questions, and the
similar questions with one another in a ring, so every paraphrase learns to sit near the
others; entries without similar questions contribute nothing.
"""

from __future__ import annotations

from typing import Any, Iterable


def entry_pairs(entries: Iterable[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        similar = [q for q in (entry.similar_questions or []) if q and q != entry.question]
        pairs.extend((entry.question, q) for q in similar)
        if len(similar) > 2:
            pairs.extend(zip(similar, similar[1:] + similar[:1]))
    return pairs
