"""Build a report for a date range: metrics, per-entry feedback and the entries to look at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assist_api.reports import demo, queries
from assist_api.reports.metrics import compute
from assist_api.reports.period import Granularity, Period
from config.settings import Settings
from db.base import utcnow


def entry_flags(session: Session, settings: Settings, period: Period, now: datetime) -> dict[str, Any]:
    """有帮助/没帮助 per entry, and the entries to review: many 没帮助 or past review_due."""
    rows = queries.entry_feedback(session, period.start, period.end)
    feedback = []
    flagged = []
    for r in rows:
        marks = r.helpful + r.unhelpful
        item = {"entry_id": r.entry_id, "question": r.question, "category": r.category,
                "helpful": r.helpful, "unhelpful": r.unhelpful,
                "unhelpful_rate": round(r.unhelpful / marks, 4) if marks else None}
        feedback.append(item)
        if r.unhelpful >= settings.reports_flag_min_unhelpful and \
                r.unhelpful / marks >= settings.reports_flag_unhelpful_rate:
            flagged.append({**item, "why": "unhelpful"})
    today = now.astimezone(period.tz).date()
    overdue = [{"entry_id": i, "question": q, "review_due": d.isoformat(), "why": "review_due"}
               for i, q, d in queries.overdue_entries(session, today)]
    return {"entry_feedback": feedback, "flagged_unhelpful": flagged, "review_overdue": overdue}


def build_report(sessions: sessionmaker[Session], settings: Settings, period: Period,
                 granularity: Granularity = "day", channel: str | None = None,
                 category: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    with sessions() as session:
        facts = queries.conversation_facts(session, period.start, period.end)
        categories = queries.entry_categories(session)
        report = compute(facts, period, granularity, categories, now, channel, category)
        report["kb"] = entry_flags(session, settings, period, now)
        report["demo_conversations"] = demo.count_in(session, period.start, period.end)
    report["generated_at"] = now.isoformat()
    return report
