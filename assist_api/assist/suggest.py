"""Rank reply suggestions for an agent: templates and KB answers, variables filled in.

Score of a template = text similarity between the customer's words and the template
(TF-IDF over character 1–2-grams of title + text) + a category bonus when the template is
written for the ticket's category + a stage prior following the service scripts: a soothing
template first for angry, anxious or disappointed customers (weighted by the emotion's
confidence), closing templates when the customer is pleased, an opening when the agent has
not written yet. The top of the list takes at most one template per stage (soothe → confirm →
solve rather than three apologies); KB answers enter with their calibrated search confidence.
Anything containing a discouraged phrase is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from assist_api.assist.config import AssistConfig
from assist_api.assist.templates import VARIABLES, ReplyTemplate
from kb.search.engine import SearchEngine
from kb.text.normalize import normalize

CATEGORY_BONUS = 0.25
SOOTHING_BONUS = 1.0
CLOSING_BONUS = 0.6
OPENING_BONUS = 0.35
KB_WEIGHT = 0.6
DIVERSE_TOP = 3  # the first suggestions come from different stages
UPSET = ("angry", "anxious", "disappointed")


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # an unknown value leaves a readable sentence
        return ""


@dataclass
class Suggestion:
    text: str
    source: str  # template | kb
    id: str
    score: float
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        key = "template_id" if self.source == "template" else "kb_id"
        out = {"text": self.text, "source": self.source, key: self.id, "score": round(self.score, 4)}
        if self.stage:
            out["stage"] = self.stage
        return out


class Suggester:
    def __init__(self, config: AssistConfig) -> None:
        self.config = config
        self._fingerprint: tuple | None = None
        self._templates: list[ReplyTemplate] = []
        self._vectorizer: TfidfVectorizer | None = None
        self._matrix = None

    def _index(self, templates: list[ReplyTemplate]) -> TfidfVectorizer:
        """The vectorizer fitted on these templates (refitted only when they changed)."""
        fingerprint = tuple((t.id, t.version) for t in templates)
        if fingerprint == self._fingerprint and self._vectorizer is not None:
            return self._vectorizer
        self._templates = templates
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True,
                                           preprocessor=normalize)
        corpus = [f"{t.title} {t.text}" for t in templates] or [""]
        self._matrix = self._vectorizer.fit_transform(corpus)
        self._fingerprint = fingerprint
        return self._vectorizer

    def suggest(
        self,
        text: str,
        templates: list[ReplyTemplate],
        classification: dict[str, Any],
        variables: dict[str, str],
        k: int = 3,
        channel: str = "web",
        agent_has_replied: bool = True,
        engine: SearchEngine | None = None,
    ) -> list[Suggestion]:
        vectorizer = self._index(templates)
        category = classification["category"]["label"]
        emotion = classification["emotion"]["label"]
        emotion_confidence = classification["emotion"]["confidence"]
        values = _Blank({name: variables.get(name) or "" for name in VARIABLES})
        values["category_name"] = values["category_name"] or self.config.category_names.get(category, "")
        query = vectorizer.transform([text])
        similarity = (self._matrix @ query.T).toarray().ravel() if self._templates else np.zeros(0)

        out: list[Suggestion] = []
        for template, sim in zip(self._templates, similarity):
            if channel not in template.channels:
                continue
            if template.categories and category not in template.categories:
                continue
            score = float(sim)
            if template.categories:
                score += CATEGORY_BONUS
            if template.stage == "soothing":
                score += SOOTHING_BONUS * emotion_confidence if emotion in UPSET else -0.2
            if template.stage == "closing":
                score += CLOSING_BONUS * emotion_confidence if emotion == "positive" else -0.1
            if template.stage == "opening" and not agent_has_replied:
                score += OPENING_BONUS
            filled = template.text.format_map(values)
            if not self.config.discouraged(filled):
                out.append(Suggestion(filled, "template", template.id, score, template.stage))
        if engine is not None and text.strip():
            try:
                response = engine.search(text[:1000], top_k=2)
            except ValueError:
                response = None
            for hit in response.hits if response else []:
                if not self.config.discouraged(hit.answer):
                    out.append(Suggestion(hit.answer, "kb", hit.id, KB_WEIGHT * hit.confidence))
        out.sort(key=lambda s: -s.score)
        return _diverse(_dedupe(out))[:k]


def _dedupe(items: Sequence[Suggestion]) -> list[Suggestion]:
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.text not in seen:
            seen.add(item.text)
            unique.append(item)
    return unique


def _diverse(ranked: list[Suggestion]) -> list[Suggestion]:
    """The first DIVERSE_TOP picks skip a stage already picked; the rest follow by score."""
    top: list[Suggestion] = []
    stages: set[str | None] = set()
    for item in ranked:
        if len(top) == DIVERSE_TOP:
            break
        key = item.stage if item.source == "template" else "kb"
        if key not in stages:
            top.append(item)
            stages.add(key)
    return top + [item for item in ranked if item not in top]
