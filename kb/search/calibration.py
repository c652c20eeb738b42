"""Map candidate features to a calibrated confidence: P(this entry answers the query).

A logistic regression fitted by `kb tune` on the dev split's candidates; the fitted weights,
the feature names and the thresholds chosen with them are stored in one JSON file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


@dataclass
class Thresholds:
    answer: float = 0.6
    clarify: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 <= self.clarify <= self.answer <= 1.0:
            raise ValueError(
                f"thresholds must satisfy 0 <= clarify ({self.clarify}) <= answer ({self.answer}) <= 1"
            )


@dataclass
class Calibrator:
    feature_names: list[str] = field(default_factory=lambda: ["lex_cov"])
    weights: list[float] = field(default_factory=lambda: [6.0])
    bias: float = -3.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    provenance: dict[str, Any] = field(default_factory=dict)

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(f, 0.0) for f, w in zip(self.feature_names, self.weights))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    # ---- persistence ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "Calibrator":
        if not path.is_file():
            return cls(provenance={"note": "defaults: no calibration file, run `kb tune`"})
        data = json.loads(path.read_text("utf-8"))
        return cls(
            feature_names=list(data["feature_names"]),
            weights=[float(w) for w in data["weights"]],
            bias=float(data["bias"]),
            thresholds=Thresholds(**data["thresholds"]),
            provenance=data.get("provenance", {}),
        )

    def save(self, path: Path) -> None:
        data = {
            "feature_names": self.feature_names,
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "thresholds": {"answer": self.thresholds.answer, "clarify": self.thresholds.clarify},
            "provenance": self.provenance,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")

    # ---- fitting -------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, feature_names: Sequence[str], rows: Sequence[dict[str, float]], labels: Sequence[int]
    ) -> "Calibrator":
        from sklearn.linear_model import LogisticRegression

        x = np.array([[row.get(f, 0.0) for f in feature_names] for row in rows], dtype=float)
        y = np.array(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("calibration needs both correct and wrong candidates in the dev set")
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        return cls(
            feature_names=list(feature_names),
            weights=model.coef_[0].tolist(),
            bias=float(model.intercept_[0]),
        )
