"""The retriever interface every half of hybrid search implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kb.search.documents import Document, IndexedEntry


@dataclass
class EntryScore:
    """One retriever's view of one entry: a score (higher is better) and named features
    the calibrator may use (each in a roughly query-independent scale)."""

    score: float
    features: dict[str, float] = field(default_factory=dict)


class Retriever(Protocol):
    name: str

    def build(self, documents: list[Document], entries: list[IndexedEntry]) -> None: ...

    def save(self, directory: Path) -> None: ...

    def load(self, directory: Path) -> None: ...

    def search(self, query: str, limit: int) -> dict[int, EntryScore]:
        """Best entries for `query` as {entry index: EntryScore}, at most `limit` of them."""
        ...
