"""Store what agents do with agent assist (assist_api/assist/feedback.py) and export it.

* `record_events`: a batch of suggestion events for one handoff, checked (actions, sources,
  stages, that the template or KB entry exists, that the case is the agent's), with the edit
  distance computed here from the suggestion and the sent text when the console sends both
  (which then also decides sent_unchanged or sent_edited); neither text is stored.
* `export`: every event in a time range as CSV or JSON lines, row by row (a stream).
* `correct`: an agent's or supervisor's correction of one classification label on a handoff:
  the record's labels (and its priority column, and its deadlines), a `LabelCorrection` row and
  an audited `HandoffEvent`, in one transaction.

Deadlines after a correction follow the corrected labels, counted from the case's creation as
if it had been classified right; where that instant is already past, the corrected window
starts at the correction, and is never later than the deadline it replaces. A deadline already
met (the first response given, the case resolved) or already missed stays as it was: a
correction does not undo a breach. So re-prioritising to 紧急 tightens the first-response
deadline, and re-prioritising down relaxes one that has not yet passed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assist_api.assist.config import AssistConfig
from assist_api.assist.edit_distance import levenshtein
from assist_api.assist.feedback import (
    CORRECTABLE_FIELDS,
    LabelCorrection,
    SuggestionAction,
    SuggestionEvent,
    SuggestionSource,
)
from assist_api.assist.templates import ReplyTemplate, Stage
from common.labels import load_labels
from db.base import utcnow
from gateway.handoffs.models import Handoff, HandoffEvent, HandoffStatus
from gateway.handoffs.service import HandoffConflict, HandoffNotFound
from gateway.handoffs.service_levels import ServiceLevels
from kb.models import KBEntry

ExportFormat = Literal["csv", "jsonl"]
EXPORT_COLUMNS = ("id", "created_at", "handoff_id", "conversation_id", "agent", "impression_id", "source",
                  "item_id", "stage", "rank", "action", "edit_distance")
# The Chinese names of the correctable fields, for the audit note on the record.
FIELD_NAMES = {"category": "类别", "priority": "优先级", "complexity": "复杂度", "emotion": "情绪",
               "is_complaint": "投诉"}
COMPLAINT_NAMES = {"true": "是", "false": "否"}
SENT = (SuggestionAction.sent_unchanged, SuggestionAction.sent_edited)


class InvalidFeedback(ValueError):
    """An event or a correction the service refuses (an unknown item, label or action)."""


@dataclass(frozen=True)
class EventIn:
    """One suggestion event as the console reports it. `suggestion_text` and `sent_text` are
    only read to compute the edit distance of a sent suggestion; neither is stored."""

    impression_id: str
    source: str
    item_id: str
    rank: int
    action: str
    stage: str | None = None
    edit_distance: int | None = None
    suggestion_text: str | None = None
    sent_text: str | None = None


class FeedbackService:
    def __init__(self, sessions: sessionmaker[Session], levels: ServiceLevels,
                 config: AssistConfig | None = None) -> None:
        self._sessions = sessions
        self.levels = levels
        self.config = config  # the routing table, to re-route a corrected case

    # ---- suggestion events ---------------------------------------------------------------
    def record_events(self, handoff_id: int, agent: str, events: Sequence[EventIn]) -> int:
        """Store a batch for one handoff that `agent` owns, or that nobody owns yet (an agent
        reads a queued case, and its suggestions, before claiming it). Returns the count."""
        rows = [_checked(e) for e in events]
        with self._sessions.begin() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            if handoff.owner and handoff.owner != agent:
                raise HandoffConflict(f"handoff {handoff_id} belongs to {handoff.owner}")
            _check_items_exist(session, rows)
            now = utcnow()
            session.add_all(SuggestionEvent(
                handoff_id=handoff_id, conversation_id=handoff.conversation_id, agent=agent,
                impression_id=e.impression_id, source=e.source, item_id=e.item_id, stage=e.stage or "",
                rank=e.rank, action=e.action, edit_distance=e.edit_distance, created_at=now,
            ) for e in rows)
        return len(rows)

    def events(self, handoff_id: int) -> list[SuggestionEvent]:
        with self._sessions() as session:
            return list(session.scalars(select(SuggestionEvent).where(SuggestionEvent.handoff_id == handoff_id)
                                        .order_by(SuggestionEvent.id)))

    def export(self, start: datetime | None, end: datetime | None, fmt: ExportFormat) -> Iterator[str]:
        """Events created in [start, end), oldest first, as CSV (UTF-8 with BOM, opens in Excel)
        or JSON lines; read in batches so a long range streams in constant memory."""
        stmt = select(SuggestionEvent).order_by(SuggestionEvent.id).execution_options(yield_per=500)
        if start is not None:
            stmt = stmt.where(SuggestionEvent.created_at >= start)
        if end is not None:
            stmt = stmt.where(SuggestionEvent.created_at < end)
        if fmt == "csv":
            yield "\ufeff" + _csv_line(EXPORT_COLUMNS)
        with self._sessions() as session:
            for event in session.scalars(stmt):
                row = _export_row(event)
                yield _csv_line(row.values()) if fmt == "csv" else json.dumps(row, ensure_ascii=False) + "\n"

    # ---- label corrections -----------------------------------------------------------------
    def correct(self, handoff_id: int, field: str, value: str | bool, actor: str,
                any_case: bool = False) -> LabelCorrection:
        """Correct one label of a handoff. Agents correct the cases they own; `any_case`
        (supervisors, admins) any case. Raises InvalidFeedback for an unknown field or value or
        an unchanged label, HandoffNotFound, HandoffConflict for another agent's case."""
        new = _label_value(field, value)
        now = utcnow()
        with self._sessions.begin() as session:
            handoff = session.get(Handoff, handoff_id, with_for_update=True)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            if not any_case and handoff.owner != actor:
                raise HandoffConflict(f"only the owner ({handoff.owner or 'nobody yet'}) or a supervisor "
                                      f"can correct handoff {handoff_id}")
            labels = json.loads(json.dumps(handoff.classification or {}))  # a copy: JSON columns change by assignment
            old = _current(labels, field)
            if old == new:
                raise InvalidFeedback(f"the {field} is already {new}")
            if field == "is_complaint":
                labels["is_complaint"] = new == "true"
            else:
                labels[field] = {"label": new, "confidence": 1.0, "corrected_by": actor}
            if self.config is not None and "route" in labels:
                labels["route"] = self.config.route(_plain(labels))
            labels.setdefault("corrected", [])
            if field not in labels["corrected"]:
                labels["corrected"].append(field)
            handoff.classification = labels
            if field == "priority":
                handoff.priority = new
            self._move_deadlines(handoff, labels, now)
            handoff.updated_at = now  # the consoles' streams see the change
            correction = LabelCorrection(handoff_id=handoff_id, field=field, old_value=old, new_value=new,
                                         agent=actor, created_at=now)
            session.add(correction)
            session.add(HandoffEvent(handoff_id=handoff_id, from_status=handoff.status, to_status=handoff.status,
                                     actor=actor, at=now, note=correction_note(field, old, new)))
            session.flush()
            session.expunge(correction)
            return correction

    def corrections(self, handoff_id: int) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(select(LabelCorrection).where(LabelCorrection.handoff_id == handoff_id)
                                   .order_by(LabelCorrection.id))
            return [correction_json(c) for c in rows]

    def _move_deadlines(self, handoff: Handoff, labels: dict[str, Any], now: datetime) -> None:
        plain = _plain(labels)
        if handoff.first_response_at is None and now <= handoff.first_response_due:
            handoff.first_response_due = _corrected(
                handoff.first_response_due, handoff.created_at, now,
                lambda at: self.levels.first_response_due(plain["priority"], at))
        done = handoff.status in (HandoffStatus.resolved.value, HandoffStatus.closed.value)
        if not done and now <= handoff.resolution_due:
            handoff.resolution_due = _corrected(
                handoff.resolution_due, handoff.created_at, now,
                lambda at: self.levels.resolution_due(plain["complexity"], plain["is_complaint"], at))


def _corrected(old: datetime, created: datetime, now: datetime, due_from: Any) -> datetime:
    """The deadline under the corrected labels (see the module's docstring)."""
    due: datetime = due_from(created)
    if due < now:
        due = min(old, due_from(now))
    return due


def correction_note(field: str, old: str | None, new: str) -> str:
    """'更正 类别：话费账单 → 手机网络', the audit note on the record."""
    return f"更正 {FIELD_NAMES[field]}：{_name(field, old)} → {_name(field, new)}"


def correction_json(c: LabelCorrection) -> dict[str, Any]:
    return {"id": c.id, "field": c.field, "old_value": c.old_value, "new_value": c.new_value, "agent": c.agent,
            "at": c.created_at.isoformat()}


def _name(field: str, value: str | None) -> str:
    if value is None:
        return "—"
    if field == "is_complaint":
        return COMPLAINT_NAMES.get(value, value)
    return load_labels().name(field, value)


def _label_value(field: str, value: str | bool) -> str:
    """The corrected value as stored ("true"/"false" for is_complaint), checked against the
    label set of common/labels.yaml."""
    if field not in CORRECTABLE_FIELDS:
        raise InvalidFeedback(f"cannot correct {field!r}: one of {', '.join(CORRECTABLE_FIELDS)}")
    if field == "is_complaint":
        text = str(value).lower() if isinstance(value, bool) else value
        if text not in COMPLAINT_NAMES:
            raise InvalidFeedback("is_complaint is true or false")
        return text
    allowed = load_labels().values(field)
    if isinstance(value, bool) or value not in allowed:
        raise InvalidFeedback(f"unknown {field} {value!r}: one of {', '.join(allowed)}")
    return value


def _current(labels: dict[str, Any], field: str) -> str | None:
    value = labels.get(field)
    if field == "is_complaint":
        return None if value is None else str(bool(value)).lower()
    return value.get("label") if isinstance(value, dict) else None


def _plain(labels: dict[str, Any]) -> dict[str, Any]:
    """{"category": "billing", …, "is_complaint": False}: what routing and deadlines read."""
    plain: dict[str, Any] = {k: (v.get("label") if isinstance(v, dict) else None)
                             for k, v in labels.items() if k in CORRECTABLE_FIELDS and k != "is_complaint"}
    plain.setdefault("priority", "normal")
    plain.setdefault("complexity", "simple")
    plain["is_complaint"] = bool(labels.get("is_complaint"))
    return plain


def _checked(e: EventIn) -> EventIn:
    if e.action not in SuggestionAction.__members__:
        raise InvalidFeedback(f"unknown action {e.action!r}")
    if e.source not in SuggestionSource.__members__:
        raise InvalidFeedback(f"unknown source {e.source!r}")
    if e.stage and e.stage not in Stage.__members__:
        raise InvalidFeedback(f"unknown stage {e.stage!r}")
    action, distance = e.action, e.edit_distance
    if action in SENT and e.suggestion_text is not None and e.sent_text is not None:
        # Ours, not the console's: the texts decide the distance, and so edited or unchanged.
        distance = levenshtein(e.suggestion_text.strip(), e.sent_text.strip())
        action = SuggestionAction.sent_edited if distance else SuggestionAction.sent_unchanged
    if action == SuggestionAction.sent_edited and distance is None:
        raise InvalidFeedback("a sent_edited event needs an edit_distance, or the suggestion and sent texts")
    if action == SuggestionAction.sent_unchanged:
        if distance:
            raise InvalidFeedback("a sent_unchanged suggestion has an edit distance of 0")
        distance = 0
    elif action not in SENT:
        distance = None  # only a sent suggestion has one
    return EventIn(e.impression_id, e.source, e.item_id, e.rank, action, e.stage, distance)


def _check_items_exist(session: Session, events: Sequence[EventIn]) -> None:
    """Every event names a template or KB entry that exists (an archived KB entry keeps its
    row; an event for a template deleted outright is refused: no ranker will see it again)."""
    wanted = {source: {e.item_id for e in events if e.source == source} for source in SuggestionSource}
    templates, entries = wanted[SuggestionSource.template], wanted[SuggestionSource.kb]
    missing: set[str] = set()
    if templates:
        missing |= templates - set(session.scalars(select(ReplyTemplate.id).where(ReplyTemplate.id.in_(templates))))
    if entries:
        missing |= entries - set(session.scalars(select(KBEntry.id).where(KBEntry.id.in_(entries))))
    if missing:
        raise InvalidFeedback(f"unknown suggestion items: {', '.join(sorted(missing))}")


def _export_row(e: SuggestionEvent) -> dict[str, Any]:
    return {"id": e.id, "created_at": e.created_at.isoformat(), "handoff_id": e.handoff_id,
            "conversation_id": e.conversation_id, "agent": e.agent, "impression_id": e.impression_id,
            "source": e.source, "item_id": e.item_id, "stage": e.stage, "rank": e.rank, "action": e.action,
            "edit_distance": e.edit_distance}


def _csv_line(values: Any) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return out.getvalue()
