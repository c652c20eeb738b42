"""Supervisor reports (JSON, the page's HTML, CSV), unanswered-question clusters and drafts
made from them, and the reports page itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from assist_api.deps import (
    ClassifierDep,
    CurrentEditor,
    CurrentSupervisor,
    CurrentSupervisorOrEditor,
    SessionsDep,
    SettingsDep,
    StoreDep,
)
from assist_api.reports.csv_export import to_csv
from assist_api.reports.html_report import fragment
from assist_api.reports.mining import DRAFT_ANSWER, DRAFT_TAG
from assist_api.reports.period import Period, local_today
from assist_api.reports.service import build_report
from assist_api.reports.unanswered import unanswered_clusters
from assist_api.routes.kb_editor import _next_id, _store_call
from assist_api.routes.ui import UI_DIR
from assist_api.schemas.kb import EntryRecordOut
from assist_api.schemas.reports import ClusterOut, ReportOut
from kb.schema import to_record

router = APIRouter(prefix="/api/reports", tags=["reports"])
page_router = APIRouter(include_in_schema=False)

GranularityName = Literal["day", "week", "month"]
Start = Annotated[date | None, Query(
    description="First day (local date, inclusive); default 29 days before `end`.", examples=["2026-10-01"])]
End = Annotated[date | None, Query(
    description="Last day (local date, inclusive); default today.", examples=["2026-10-31"])]
GranularityQuery = Annotated[GranularityName, Query(description="Bucket of the trend series.")]
ChannelQuery = Annotated[str | None, Query(
    max_length=16, description="Only this channel (web, wechat).", examples=["web"])]
CategoryQuery = Annotated[str | None, Query(max_length=32, description="Only this category.", examples=["billing"])]


def _period(tz: str, start: date | None, end: date | None) -> Period:
    """The report's local-date range; by default the 30 days up to today."""
    end = end or local_today(tz)
    start = start or end - timedelta(days=29)
    try:
        return Period.of(start, end, tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def report_of(sessions: SessionsDep, settings: SettingsDep, who: CurrentSupervisor, start: Start = None,
              end: End = None, granularity: GranularityQuery = "day", channel: ChannelQuery = None,
              category: CategoryQuery = None) -> dict[str, Any]:
    """The report the query asks for (supervisor role), shared by the JSON, HTML and CSV routes."""
    period = _period(settings.business_timezone, start, end)
    return build_report(sessions, settings, period, granularity, channel, category)


Report = Annotated[dict[str, Any], Depends(report_of)]


class DefaultRange(BaseModel):
    start: date = Field(description="First day of the default range (local date).")
    end: date = Field(description="Last day of the default range: today in `timezone`.")
    today: date
    timezone: str = Field(examples=["Asia/Shanghai"])


@router.get("/range", response_model=DefaultRange)
def default_range(settings: SettingsDep, who: CurrentSupervisor) -> DefaultRange:
    """The default range (the 30 days up to today) in the service's time zone, so the page's date
    pickers start from the server's today, not the browser's."""
    tz = settings.business_timezone
    period = Period.recent(tz)
    return DefaultRange(start=period.first, end=period.last, today=period.last, timezone=tz)


@router.get("/summary", response_model=ReportOut)
def summary(report: Report) -> dict[str, Any]:
    """Service metrics for a date range: totals, a trend series (day / week / month), per channel
    and per category, the SLA heat map, 有帮助/没帮助 per KB entry and the entries to review.
    Definitions are in assist_api/reports/metrics.py."""
    return report


@router.get("/view", response_class=HTMLResponse, responses={
    200: {"description": "An HTML fragment.", "content": {"text/html": {"example": "<div class=\"report\">…</div>"}}}})
def view(report: Report) -> HTMLResponse:
    """The same report as an HTML fragment with SVG charts (what the /reports page shows)."""
    return HTMLResponse(fragment(report), headers={"Cache-Control": "no-store"})


@router.get("/export.csv", response_class=Response, responses={
    200: {"description": "CSV, UTF-8 with BOM.",
          "content": {"text/csv": {"example": "维度,取值,会话数,机器人解决率\n合计,,1280,0.62\n"}}}})
def export_csv(report: Report) -> Response:
    """The report as CSV (UTF-8 with BOM, opens in Excel): totals, each period, channel and
    category, then per-entry feedback."""
    name = f"report_{report['range']['start']}_{report['range']['end']}.csv"
    return Response(to_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/unanswered", response_model=list[ClusterOut])
def unanswered(
    sessions: SessionsDep,
    settings: SettingsDep,
    classifier: ClassifierDep,
    who: CurrentSupervisorOrEditor,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    start: Annotated[date | None, Query(
        description="First day (local date, inclusive); with `end` or alone it limits the questions to that "
                    "range (`end` defaults to today).", examples=["2026-10-01"])] = None,
    end: Annotated[date | None, Query(
        description="Last day (local date, inclusive); given alone, `start` defaults to 29 days before it. "
                    "Neither: the most recent messages whatever their date.", examples=["2026-10-31"])] = None,
) -> list[dict[str, Any]]:
    """Questions the bot failed on (clarify, no answer, 没帮助, handoff) grouped by meaning with the
    embedding model, largest volume first; each with examples and a proposed draft entry (standard
    question + similar questions) to review and create with POST /api/reports/unanswered/drafts."""
    period = _period(settings.business_timezone, start, end) if start or end else None
    try:
        return unanswered_clusters(sessions, settings, classifier, limit, period)
    except FileNotFoundError as exc:
        raise HTTPException(503, f"embedding model unavailable: {exc}") from None


class DraftFromCluster(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "question": "换了新手机，原来手机里的eSIM怎么转过去？",
        "similar_questions": ["eSIM能不能从旧手机迁移到新手机上", "换新手機後eSIM怎麼轉移？"],
        "category": "number",
        "answer": "可在星联营业厅App「我的-eSIM管理」中申请转移，新手机扫码即可。"}]})

    question: str = Field(min_length=1, max_length=300)
    similar_questions: list[str] = Field(default_factory=list, max_length=200)
    category: str = "other"
    answer: str | None = Field(default=None, max_length=10000,
                               description="Left out: a placeholder the editor replaces before review.")


@router.post("/unanswered/drafts", status_code=201, response_model=EntryRecordOut)
def create_draft(body: DraftFromCluster, store: StoreDep, settings: SettingsDep,
                 editor: CurrentEditor) -> dict[str, Any]:
    """Create a draft KB entry from a proposed cluster (editor role): a draft in the KB store's
    workflow, not searchable until reviewed and published; audited with the editor's name."""
    if body.category not in settings.kb_categories:
        raise HTTPException(422, f"unknown category {body.category!r}")
    similar = [q for q in dict.fromkeys(s.strip() for s in body.similar_questions)
               if q and q != body.question.strip()]
    content = {"question": body.question, "similar_questions": similar, "answer": body.answer or DRAFT_ANSWER,
               "category": body.category, "tags": [DRAFT_TAG]}
    entry_id = _next_id(store, body.category)
    return to_record(_store_call(store.create, entry_id, content, actor=editor.name))


@page_router.get("/reports")
def reports_page() -> FileResponse:
    return FileResponse(UI_DIR / "reports.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})
