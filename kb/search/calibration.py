"""Rank candidates and give the top ones a calibrated confidence, with two small models.

- The ranker, a logistic regression over every candidate's retriever features fitted on the
  dev split (label: is this the expected entry), reorders what the retrievers found: a
  learned fusion of the lexical fields (and, later, of the dense retriever).
- The confidence model, a logistic regression over the ranked candidates' features plus the
  ranker's probability and its margin over the runner-up, fitted on each dev query's top
  candidate (label: the top candidate is right; out-of-scope queries are never right), so its
  output reads as P(this answer is correct).
Both models, their feature names and the thresholds chosen with them live in one JSON file
written by `kb tune`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RANK_FEATURES = ("rank_p", "rank_gap")


@dataclass
class Thresholds:
    """`answer` applies to the top candidate's confidence, `clarify` to the plausibility of
    the buttons (`plausibility`: is the right entry among the top few?)."""

    answer: float = 0.6
    clarify: float = 0.25
    # Answer outright only when the runner-up is at least this much less confident; two
    # near-equal candidates ("掉线": broadband or calls?) are a question to ask, not to guess.
    margin: float = 0.1

    def __post_init__(self) -> None:
        for name in ("answer", "clarify", "margin"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"the {name} threshold must be between 0 and 1, got {getattr(self, name)}")


BUTTON_FEATURES = ("conf_1", "conf_2", "conf_3", "rank_p_2", "rank_p_3")


def button_features(top: dict[str, float], confidences: Sequence[float],
                    rank_probabilities: Sequence[float] = ()) -> dict[str, float]:
    """The clarify model's input: the top candidate's features, and the confidences and
    ranker probabilities of the next candidates (the buttons "您是不是想问" would show): a
    runner-up the ranker rates nearly as high as the top makes a question worth asking."""
    row = dict(top)
    padded = [*confidences[:3], 0.0, 0.0, 0.0]
    ranks = [*rank_probabilities[:3], 0.0, 0.0, 0.0]
    row.update(conf_1=padded[0], conf_2=padded[1], conf_3=padded[2], rank_p_2=ranks[1], rank_p_3=ranks[2])
    return row


@dataclass
class LinearModel:
    feature_names: list[str]
    weights: list[float]
    bias: float

    def predict(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(f, 0.0) for f, w in zip(self.feature_names, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    @classmethod
    def fit(cls, feature_names: Sequence[str], rows: Sequence[dict[str, float]], labels: Sequence[int],
            class_weight: str | None = None, c: float = 1.0) -> LinearModel:
        """Logistic regression on standardised features (so `c` regularises every feature
        alike), folded back into weights on the raw features."""
        from sklearn.linear_model import LogisticRegression

        x = np.array([[row.get(f, 0.0) for f in feature_names] for row in rows], dtype=float)
        y = np.array(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("calibration needs both correct and wrong candidates in the dev set")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        model = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight).fit((x - mean) / scale, y)
        weights = model.coef_[0] / scale
        bias = float(model.intercept_[0] - np.dot(weights, mean))
        return cls(list(feature_names), weights.tolist(), bias)

    def to_json(self) -> dict[str, Any]:
        return {
            "feature_names": self.feature_names,
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        return cls(list(data["feature_names"]), [float(w) for w in data["weights"]], float(data["bias"]))


def _default_ranker() -> LinearModel:
    return LinearModel(["lex_norm"], [1.0], 0.0)


def _default_confidence() -> LinearModel:
    # Untuned fallback: share of the query's information the best entry covers.
    return LinearModel(["lex_ecov", "rank_gap"], [6.0, 2.0], -3.5)


@dataclass
class Calibrator:
    ranker: LinearModel = field(default_factory=_default_ranker)
    confidence_model: LinearModel = field(default_factory=_default_confidence)
    thresholds: Thresholds = field(default_factory=Thresholds)
    provenance: dict[str, Any] = field(default_factory=dict)
    # P(the right entry is among the buttons): what a clarify needs. Two near-equal candidates
    # ("经常掉线": broadband or calls?) make the top one's confidence low but this high.
    clarify_model: LinearModel | None = None

    def rank(self, candidates_features: list[dict[str, float]]) -> list[float]:
        """Adds `rank_p` and `rank_gap` to each feature dict; returns the rank probabilities."""
        probs = [self.ranker.predict(f) for f in candidates_features]
        for i, features in enumerate(candidates_features):
            others = max((p for j, p in enumerate(probs) if j != i), default=0.0)
            features["rank_p"] = probs[i]
            features["rank_gap"] = probs[i] - others
        return probs

    def confidence(self, features: dict[str, float]) -> float:
        return self.confidence_model.predict(features)

    def plausibility(self, top: dict[str, float], confidences: Sequence[float],
                     rank_probabilities: Sequence[float] = ()) -> float:
        """How likely the right entry is among the buttons; the top confidence when no clarify
        model was fitted (files written before it existed)."""
        if self.clarify_model is None:
            return confidences[0] if confidences else 0.0
        return self.clarify_model.predict(button_features(top, confidences, rank_probabilities))

    # ---- persistence ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Calibrator:
        if not path.is_file():
            return cls(provenance={"note": "defaults: no calibration file, run `kb tune`"})
        data = json.loads(path.read_text("utf-8"))
        return cls(
            ranker=LinearModel.from_json(data["ranker"]),
            confidence_model=LinearModel.from_json(data["confidence"]),
            thresholds=Thresholds(**data["thresholds"]),
            provenance=data.get("provenance", {}),
            clarify_model=LinearModel.from_json(data["clarify"]) if data.get("clarify") else None,
        )

    def save(self, path: Path) -> None:
        data = {
            "ranker": self.ranker.to_json(),
            "confidence": self.confidence_model.to_json(),
            "clarify": self.clarify_model.to_json() if self.clarify_model else None,
            "thresholds": {"answer": self.thresholds.answer, "clarify": self.thresholds.clarify,
                           "margin": self.thresholds.margin},
            "provenance": self.provenance,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
