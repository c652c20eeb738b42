"""Retrain the ticket classifier with agents' label corrections folded in.

A `LabelCorrection` names a handoff, a field and the value the agent set. Its text is the one the
classifier labelled when the handoff was created: the customer's own words about the open issue,
stored as the handoff summary's "background" (gateway/handoffs/service.py classifies exactly
that). Each correction adds one row for the field it corrected only, weighted CORRECTION_WEIGHT
against the seed rows' 1, so what agents saw outweighs the seed data without one slip rewriting
the model. The agent's latest correction of a field on a handoff wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assist_api.assist.classifier import DATA_DIR, FIELDS, TicketClassifier, data_digest, read_rows
from assist_api.assist.config import load_config
from assist_api.assist.feedback import LabelCorrection
from config.settings import Settings
from gateway.handoffs.models import Handoff

CORRECTION_WEIGHT = 3.0


@dataclass
class RetrainReport:
    model_path: Path
    seed_rows: int
    corrections: int  # rows folded in (latest per handoff and field)
    per_field: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # corrections without text or with a value outside the label set

    def to_json(self) -> dict[str, Any]:
        return {"model_path": str(self.model_path), "seed_rows": self.seed_rows,
                "corrections": self.corrections, "per_field": self.per_field, "skipped": self.skipped}


def handoff_text(handoff: Handoff) -> str:
    """The text the classifier saw for this handoff at creation."""
    return str((handoff.summary or {}).get("background") or "")


def read_corrections(session: Session) -> tuple[dict[str, list[tuple[str, str, float]]], int]:
    """{field: [(text, label, weight)]} from the stored corrections, and how many were skipped."""
    allowed = {name: set(values) for name, values in load_config().labels.items()}
    allowed["is_complaint"] = {"true", "false"}
    latest: dict[tuple[int, str], tuple[str, str]] = {}
    skipped = 0
    rows = session.execute(
        select(LabelCorrection, Handoff)
        .join(Handoff, Handoff.id == LabelCorrection.handoff_id)
        .order_by(LabelCorrection.created_at, LabelCorrection.id)
    ).all()
    for correction, handoff in rows:
        text, value = handoff_text(handoff), correction.new_value
        if correction.field not in FIELDS or not text.strip() or value not in allowed.get(correction.field, ()):
            skipped += 1
            continue
        latest[(handoff.id, correction.field)] = (text, value)  # later corrections replace earlier ones
    extra: dict[str, list[tuple[str, str, float]]] = {name: [] for name in FIELDS}
    for (_, name), (text, value) in latest.items():
        extra[name].append((text, value, CORRECTION_WEIGHT))
    return extra, skipped


def retrain_classifier(sessions: sessionmaker[Session] | Session, settings: Settings,
                       train_file: Path = DATA_DIR / "train.jsonl") -> RetrainReport:
    """Retrain the ticket classifier on the seed data plus every stored label correction
    (weighted CORRECTION_WEIGHT) and write it atomically to `settings.resolved_assist_model_file`.

    `sessions` is a session factory or an open session. The model keeps the seed data's digest,
    so `ensure_trained` at setup keeps it until the seed data itself changes. A running API
    loads the new file on its next start.
    """
    if isinstance(sessions, Session):
        extra, skipped = read_corrections(sessions)
    else:
        with sessions() as session:
            extra, skipped = read_corrections(session)
    rows = read_rows(train_file)
    classifier = TicketClassifier.train(rows, extra=extra, digest=data_digest(rows))
    path = settings.resolved_assist_model_file
    classifier.save(path)
    per_field = {name: len(items) for name, items in extra.items() if items}
    return RetrainReport(path, len(rows), sum(per_field.values()), per_field, skipped)
