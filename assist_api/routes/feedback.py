"""What agents do with agent assist: suggestion events from the console, their export for
supervisors, and corrections of a case's classification (assist_api/assist/feedback_service.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from assist_api.assist.feedback_service import EventIn
from assist_api.auth.keys import Role
from assist_api.deps import (
    CurrentAgent,
    CurrentAgentOrSupervisor,
    CurrentSupervisor,
    FeedbackDep,
    HandoffsDep,
    SettingsDep,
)
from assist_api.reports.period import Period, local_today
from assist_api.schemas.feedback import CorrectionIn, SuggestionEventsIn, SuggestionEventsStoredOut
from assist_api.schemas.handoffs import HandoffRecordOut

router = APIRouter(prefix="/api", tags=["agent assist feedback"])

MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@router.post("/assist/events", response_model=SuggestionEventsStoredOut)
def record_events(body: SuggestionEventsIn, feedback: FeedbackDep, agent: CurrentAgent) -> dict[str, int]:
    """A batch of suggestion events for one case the agent owns (or nobody owns yet): shown,
    inserted, sent_unchanged, sent_edited (with the edit distance, computed here when the
    suggestion and sent texts come along) or ignored. The console queues them and sends them in
    the background."""
    events = [EventIn(**e.model_dump()) for e in body.events]
    return {"stored": feedback.record_events(body.handoff_id, agent.name, events)}


@router.get("/assist/events/export", response_class=StreamingResponse, responses={
    200: {"description": "CSV (UTF-8 with BOM) or JSON lines, one event a row, oldest first.",
          "content": {"text/csv": {"example": "id,created_at,handoff_id,conversation_id,agent,impression_id,"
                                              "source,item_id,stage,rank,action,edit_distance\n"},
                      "application/x-ndjson": {}}}})
def export_events(
    feedback: FeedbackDep,
    settings: SettingsDep,
    who: CurrentSupervisor,
    start: Annotated[date | None, Query(description="First day (local date, inclusive).",
                                        examples=["2026-12-01"])] = None,
    end: Annotated[date | None, Query(description="Last day (local date, inclusive); default today.",
                                      examples=["2026-12-07"])] = None,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv or jsonl.")] = "csv",
) -> StreamingResponse:
    """Every suggestion event in a date range (neither date: all of them), streamed, for the
    ranker's retraining or a supervisor's analysis."""
    lower = upper = None
    if start or end:
        last = end or local_today(settings.business_timezone)
        try:
            period = Period.of(start or last - timedelta(days=29), last, settings.business_timezone)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        lower, upper = period.start, period.end
    name = f"suggestion_events_{start or 'all'}_{end or 'now'}.{format}"
    return StreamingResponse(feedback.export(lower, upper, format), media_type=MEDIA[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})


@router.post("/handoffs/{handoff_id}/corrections", response_model=HandoffRecordOut)
def correct_label(handoff_id: int, body: CorrectionIn, feedback: FeedbackDep, handoffs: HandoffsDep,
                  who: CurrentAgentOrSupervisor) -> dict[str, Any]:
    """Correct one label of the case (category, priority, complexity, emotion, is_complaint)
    as the owning agent or a supervisor. The record's classification and priority change, its
    deadlines follow the corrected labels (a deadline already met or missed stays), and the
    correction is audited on the record. Returns the record with its events and corrections."""
    feedback.correct(handoff_id, body.field, body.value, who.name, any_case=who.role != Role.agent)
    record = handoffs.record(handoff_id)
    record["corrections"] = feedback.corrections(handoff_id)
    return record
