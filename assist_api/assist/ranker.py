"""The suggestion ranker: a linear score over features of (conversation, candidate reply).

Features (names in FEATURES, one column each):
* text: TF-IDF similarity of the template to the customer's latest turn, their recent turns and
  the agent's last message (which often restates the problem), its rank among the candidates by
  similarity (a position feature), and the similarity again for greetings (which fit anything);
* category fit: the classifier's category among the template's categories, outside them, or a
  template for every category;
* stage fit: one column per (conversation state, template stage), the state being the stage the
  agent last reached (START before the agent wrote) or CONFIRMED once the customer says it is
  settled; the template's stage already used, the very template already sent;
* emotion: soothing templates for upset customers (by the emotion's confidence), for calm ones;
  closing for pleased ones; one column per (emotion, template stage), cold 0, for learning;
* learned from agents' events: the item's smoothed acceptance rate (accepted / shown under a
  Beta prior, centred on the prior mean so a cold item scores 0), the same within the situation
  (state and category), and the similarity of the conversation to the conversations in which
  agents accepted the item (hashed character n-grams, so no text is stored);
* kb: a KB answer's search confidence, and whether the search would answer outright.

The cold model is a hand-set weight vector (data/suggest_ranker_cold.json) reproducing the
service scripts' heuristics; `fit` retrains the weights from impressions (logistic regression
with the cold score as an input, so with few events the ranking stays close to cold).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from assist_api.assist.context import STAGES, STATES

CONFIRMED = "confirmed"
PHASES = (*STATES, CONFIRMED)
UPSET = ("angry", "anxious", "disappointed")
PRIOR_ACCEPT, PRIOR_REJECT = 1.0, 3.0  # Beta prior: a shown item is taken about 1 time in 4
PRIOR_MEAN = PRIOR_ACCEPT / (PRIOR_ACCEPT + PRIOR_REJECT)
CENTROID_TERMS = 300  # hashed n-grams kept per item
COLD_FILE = Path(__file__).resolve().parent / "data" / "suggest_ranker_cold.json"
MODEL_FORMAT = 1

BASE_FEATURES = (
    "sim_latest", "sim_recent", "sim_rank", "sim_agent", "sim_opening",
    "category_match", "category_mismatch", "category_generic",
    "stage_used", "template_used",
    "upset_soothing", "calm_soothing", "positive_closing",
    "accept_item", "accept_situation", "learned_similarity",
    "kb_confidence", "kb_answer",
)
STAGE_FEATURES = tuple(f"{phase}>{stage}" for phase in PHASES for stage in STAGES)
EMOTIONS = ("neutral", "anxious", "angry", "disappointed", "positive")
EMOTION_FEATURES = tuple(f"{emotion}~{stage}" for emotion in EMOTIONS for stage in STAGES)
FEATURES = BASE_FEATURES + STAGE_FEATURES + EMOTION_FEATURES
COLUMN = {name: i for i, name in enumerate(FEATURES)}

_HASHER = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 2), n_features=2 ** 18, alternate_sign=False,
                            norm="l2")


def hashed(text: str) -> sparse.csr_matrix:
    return _HASHER.transform([text])


@dataclass
class Candidate:
    """One reply the ranker may offer: a template or a KB entry."""

    key: str  # "template:<id>" or "kb:<id>"
    stage: str
    categories: Sequence[str] = ()
    kb_confidence: float = 0.0
    kb_answer: bool = False


@dataclass
class Situation:
    """What the features need of the conversation."""

    phase: str  # one of PHASES
    category: str
    category_confidence: float
    emotion: str
    emotion_confidence: float
    stages_used: frozenset[str] = frozenset()
    templates_used: frozenset[str] = frozenset()
    context_vector: sparse.csr_matrix | None = None  # hashed customer words

    @property
    def key(self) -> str:
        return f"{self.phase}|{self.category}"


@dataclass
class Counts:
    accepted: float = 0.0
    shown: float = 0.0

    def rate(self, minus_accepted: float = 0.0, minus_shown: float = 0.0) -> float:
        a, n = self.accepted - minus_accepted, self.shown - minus_shown
        return (a + PRIOR_ACCEPT) / (n + PRIOR_ACCEPT + PRIOR_REJECT) - PRIOR_MEAN


@dataclass
class RankerModel:
    weights: np.ndarray
    items: dict[str, Counts] = field(default_factory=dict)
    situations: dict[str, Counts] = field(default_factory=dict)  # "<item>|<phase>|<category>"
    centroids: dict[str, sparse.csr_matrix] = field(default_factory=dict)  # item → unit vector
    info: dict[str, Any] = field(default_factory=dict)

    # ---- scoring -------------------------------------------------------------------------
    def features(self, situation: Situation, candidates: Sequence[Candidate], sim_latest: np.ndarray,
                 sim_recent: np.ndarray, sim_agent: np.ndarray | None = None) -> np.ndarray:
        n = len(candidates)
        X = np.zeros((n, len(FEATURES)))
        X[:, COLUMN["sim_latest"]] = sim_latest
        X[:, COLUMN["sim_recent"]] = sim_recent
        if sim_agent is not None:
            X[:, COLUMN["sim_agent"]] = sim_agent
        # A greeting fits any words: similarity picks a special greeting by accident.
        opening = np.array([c.stage == "opening" for c in candidates], dtype=bool)
        X[opening, COLUMN["sim_opening"]] = (sim_latest[opening] + sim_recent[opening]) / 2
        order = np.argsort(-sim_recent, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(n)
        X[:, COLUMN["sim_rank"]] = 1.0 / (1.0 + ranks)
        upset = situation.emotion in UPSET
        for i, c in enumerate(candidates):
            row = X[i]
            if c.key.startswith("kb:"):
                row[COLUMN["kb_confidence"]] = c.kb_confidence
                row[COLUMN["kb_answer"]] = float(c.kb_answer)
            elif not c.categories:
                row[COLUMN["category_generic"]] = 1.0
            elif situation.category in c.categories:
                row[COLUMN["category_match"]] = situation.category_confidence
            else:
                row[COLUMN["category_mismatch"]] = situation.category_confidence
            row[COLUMN[f"{situation.phase}>{c.stage}"]] = 1.0
            if situation.emotion in EMOTIONS:
                row[COLUMN[f"{situation.emotion}~{c.stage}"]] = situation.emotion_confidence
            row[COLUMN["stage_used"]] = float(c.stage in situation.stages_used)
            row[COLUMN["template_used"]] = float(c.key in situation.templates_used)
            if c.stage == "soothing":
                row[COLUMN["upset_soothing" if upset else "calm_soothing"]] = (
                    situation.emotion_confidence if upset else 1.0)
            if c.stage == "closing" and situation.emotion == "positive":
                row[COLUMN["positive_closing"]] = situation.emotion_confidence
            row[COLUMN["accept_item"]] = self.items.get(c.key, Counts()).rate()
            row[COLUMN["accept_situation"]] = self.situations.get(f"{c.key}|{situation.key}", Counts()).rate()
            centroid = self.centroids.get(c.key)
            if centroid is not None and situation.context_vector is not None:
                row[COLUMN["learned_similarity"]] = float(centroid.multiply(situation.context_vector).sum())
        return X

    def score(self, X: np.ndarray) -> np.ndarray:
        return X @ self.weights

    # ---- persistence ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "items": {k: [c.accepted, c.shown] for k, c in sorted(self.items.items())},
            "situations": {k: [c.accepted, c.shown] for k, c in sorted(self.situations.items())},
            "centroids": {k: {"i": v.indices.tolist(), "v": [round(float(x), 5) for x in v.data]}
                          for k, v in sorted(self.centroids.items())},
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RankerModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"ranker model format {data.get('format')} is not {MODEL_FORMAT}")
        # Weights by name: a feature added since the file was written keeps its cold weight.
        cold = _cold_weights()
        named = dict(zip(data["features"], data["weights"], strict=True))
        weights = np.array([named.get(f, cold[i]) for i, f in enumerate(FEATURES)])
        dim = _HASHER.n_features
        centroids = {k: sparse.csr_matrix((v["v"], v["i"], [0, len(v["i"])]), shape=(1, dim))
                     for k, v in data.get("centroids", {}).items()}
        return cls(weights,
                   {k: Counts(*v) for k, v in data.get("items", {}).items()},
                   {k: Counts(*v) for k, v in data.get("situations", {}).items()},
                   centroids, data.get("info", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False) + "\n", "utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RankerModel:
        return cls.from_json(json.loads(path.read_text("utf-8")))


def _cold_weights() -> np.ndarray:
    named = json.loads(COLD_FILE.read_text("utf-8"))["weights"]
    unknown = set(named) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features in {COLD_FILE.name}: {sorted(unknown)}")
    return np.array([float(named.get(f, 0.0)) for f in FEATURES])


def cold_model() -> RankerModel:
    """The ranker before any event: today's heuristics as a weight vector."""
    return RankerModel(_cold_weights(), info={"kind": "cold"})


class RankerFile:
    """The ranker the service uses: the retrained model file when there is one (re-read when it
    changes, checked at most every `check_s`), else the cold model."""

    def __init__(self, path: Path | None, check_s: float = 5.0) -> None:
        self.path = path
        self.check_s = check_s
        self._model = cold_model()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self.get()

    def get(self) -> RankerModel:
        now = time.monotonic()
        if self.path is None or now - self._checked < self.check_s:
            return self._model
        self._checked = now
        try:
            stat = self.path.stat()
        except OSError:
            return self._model
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                self._model = RankerModel.load(self.path)
            except (OSError, ValueError, KeyError):
                return self._model  # a broken or foreign file: keep serving the last good model
            self._stamp = stamp
        return self._model
