"""Supervisor reports and unanswered-question clusters. Definitions of every figure are in
assist_api/reports/metrics.py; rates are fractions (0–1), null where nothing was counted."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SlaCell(BaseModel):
    met: int
    breached: int
    pending: int = Field(description="Deadline not reached yet with no response / resolution.")
    compliance: float | None = Field(description="met ÷ (met + breached).")


class ByPriority(BaseModel):
    urgent: SlaCell
    high: SlaCell
    normal: SlaCell


class Reasons(BaseModel):
    user_request: float | None
    no_answer: float | None
    unhelpful: float | None
    emotion: float | None
    urgent: float | None
    complaint: float | None


class ReasonCounts(BaseModel):
    user_request: int
    no_answer: int
    unhelpful: int
    emotion: int
    urgent: int
    complaint: int


class BotDecisions(BaseModel):
    answer: int
    clarify: int
    no_answer: int


class FeedbackCounts(BaseModel):
    helpful: int
    unhelpful: int


class Tally(BaseModel):
    """The service figures of one group of conversations."""

    conversations: int
    bot_resolved: int
    deflection_rate: float | None
    handoffs: int
    handoff_rate: float | None
    handoff_rate_by_reason: Reasons
    handoffs_by_reason: ReasonCounts
    fcr: int
    fcr_rate: float | None
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    sla_first_response: ByPriority
    sla_resolution: ByPriority
    sla_first_response_compliance: float | None
    sla_resolution_compliance: float | None
    resolution_p50_h: float | None
    resolution_p90_h: float | None
    reopen_rate: float | None
    repeat_contacts: int
    repeat_contact_rate: float | None
    csat_responses: int
    csat_avg: float | None
    csat_satisfied_rate: float | None
    csat_response_rate: float | None
    csat_distribution: dict[str, int] = Field(description="Ratings by score, \"1\" to \"5\".")
    complaints: int
    complaint_rate: float | None
    bot_decisions: BotDecisions
    feedback: FeedbackCounts


class PeriodTally(Tally):
    period: str = Field(description="The bucket's first day (local date).", examples=["2026-10-01"])


class ChannelTally(Tally):
    channel: str


class CategoryTally(Tally):
    category: str


class ReportRange(BaseModel):
    start: str
    end: str
    granularity: str
    timezone: str
    channel: str | None
    category: str | None


class SlaHeatmap(BaseModel):
    stage: str = Field(examples=["first_response"])
    priorities: list[str]
    periods: list[str]
    cells: list[list[float | None]] = Field(description="Compliance per priority (rows) and period (columns).")


class EntryFeedback(BaseModel):
    entry_id: str
    question: str | None
    category: str | None
    helpful: int
    unhelpful: int
    unhelpful_rate: float | None


class FlaggedEntry(EntryFeedback):
    why: str = Field(examples=["unhelpful"])


class OverdueEntry(BaseModel):
    entry_id: str
    question: str
    review_due: str
    why: str = Field(examples=["review_due"])


class KbFlags(BaseModel):
    entry_feedback: list[EntryFeedback]
    flagged_unhelpful: list[FlaggedEntry]
    review_overdue: list[OverdueEntry]


class ReportOut(BaseModel):
    """Service metrics for a date range."""

    range: ReportRange
    totals: Tally
    series: list[PeriodTally]
    by_channel: list[ChannelTally]
    by_category: list[CategoryTally]
    sla_heatmap: SlaHeatmap
    kb: KbFlags
    demo_conversations: int = Field(description="Conversations in the range made by the demo generator.")
    generated_at: str


class ClusterExample(BaseModel):
    text: str
    count: int
    conversation_id: str | None
    last_at: str | None


class DraftProposal(BaseModel):
    question: str
    similar_questions: list[str]
    answer: str
    category: str
    tags: list[str]


class ClusterOut(BaseModel):
    """Failed questions that mean the same thing, with a draft entry to review."""

    rank: int
    volume: int = Field(description="Questions asked, repeats included.")
    distinct_questions: int
    kinds: dict[str, int]
    cohesion: float
    examples: list[ClusterExample]
    draft: DraftProposal
