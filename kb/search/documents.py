"""What gets indexed: one document per standard or similar question, pointing at its entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class IndexedEntry:
    """The part of a published entry a search result needs, frozen with the index."""

    id: str
    question: str
    answer: str
    category: str
    channels: dict[str, str]
    version: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    entry_index: int  # position in the index's entry list
    text: str
    is_standard: bool  # the standard question rather than a similar one


def build_documents(entries: Iterable[Any]) -> tuple[list[IndexedEntry], list[Document]]:
    indexed: list[IndexedEntry] = []
    docs: list[Document] = []
    for entry in sorted(entries, key=lambda e: e.id):
        position = len(indexed)
        indexed.append(
            IndexedEntry(
                id=entry.id,
                question=entry.question,
                answer=entry.answer,
                category=entry.category,
                channels=dict(entry.channels or {}),
                version=entry.version,
            )
        )
        docs.append(Document(position, entry.question, True))
        docs.extend(Document(position, q, False) for q in entry.similar_questions or [])
    return indexed, docs
