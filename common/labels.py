"""The platform's label names, typed, from the one source `common/labels.yaml`: for each kind
(category, priority, handoff reason, …) its values in display order and their Chinese names.
The gateway serves them to the pages (GET /api/labels), the HTML report and agent assist read
them here; nothing else spells a label's Chinese name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field

LABELS_FILE = Path(__file__).resolve().with_name("labels.yaml")

# The kinds agent assist classifies a case into.
CLASSIFICATION: Final = ("category", "priority", "complexity", "emotion")

Name = Annotated[str, Field(min_length=1)]
# value -> Chinese name, in display order; a kind has at least one value.
Names = Annotated[dict[str, Name], Field(min_length=1)]


class Labels(BaseModel):
    """Every kind of label: value -> Chinese name, in display order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Names = Field(examples=[{"billing": "话费账单", "network": "手机网络"}])
    priority: Names = Field(examples=[{"urgent": "紧急", "high": "高", "normal": "普通"}])
    complexity: Names
    emotion: Names
    route: Names
    reason: Names
    status: Names
    channel: Names
    sender: Names
    decision: Names
    unanswered_kind: Names
    kb_status: Names
    kb_field: Names
    granularity: Names

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    def names(self, kind: str) -> dict[str, str]:
        if kind not in type(self).model_fields:
            raise KeyError(kind)
        names: dict[str, str] = getattr(self, kind)
        return names

    def values(self, kind: str) -> tuple[str, ...]:
        return tuple(self.names(kind))

    def name(self, kind: str, value: str) -> str:
        """The Chinese name of a value; the value itself when the source has none for it."""
        return self.names(kind).get(value, value)


@lru_cache(maxsize=4)
def read_labels(path: Path) -> Labels:
    return Labels.model_validate(yaml.safe_load(path.read_text("utf-8")))


def load_labels() -> Labels:
    """The labels of `LABELS_FILE` (read once; the name is looked up at each call, so a test can
    point it at a renamed copy)."""
    return read_labels(LABELS_FILE)
