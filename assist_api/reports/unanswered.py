"""Unanswered-question clusters from stored conversations, and drafts made from them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assist_api.editor.unanswered import unanswered_questions
from assist_api.reports.mining import from_unanswered, mine
from assist_api.reports.period import Period
from config.settings import Settings
from kb.search.encoder import load_encoder


def unanswered_clusters(sessions: sessionmaker[Session], settings: Settings, classifier: Any = None,
                        limit: int = 20, period: Period | None = None) -> list[dict[str, Any]]:
    """Clusters of the questions the bot failed on in the most recent messages (the editor's
    unanswered-questions scan), of `period` when given, largest first, each with a proposed
    draft entry."""
    since, until = (period.start, period.end) if period else (None, None)
    items = unanswered_questions(sessions, settings.unanswered_scan_messages, settings.mining_max_questions,
                                 since=since, until=until)
    if not items:
        return []
    encoder = load_encoder(settings.embedding_model_dir)
    categorise = None
    if classifier is not None:
        def categorise(text: str) -> str:
            label: str = classifier.classify(text)["category"]["label"]
            return label
    return mine(from_unanswered(items), encoder, settings.mining_distance_threshold,
                settings.mining_min_cluster_size, limit, categorise=categorise)

