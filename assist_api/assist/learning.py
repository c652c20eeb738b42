"""Retrain the suggestion ranker from what agents did with suggestions (SuggestionEvent rows).

An impression is one suggestion list as shown: its events share an impression_id. What the
agent accepted (inserted, sent unchanged, sent edited) is a positive; what was shown and not
taken is a negative; an item the agent found in the library instead (accepted, with no "shown"
event) is a positive the ranker missed. The conversation as it stood
when the list was shown is read back from the stored messages (those before the impression's
first event), so the features are rebuilt exactly as the suggest call computed them.

Fitting: acceptance counts per item and per (item, situation) under a Beta prior, the centroid
of the conversations in which each item was accepted, then a logistic regression over the
ranker's features with the cold score as a fixed offset, L2-penalised: the learned weights are
the cold ones plus a correction shrunk towards 0, so what the events say little about keeps its
cold weight (shrinking every weight towards 0 with a learned cold scale did worse on the replay
split). Count features of an impression's own items are computed leaving that impression
out, so the regression sees them as they will be on new conversations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize as unit_rows
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assist_api.assist.context import Turn
from assist_api.assist.feedback import SuggestionAction, SuggestionEvent
from assist_api.assist.ranker import (
    CENTROID_TERMS,
    COLUMN,
    Counts,
    RankerModel,
    cold_model,
    hashed,
)
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import ReplyTemplate
from gateway.conversations.models import Conversation, Message
from kb.text.normalize import normalize

ACCEPTED = {SuggestionAction.inserted: 1.0, SuggestionAction.sent_unchanged: 1.0,
            SuggestionAction.sent_edited: 0.8}  # an edited reply was a good start, not the reply
HARD_NEGATIVES = 12  # per impression, the best-scored candidates the agent did not take
REGULARISATION_C = 0.05  # towards cold: chosen by 2-fold CV within the replay split
PAIRWISE = False
TOWARDS_COLD = True  # regularise the learned weights towards the cold ones, not towards 0
UNSEEN_NEGATIVE = 0.3  # a candidate the agent never saw was maybe acceptable too

Classify = Callable[[str, Sequence[str]], dict[str, Any]]


@dataclass
class Impression:
    """One suggestion list and what became of it, with the conversation as it stood."""

    turns: list[Turn]
    shown: list[str]  # item keys ("template:<id>", "kb:<id>") in rank order
    accepted: dict[str, float] = field(default_factory=dict)  # item key → weight
    channel: str = "web"


def classify_context(classify: Classify, turns: Sequence[Turn]) -> dict[str, Any]:
    """Classify a conversation as the suggest route does: the latest customer turn, the earlier
    ones as history."""
    customer = [t.text for t in turns if t.sender == "customer" and t.text.strip() and not t.text.startswith("/")]
    return classify(customer[-1] if customer else "", customer[:-1])


# ---- events → impressions -------------------------------------------------------------------
def read_impressions(sessions: sessionmaker[Session]) -> list[Impression]:
    """Every impression in the database with its conversation up to the moment it was shown."""
    grouped: dict[str, list[SuggestionEvent]] = defaultdict(list)
    with sessions() as session:
        for event in session.scalars(select(SuggestionEvent).order_by(SuggestionEvent.id)):
            grouped[event.impression_id].append(event)
        out = []
        for events in grouped.values():
            first = min(e.created_at for e in events)
            conversation = session.get(Conversation, events[0].conversation_id)
            messages = session.scalars(
                select(Message).where(Message.conversation_id == events[0].conversation_id,
                                      Message.created_at <= first + timedelta(milliseconds=1))
                .order_by(Message.id))
            impression = Impression([Turn(m.sender, m.text) for m in messages], [],
                                    channel=conversation.channel if conversation else "web")
            for e in sorted(events, key=lambda e: e.rank):
                key = f"{e.source}:{e.item_id}"
                if e.action == SuggestionAction.shown and key not in impression.shown:
                    impression.shown.append(key)
                if e.action in ACCEPTED:
                    weight = ACCEPTED[SuggestionAction(e.action)]
                    impression.accepted[key] = max(weight, impression.accepted.get(key, 0.0))
            out.append(impression)
    return out


# ---- fitting --------------------------------------------------------------------------------
@dataclass
class _Seen:
    impression: Impression
    classification: dict[str, Any]
    situation_key: str
    vector: sparse.csr_matrix
    exposed: set[str]


def fit(impressions: Sequence[Impression], suggester: Suggester, templates: list[ReplyTemplate],
        classify: Classify) -> RankerModel:
    """A ranker retrained from these impressions (the cold model when there are none)."""
    cold = cold_model()
    model = RankerModel(cold.weights.copy(), info={"kind": "trained", "impressions": len(impressions)})
    suggester.ranker = cold
    seen: list[_Seen] = []
    sums: dict[str, sparse.csr_matrix] = {}
    for imp in impressions:
        classification = classify_context(classify, imp.turns)
        ranked = suggester.rank(suggester.read(imp.turns, templates), templates, classification, imp.channel)
        vector = hashed(normalize(ranked.context.query()))
        exposed = set(imp.shown) | set(imp.accepted)
        seen.append(_Seen(imp, classification, ranked.situation.key, vector, exposed))
        for key in exposed:
            accepted = float(key in imp.accepted)
            _add(model.items, key, accepted)
            _add(model.situations, f"{key}|{ranked.situation.key}", accepted)
            if accepted:
                sums[key] = sums[key] + vector if key in sums else vector
    model.centroids = {k: unit_rows(v) for k, v in sums.items()}
    rows, labels, weights = [], [], []
    suggester.ranker = model
    for s in seen:
        ranked = suggester.rank(suggester.read(s.impression.turns, templates), templates, s.classification,
                                s.impression.channel)
        X = ranked.features
        keys = [c.key for c in ranked.candidates]
        for i, key in enumerate(keys):
            if key in s.exposed:  # its own counts left out
                accepted = float(key in s.impression.accepted)
                X[i, COLUMN["accept_item"]] = model.items[key].rate(accepted, 1.0)
                X[i, COLUMN["accept_situation"]] = model.situations[f"{key}|{s.situation_key}"].rate(accepted, 1.0)
                if accepted:
                    rest = sums[key] - s.vector
                    X[i, COLUMN["learned_similarity"]] = (
                        float(unit_rows(rest).multiply(s.vector).sum()) if rest.nnz else 0.0)
        cold_scores = X @ cold.weights
        chosen = [i for i, key in enumerate(keys) if key in s.impression.accepted]
        passed = [i for i, key in enumerate(keys) if key in s.impression.shown and i not in chosen]
        if PAIRWISE:
            # What the agent took over what it saw and passed by (or, found in the library, over
            # everything it was shown): one difference row each way, so no intercept is needed.
            for i in chosen:
                for j in passed:
                    diff = np.append(X[i] - X[j], cold_scores[i] - cold_scores[j])
                    rows += [diff, -diff]
                    labels += [1, 0]
                    weights += [s.impression.accepted[keys[i]]] * 2
            continue
        others = [i for i in np.argsort(-cold_scores) if keys[i] not in s.impression.accepted]
        negatives = set(passed) | set(others[:HARD_NEGATIVES])
        for i in chosen:
            rows.append(np.append(X[i], cold_scores[i]))
            labels.append(1)
            weights.append(s.impression.accepted[keys[i]])
        for i in sorted(negatives):
            rows.append(np.append(X[i], cold_scores[i]))
            labels.append(0)
            weights.append(1.0 if i in passed else UNSEEN_NEGATIVE)
    if len(set(labels)) == 2 and TOWARDS_COLD:
        X_all, y_all, w_all = np.array(rows), np.array(labels, dtype=float), np.array(weights)
        model.weights = cold.weights + _correction(X_all[:, :-1], X_all[:, -1], y_all, w_all)
        model.info.update({"rows": len(rows), "positives": int(sum(labels)), "towards": "cold"})
    elif len(set(labels)) == 2:
        regression = LogisticRegression(C=REGULARISATION_C, max_iter=2000, fit_intercept=not PAIRWISE,
                                        class_weight=None if PAIRWISE else "balanced")
        regression.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
        coef = regression.coef_[0]
        model.weights = coef[:-1] + coef[-1] * cold.weights
        model.info.update({"rows": len(rows), "positives": int(sum(labels)), "cold_scale": round(float(coef[-1]), 4)})
    model.centroids = {k: _prune(v) for k, v in model.centroids.items()}
    return model


def _correction(X: np.ndarray, offset: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weights d (and an intercept) of a logistic regression on X with the cold score as a fixed
    offset, L2-penalised: the learned weights are cold + d, so a feature the events say little
    about keeps its cold weight instead of shrinking towards 0 with the rest."""
    positive = y == 1
    w = w * np.where(positive, len(y) / (2 * positive.sum()), len(y) / (2 * (~positive).sum()))  # balanced
    penalty = 1.0 / REGULARISATION_C

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ theta[:-1] + theta[-1] + offset
        p = expit(z)
        value = float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * penalty * theta[:-1] @ theta[:-1])
        g = w * (p - y)
        return value, np.append(X.T @ g + penalty * theta[:-1], g.sum())

    result = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B")
    return np.asarray(result.x[:-1])


def _add(table: dict[str, Counts], key: str, accepted: float) -> None:
    counts = table.setdefault(key, Counts())
    counts.accepted += accepted
    counts.shown += 1.0


def _prune(vector: sparse.csr_matrix) -> sparse.csr_matrix:
    """The CENTROID_TERMS heaviest n-grams, renormalised: a bounded model file."""
    vector = vector.tocsr()
    if vector.nnz > CENTROID_TERMS:
        keep = np.argsort(-vector.data)[:CENTROID_TERMS]
        vector = sparse.csr_matrix((vector.data[keep], vector.indices[keep], [0, len(keep)]), shape=vector.shape)
        vector.sort_indices()
    return unit_rows(vector)
