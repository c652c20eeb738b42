"""Training pairs from a knowledge base's own content, for `kb train` and the shipped model's
demo-KB stage.

- Each entry's standard question with each of its similar questions, and the similar
  questions with one another in a ring, so every paraphrase learns to sit near the others.
- The standard question with the answer's first line: customers often describe their
  problem in the answer's words rather than the question's.
- A few similar questions with one character replaced by another character of the KB, so
  typing slips do not move a question far (seeded, so the same KB gives the same pairs).
Entries without similar questions contribute only the answer pair.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

TYPO_COPIES_PER_ENTRY = 5
ANSWER_PREFIX_CHARS = 80


def entry_pairs(entries: Iterable[Any], seed: int = 0) -> list[tuple[str, str]]:
    entries = list(entries)
    rng = random.Random(seed)
    alphabet = sorted({c for e in entries for c in e.question if not c.isspace()})
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        similar = [q for q in (entry.similar_questions or []) if q and q != entry.question]
        pairs.extend((entry.question, q) for q in similar)
        if len(similar) > 2:
            pairs.extend(zip(similar, similar[1:] + similar[:1], strict=True))
        first_line = next((line.strip() for line in entry.answer.splitlines() if line.strip()), "")
        if first_line:
            pairs.append((entry.question, first_line[:ANSWER_PREFIX_CHARS]))
        for q in similar[:TYPO_COPIES_PER_ENTRY]:
            if len(q) > 3 and alphabet:
                i = rng.randrange(len(q))
                pairs.append((entry.question, q[:i] + rng.choice(alphabet) + q[i + 1 :]))
    return pairs
