"""Ticket classifier: category, priority, complexity, emotion and is_complaint.

One model per field over one shared feature space: TF-IDF of character 1–2-grams of the
normalised text, TF-IDF of the spaCy/jieba tokens, and the rule cues from `cues.py` (amounts,
urgency, anger, legal/media threats, repeat contact…). Each field is a class-balanced linear
SVM whose scores become probabilities by temperature scaling: one temperature per field, fitted
on the training split's 5-fold out-of-fold scores, so a confidence of 0.9 is right about 90 %
of the time (reliability per field reported by bench/assist_bench.py). SVM over logistic
regression, C, the cue weight and temperature over isotonic calibration (which left category
underconfident, ECE ≈ 0.10) were chosen by cross-validation on the training split.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from assist_api.assist.config import AssistConfig, load_config
from assist_api.assist.cues import analyse
from kb.text.normalize import normalize

FIELDS = ("category", "priority", "complexity", "emotion", "is_complaint")
DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_FORMAT = 5
CUE_WEIGHT = 0.3
CALIBRATION_FOLDS = 5


class CueFeatures(BaseEstimator, TransformerMixin):
    """The rule cues of each text as a sparse vector."""

    def fit(self, texts: Sequence[str], y: Any = None) -> CueFeatures:
        self.vectorizer_ = DictVectorizer().fit([analyse(t).features() for t in texts])
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        return self.vectorizer_.transform([analyse(t).features() for t in texts])


def _tokens(text: str) -> list[str]:
    return [t for t in analyse(text).tokens if t.strip()]


def _features() -> FeatureUnion:
    # Cue counts are scaled to [0, 1] and down-weighted: unscaled they outweighed the text and
    # cost 2–3 points of category accuracy in cross-validation.
    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True,
                                      preprocessor=normalize)),
            ("words", TfidfVectorizer(tokenizer=_tokens, token_pattern=None, lowercase=False,
                                      sublinear_tf=True)),
            ("cues", Pipeline([("counts", CueFeatures()), ("scale", MaxAbsScaler())])),
        ],
        transformer_weights={"chars": 1.0, "words": 1.0, "cues": CUE_WEIGHT},
    )


def _scores(model: LinearSVC, x: Any) -> np.ndarray:
    """One score column per class (a binary SVM's single margin split into two)."""
    d = model.decision_function(x)
    return np.column_stack([-d / 2, d / 2]) if d.ndim == 1 else d


class TemperatureScaledSVC:
    """A class-balanced linear SVM whose class scores, divided by a temperature, give calibrated
    probabilities through a softmax. The temperature minimises the log loss of out-of-fold
    scores on the training data, so it never sees the rows it is judged on."""

    def __init__(self, C: float = 1.0, folds: int = CALIBRATION_FOLDS) -> None:
        self.C = C
        self.folds = folds

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight="balanced")

    def fit(self, x: Any, y: Sequence[str], sample_weight: np.ndarray | None = None) -> TemperatureScaledSVC:
        labels = np.asarray(y)
        weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.model_ = self._svm().fit(x, labels, sample_weight=weights)
        self.classes_ = self.model_.classes_
        # Out-of-fold scores; fewer folds when a class (e.g. a new correction label) is rare.
        smallest = int(np.unique(labels, return_counts=True)[1].min())
        folds = min(self.folds, smallest)
        self.temperature_ = 1.0
        if folds >= 2:
            oof = np.zeros((len(labels), len(self.classes_)))
            for train, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(labels, labels):
                fold = self._svm().fit(x[train], labels[train], sample_weight=weights[train])
                cols = np.searchsorted(self.classes_, fold.classes_)
                oof[np.ix_(held, cols)] = _scores(fold, x[held])
            self.temperature_ = _fit_temperature(oof, np.searchsorted(self.classes_, labels), weights)
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        return softmax(_scores(self.model_, x) / self.temperature_, axis=1)


def _fit_temperature(scores: np.ndarray, truth: np.ndarray, weights: np.ndarray) -> float:
    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        return float(-(log_softmax(scores / np.exp(log_t), axis=1)[rows, truth] * weights).sum() / weights.sum())

    return float(np.exp(minimize_scalar(loss, bounds=(-6.0, 4.0), method="bounded").x))


@dataclass
class FieldPrediction:
    label: Any
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4)}


def _label(row: dict[str, Any], name: str) -> str:
    return str(row[name]).lower() if name == "is_complaint" else str(row[name])


class TicketClassifier:
    def __init__(self, features: FeatureUnion, models: dict[str, TemperatureScaledSVC], data_digest: str,
                 config: AssistConfig | None = None, corrections: int = 0):
        self.features = features
        self.models = models
        self.data_digest = data_digest  # of the seed data: setup retrains when that changes
        self.corrections = corrections  # agents' corrections folded in (retrain.py)
        self.config = config or load_config()

    @classmethod
    def train(cls, rows: list[dict[str, Any]], C: float = 1.0,
              extra: dict[str, list[tuple[str, str, float]]] | None = None,
              digest: str | None = None) -> TicketClassifier:
        """Train on the seed rows (weight 1) plus, per field, extra (text, label, weight) rows:
        agents' corrections, which label only the field they corrected."""
        extra = extra or {}
        texts = [r["text"] for r in rows]
        extra_texts = list(dict.fromkeys(t for items in extra.values() for t, _, _ in items))
        features = _features()
        features.fit(texts + extra_texts)  # one feature space, shared by the five fields
        x = features.transform(texts)
        models = {}
        for name in FIELDS:
            added = extra.get(name, [])
            xs = x if not added else _stack(x, features.transform([t for t, _, _ in added]))
            labels = [_label(r, name) for r in rows] + [label for _, label, _ in added]
            weights = np.array([1.0] * len(rows) + [w for _, _, w in added])
            models[name] = TemperatureScaledSVC(C).fit(xs, labels, sample_weight=weights)
        count = sum(len(items) for items in extra.values())
        return cls(features, models, digest or data_digest(rows), corrections=count)

    def predict(self, text: str) -> dict[str, FieldPrediction]:
        x = self.features.transform([text])
        out = {}
        for name, model in self.models.items():
            probs = model.predict_proba(x)[0]
            best = int(probs.argmax())
            label = str(model.classes_[best])
            out[name] = FieldPrediction(label == "true" if name == "is_complaint" else label, float(probs[best]))
        return out

    def classify(self, text: str, history: Sequence[str] = ()) -> dict[str, Any]:
        """The DESIGN.md classify response for a message (earlier turns give context)."""
        context = "\n".join([*history[-3:], text])
        predictions = self.predict(context)
        labels = {name: p.label for name, p in predictions.items()}
        result: dict[str, Any] = {
            name: predictions[name].to_json() for name in ("category", "priority", "complexity", "emotion")
        }
        result["route"] = self.config.route(labels)
        result["is_complaint"] = bool(labels["is_complaint"])
        result["is_complaint_confidence"] = round(predictions["is_complaint"].confidence, 4)
        result["keywords"] = analyse(context).keywords
        return result

    # ---- persistence ---------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically: a reader (the running API, setup) sees the old model or the new one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = pickle.dumps({"format": MODEL_FORMAT, "digest": self.data_digest, "corrections": self.corrections,
                             "features": self.features, "models": self.models})
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> TicketClassifier | None:
        if not path.is_file():
            return None
        # Our own file, written by `save` from the project's training data.
        data = pickle.loads(path.read_bytes())
        if data.get("format") != MODEL_FORMAT:
            return None
        return cls(data["features"], data["models"], data["digest"], corrections=data.get("corrections", 0))


def _stack(a: Any, b: Any) -> Any:
    from scipy.sparse import vstack

    return vstack([a, b]).tocsr()


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def data_digest(rows: list[dict[str, Any]]) -> str:
    blob = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(blob + str(MODEL_FORMAT).encode()).hexdigest()[:16]


def ensure_trained(model_path: Path, train_file: Path = DATA_DIR / "train.jsonl") -> tuple[TicketClassifier, bool]:
    """Load the classifier, training it first when missing or older than its seed data. A model
    retrained with agents' corrections on the current seed data is kept as it is."""
    rows = read_rows(train_file)
    existing = TicketClassifier.load(model_path)
    if existing is not None and existing.data_digest == data_digest(rows):
        return existing, False
    classifier = TicketClassifier.train(rows)
    classifier.save(model_path)
    return classifier, True
