"""Agent assist's configuration: the label sets it classifies into (common/labels.yaml, the one
source of label names) and the routing table and discouraged phrases of config/assist_labels.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from common.labels import CLASSIFICATION, load_labels
from config.settings import CONFIG_DIR

ASSIST_CONFIG = CONFIG_DIR / "assist_labels.yaml"


@dataclass(frozen=True)
class AssistConfig:
    labels: dict[str, list[str]]
    category_names: dict[str, str]
    routing: list[dict[str, Any]]
    discouraged_phrases: tuple[str, ...]

    def route(self, labels: dict[str, Any]) -> str:
        for rule in self.routing:
            if all(_matches(labels.get(key), want) for key, want in rule["when"].items()):
                return rule["route"]
        return "frontline"

    def discouraged(self, text: str) -> bool:
        return any(phrase in text for phrase in self.discouraged_phrases)


def _matches(value: Any, want: Any) -> bool:
    return value in want if isinstance(want, list) else value == want


@lru_cache(maxsize=4)
def load_config(path: Path = ASSIST_CONFIG) -> AssistConfig:
    data = yaml.safe_load(path.read_text("utf-8"))
    names = load_labels()
    return AssistConfig(
        labels={kind: list(names.values(kind)) for kind in CLASSIFICATION},
        category_names=names.category,
        routing=data["routing"],
        discouraged_phrases=tuple(data["discouraged_phrases"]),
    )
