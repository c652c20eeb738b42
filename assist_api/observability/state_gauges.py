"""Gauges that describe stored state, refreshed on each scrape (two small aggregate queries)."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from common.observability import metrics
from db.base import utcnow
from gateway.handoffs.models import Handoff
from kb.search.live import LiveEngine

OPEN = ("queued", "assigned", "in_progress", "resolved")


def refresh(sessions: sessionmaker[Session], search: LiveEngine | None = None) -> None:
    now = utcnow()
    with sessions() as session:
        by_status = dict(session.execute(
            select(Handoff.status, func.count()).where(Handoff.status.in_(OPEN)).group_by(Handoff.status)).all())
        late_reply = and_(Handoff.first_response_at.is_(None), Handoff.first_response_due < now)
        late_resolution = and_(Handoff.status.in_(("queued", "assigned", "in_progress")), Handoff.resolution_due < now)
        rows = session.execute(
            select(Handoff.priority,
                   func.sum(case((late_reply, 1), else_=0)),
                   func.sum(case((late_resolution, 1), else_=0)))
            .where(Handoff.status.in_(OPEN), or_(late_reply, late_resolution))
            .group_by(Handoff.priority)).all()
    for status in OPEN:
        metrics.OPEN_HANDOFFS.labels(status).set(by_status.get(status, 0))
    seen = {p: (int(a or 0), int(b or 0)) for p, a, b in rows}
    for priority in ("urgent", "high", "normal"):
        reply, resolution = seen.get(priority, (0, 0))
        metrics.SLA_BREACHED.labels(priority, "first_response").set(reply)
        metrics.SLA_BREACHED.labels(priority, "resolution").set(resolution)
    if search is not None:
        revision = search.get().revision
        if revision is not None:
            metrics.KB_INDEX_VERSION.set(revision)

