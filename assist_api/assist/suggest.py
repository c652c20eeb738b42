"""Rank reply suggestions for an agent over the whole conversation so far: templates with
variables filled in, and the KB's answer to the customer's latest question in the agent's voice.

The conversation gives the context (assist_api/assist/context.py): the stage the agent has
reached, read from what the agent already sent; whether the customer has just confirmed
(谢谢, 解决了…); the customer's recent words. Candidates are the templates for the channel
(no second opening once the agent has greeted) and the KB entry the search finds for the latest
customer turn; the ranker (assist_api/assist/ranker.py) scores them, cold from the service
scripts' heuristics or retrained from agents' events. The top of the list takes at most one
item per stage for a lone message (soothe → confirm → solve rather than three apologies).
Anything containing a discouraged phrase is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from assist_api.assist.config import AssistConfig
from assist_api.assist.context import ConversationContext, Turn, from_text, read_context
from assist_api.assist.ranker import CONFIRMED, Candidate, RankerFile, RankerModel, Situation, cold_model, hashed
from assist_api.assist.templates import VARIABLES, ReplyTemplate
from kb.search.decision import Decision
from kb.search.engine import SearchEngine, SearchHit
from kb.text.normalize import normalize

DIVERSE_TOP = 3  # among the first suggestions for a lone message, one per stage (soothe →
# confirm → solve rather than three apologies); with the conversation the stage is known, and
# two or three greetings or closings to choose from serve the agent better (replay split).
SENT_FROM_TEMPLATE = 0.6  # an agent message this similar to a template was sent from it
KB_TOP_K = 1
KB_VOICE = "关于您问的“{question}”，为您说明一下：{answer}如果还有不清楚的地方，随时告诉我。"


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


@dataclass
class Ranked:
    """Everything the ranker saw for one call: the situation, the candidates, their features and
    scores (retraining rebuilds the same from a stored conversation)."""

    context: ConversationContext
    situation: Situation
    candidates: list[Candidate]
    features: np.ndarray
    scores: np.ndarray
    texts: list[str]


class Suggester:
    def __init__(self, config: AssistConfig, ranker: RankerFile | RankerModel | None = None) -> None:
        self.config = config
        self.ranker = ranker
        self._fingerprint: tuple | None = None
        self._templates: list[ReplyTemplate] = []
        self._vectorizer: TfidfVectorizer | None = None
        self._matrix: Any = None

    @property
    def model(self) -> RankerModel:
        if isinstance(self.ranker, RankerFile):
            return self.ranker.get()
        if self.ranker is None:
            self.ranker = cold_model()
        return self.ranker

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

    def _similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Similarity of every template to each text (one row per text), in one transform."""
        out = np.zeros((len(texts), len(self._templates)))
        if not self._templates or not texts:
            return out
        assert self._vectorizer is not None
        return (self._vectorizer.transform(list(texts)) @ self._matrix.T).toarray()

    def read(self, turns: Iterable[Any], templates: list[ReplyTemplate]) -> ConversationContext:
        """The conversation's context; an agent message this close to a template was sent from it
        (inserted, perhaps edited a little)."""
        self._index(templates)
        items = [Turn.of(t) for t in turns]
        agent_texts = [t.text for t in items if t.sender == "agent" and t.text.strip()]
        sent: dict[str, tuple[str, str]] = {}
        for text, row in zip(agent_texts, self._similarities(agent_texts), strict=True):
            best = int(np.argmax(row)) if len(row) else -1
            if best >= 0 and row[best] >= SENT_FROM_TEMPLATE:
                sent[text] = (f"template:{self._templates[best].id}", self._templates[best].stage)
        return read_context(items, sent.get)

    def rank(
        self,
        context: ConversationContext,
        templates: list[ReplyTemplate],
        classification: dict[str, Any],
        channel: str = "web",
        engine: SearchEngine | None = None,
    ) -> Ranked:
        """Score every candidate for this conversation (no filling, no cut)."""
        self._index(templates)
        model = self.model
        phase = CONFIRMED if context.customer_confirms else context.state
        query = context.query()
        situation = Situation(
            phase=phase,
            category=classification["category"]["label"],
            category_confidence=classification["category"]["confidence"],
            emotion=classification["emotion"]["label"],
            emotion_confidence=classification["emotion"]["confidence"],
            stages_used=frozenset(context.agent_stages),
            templates_used=frozenset(context.agent_templates),
            context_vector=hashed(normalize(query)) if query else None,
        )
        last_agent = next((t.text for t in reversed(context.turns) if t.sender == "agent"), "")
        sim_latest_all, sim_recent_all, sim_agent_all = self._similarities([context.latest_customer, query, last_agent])
        keep = [i for i, t in enumerate(self._templates)
                if channel in t.channels and not (t.stage == "opening" and context.greeted)]
        candidates = [Candidate(f"template:{self._templates[i].id}", self._templates[i].stage,
                                tuple(self._templates[i].categories)) for i in keep]
        texts = [self._templates[i].text for i in keep]
        sim_latest, sim_recent, sim_agent = sim_latest_all[keep], sim_recent_all[keep], sim_agent_all[keep]
        for hit, answers in self._kb_hits(context, phase, engine):
            candidates.append(Candidate(f"kb:{hit.id}", "solution", (hit.category,), hit.confidence, answers))
            texts.append(KB_VOICE.format(question=hit.question.rstrip("？?"), answer=hit.answer))
            sim_latest, sim_recent, sim_agent = (np.append(a, 0.0) for a in (sim_latest, sim_recent, sim_agent))
        features = model.features(situation, candidates, sim_latest, sim_recent, sim_agent)
        return Ranked(context, situation, candidates, features, model.score(features), texts)

    def _kb_hits(self, context: ConversationContext, phase: str,
                 engine: SearchEngine | None) -> list[tuple[SearchHit, bool]]:
        """The KB entry answering the customer's latest turn (none once they said it is settled)."""
        latest = context.latest_customer.strip()
        if engine is None or not latest or phase == CONFIRMED:
            return []
        try:
            response = engine.search(latest[:1000], top_k=KB_TOP_K)
        except ValueError:
            return []
        return [(hit, i == 0 and response.decision == Decision.answer) for i, hit in enumerate(response.hits)]

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
        conversation: Sequence[Any] | None = None,
    ) -> list[Suggestion]:
        """The top k suggestions. `conversation` is the turns so far (dicts with sender and text,
        or the gateway's stored messages); without it, `text` is the customer's message and
        `agent_has_replied` says whether the agent has greeted already."""
        if conversation is not None:
            turns = list(conversation)
            if text.strip() and not any(getattr(t, "text", None) == text or
                                        (isinstance(t, dict) and t.get("text") == text) for t in turns):
                turns.append({"sender": "customer", "text": text})
        else:
            turns = list(from_text(text, agent_has_replied=agent_has_replied))
        ranked = self.rank(self.read(turns, templates), templates, classification, channel, engine)
        category = ranked.situation.category
        values = _Blank({name: variables.get(name) or "" for name in VARIABLES})
        values["category_name"] = values["category_name"] or self.config.category_names.get(category, "")
        out: list[Suggestion] = []
        for i in np.argsort(-ranked.scores, kind="stable"):
            candidate = ranked.candidates[i]
            source, _, item = candidate.key.partition(":")
            filled = ranked.texts[i].format_map(values) if source == "template" else ranked.texts[i]
            if not self.config.discouraged(filled):
                out.append(Suggestion(filled, source, item, float(ranked.scores[i]), candidate.stage))
        top = _diverse(_dedupe(out), 1 if conversation is None else DIVERSE_TOP)
        return _with_faq_answer(top, ranked, k)


def _with_faq_answer(ranked: list[Suggestion], scored: Ranked, k: int) -> list[Suggestion]:
    """The top k, with the KB's answer to an FAQ among them (last, when it did not rank higher):
    the customer asked what the KB answers outright."""
    answers = {c.key.partition(":")[2] for c in scored.candidates if c.kb_answer}
    faq = next((s for s in ranked if s.source == "kb" and s.id in answers), None)
    top = ranked[:k]
    if faq is None or faq in top or k < 2:
        return top
    return [*top[:k - 1], faq]


def _dedupe(items: Sequence[Suggestion]) -> list[Suggestion]:
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.text not in seen:
            seen.add(item.text)
            unique.append(item)
    return unique


def _diverse(ranked: list[Suggestion], per_stage: int) -> list[Suggestion]:
    """The first DIVERSE_TOP picks take at most per_stage of a stage; the rest follow by score."""
    top: list[Suggestion] = []
    taken: dict[str | None, int] = {}
    for item in ranked:
        if len(top) == DIVERSE_TOP:
            break
        key = item.stage if item.source == "template" else "kb"
        if taken.get(key, 0) < per_stage:
            top.append(item)
            taken[key] = taken.get(key, 0) + 1
    return top + [item for item in ranked if item not in top]
