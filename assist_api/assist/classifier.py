"""Ticket classifier: category, priority, complexity, emotion and is_complaint.

One model per field over one shared feature space: TF-IDF of character 1–2-grams of the
normalised text, TF-IDF of the spaCy/jieba tokens, and the rule cues from `cues.py` (amounts,
urgency, anger, legal/media threats…). Each field is a class-balanced linear SVM wrapped in
isotonic calibration (3-fold) so confidences track accuracy (reliability per field reported
by bench/assist_bench.py). SVM, C, the cue weight and isotonic over sigmoid calibration were
chosen by cross-validation on the training split.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from assist_api.assist.config import AssistConfig, load_config
from assist_api.assist.cues import analyse
from kb.text.normalize import normalize

FIELDS = ("category", "priority", "complexity", "emotion", "is_complaint")
DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_FORMAT = 4
CUE_WEIGHT = 0.3


class CueFeatures(BaseEstimator, TransformerMixin):
    """The rule cues of each text as a sparse vector."""

    def fit(self, texts: Sequence[str], y=None):
        self.vectorizer_ = DictVectorizer().fit([analyse(t).features() for t in texts])
        return self

    def transform(self, texts: Sequence[str]):
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


@dataclass
class FieldPrediction:
    label: Any
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4)}


class TicketClassifier:
    def __init__(self, features: FeatureUnion, models: dict[str, CalibratedClassifierCV], data_digest: str,
                 config: AssistConfig | None = None):
        self.features = features
        self.models = models
        self.data_digest = data_digest
        self.config = config or load_config()

    @classmethod
    def train(cls, rows: list[dict[str, Any]], C: float = 1.0) -> "TicketClassifier":
        texts = [r["text"] for r in rows]
        features = _features()
        x = features.fit_transform(texts)  # one feature space, shared by the five fields
        models = {}
        for name in FIELDS:
            labels = [str(r[name]).lower() if name == "is_complaint" else r[name] for r in rows]
            models[name] = CalibratedClassifierCV(
                LinearSVC(C=C, class_weight="balanced"), method="isotonic", cv=3,
            ).fit(x, labels)
        return cls(features, models, data_digest(rows))

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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps({"format": MODEL_FORMAT, "digest": self.data_digest,
                                      "features": self.features, "models": self.models}))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TicketClassifier | None":
        if not path.is_file():
            return None
        # Our own file, written by `save` from the project's training data.
        data = pickle.loads(path.read_bytes())
        if data.get("format") != MODEL_FORMAT:
            return None
        return cls(data["features"], data["models"], data["digest"])


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def data_digest(rows: list[dict[str, Any]]) -> str:
    blob = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(blob + str(MODEL_FORMAT).encode()).hexdigest()[:16]


def ensure_trained(model_path: Path, train_file: Path = DATA_DIR / "train.jsonl") -> tuple[TicketClassifier, bool]:
    """Load the classifier, training it first when missing or older than its data."""
    rows = read_rows(train_file)
    existing = TicketClassifier.load(model_path)
    if existing is not None and existing.data_digest == data_digest(rows):
        return existing, False
    classifier = TicketClassifier.train(rows)
    classifier.save(model_path)
    return classifier, True
