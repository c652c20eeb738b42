"""What agents do with agent assist, stored so it can learn from them.

* `SuggestionEvent`: one row per suggestion and what became of it (shown, inserted, sent
  unchanged, sent edited with its edit distance, ignored), with the template or KB entry, the
  conversation stage it was suggested for, its rank, the handoff and the agent.
* `LabelCorrection`: an agent's correction of the ticket classifier's label on a handoff
  (category, priority, complexity, emotion, is_complaint): the old and new value, who, when.
  Retraining folds these in above the seed data; the handoff's events audit them too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class SuggestionAction(StrEnum):
    shown = "shown"
    inserted = "inserted"
    sent_unchanged = "sent_unchanged"
    sent_edited = "sent_edited"
    ignored = "ignored"


class SuggestionSource(StrEnum):
    template = "template"
    kb = "kb"


CORRECTABLE_FIELDS = ("category", "priority", "complexity", "emotion", "is_complaint")


class SuggestionEvent(Base):
    __tablename__ = "suggestion_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(Integer, ForeignKey("handoffs.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    agent: Mapped[str] = mapped_column(String(128), index=True)
    # Groups the events of one suggestion list as shown (the id the suggest API returned).
    impression_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))  # SuggestionSource
    item_id: Mapped[str] = mapped_column(String(64), index=True)  # template id or KB entry id
    stage: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16), index=True)  # SuggestionAction
    edit_distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LabelCorrection(Base):
    __tablename__ = "label_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(Integer, ForeignKey("handoffs.id"), index=True)
    field: Mapped[str] = mapped_column(String(16))  # one of CORRECTABLE_FIELDS
    old_value: Mapped[str | None] = mapped_column(String(32), nullable=True)
    new_value: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
