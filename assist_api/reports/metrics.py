"""Service metrics computed from conversation facts (see queries.py), grouped by period,
channel and category.

Definitions (every rate is over the conversations started in the range, unless named):
- deflection (bot-resolved): no handoff, the bot answered at least once, no 没帮助 mark;
- handoff rate: conversations handed off, overall and per reason;
- first-contact resolution (FCR): resolved (bot-resolved, or the handoff reached resolved /
  closed) with no reopen and no new conversation by the same customer within 72 h;
- first response: agent's first reply − handoff time, over handoffs answered (p50 / p90);
- SLA compliance per priority: met ÷ (met + breached); a deadline not reached yet with no
  response (or no resolution) is pending and counts in neither;
- resolution time: handoff → first resolved/closed (p50 / p90);
- reopen rate: handoffs reopened ÷ handoffs ever resolved;
- repeat contact: the same customer (same channel) starts another conversation within 72 h;
- CSAT: mean of 1–5 ratings, share of 4–5, response rate = ratings ÷ handed-off conversations
  closed (only those are asked);
- complaint rate: conversations whose handoff is a complaint (by reason or classification).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from assist_api.reports.period import Granularity, Period
from assist_api.reports.queries import REPEAT_WINDOW, ConversationFact

REASONS = ("user_request", "no_answer", "unhelpful", "emotion", "urgent", "complaint")
PRIORITIES = ("urgent", "high", "normal")
UNCATEGORISED = "other"


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def category_of(fact: ConversationFact, categories: dict[str, str]) -> str:
    """The handoff's classified category, else the category of the entry the bot answered."""
    if fact.handoff_category:
        return fact.handoff_category
    if fact.answered_entry:
        return categories.get(fact.answered_entry, UNCATEGORISED)
    return UNCATEGORISED


def bot_resolved(f: ConversationFact) -> bool:
    return f.handoff_id is None and f.answers > 0 and f.unhelpful == 0


def repeat_contact(f: ConversationFact) -> bool:
    return f.next_contact_at is not None and f.next_contact_at - f.created_at <= REPEAT_WINDOW


def handoff_resolved(f: ConversationFact) -> bool:
    return f.handoff_id is not None and f.handoff_status in ("resolved", "closed")


def first_contact_resolved(f: ConversationFact) -> bool:
    resolved = bot_resolved(f) or (handoff_resolved(f) and f.reopens == 0)
    return resolved and not repeat_contact(f)


def sla_state(done_at: datetime | None, due: datetime | None, now: datetime) -> str | None:
    """'met', 'breached' or 'pending' (None without a deadline)."""
    if due is None:
        return None
    if done_at is not None:
        return "met" if done_at <= due else "breached"
    return "breached" if now > due else "pending"


class Tally:
    """Everything counted over one group of conversations."""

    def __init__(self) -> None:
        self.conversations = 0
        self.bot_resolved = 0
        self.handed_off = 0
        self.reasons: dict[str, int] = defaultdict(int)
        self.fcr = 0
        self.repeat = 0
        self.complaints = 0
        self.first_response_s: list[float] = []
        self.resolution_s: list[float] = []
        self.ever_resolved = 0
        self.reopened = 0
        self.sla: dict[str, dict[str, dict[str, int]]] = {
            stage: {p: {"met": 0, "breached": 0, "pending": 0} for p in PRIORITIES}
            for stage in ("first_response", "resolution")}
        self.csat: list[int] = []
        self.csat_asked = 0
        self.answers = self.clarifies = self.misses = 0
        self.helpful = self.unhelpful = 0

    def add(self, f: ConversationFact, now: datetime) -> None:
        self.conversations += 1
        self.answers += f.answers
        self.clarifies += f.clarifies
        self.misses += f.misses
        self.helpful += f.helpful
        self.unhelpful += f.unhelpful
        self.bot_resolved += bot_resolved(f)
        self.fcr += first_contact_resolved(f)
        self.repeat += repeat_contact(f)
        if f.csat is not None:
            self.csat.append(f.csat)
        if f.handoff_id is None:
            return
        self.handed_off += 1
        self.reasons[f.reason or "unknown"] += 1
        self.complaints += f.is_complaint
        if f.handoff_status == "closed":
            self.csat_asked += 1
        if f.first_response_at is not None and f.handoff_at is not None:
            self.first_response_s.append((f.first_response_at - f.handoff_at).total_seconds())
        if f.resolved_at is not None and f.handoff_at is not None:
            self.ever_resolved += 1
            self.resolution_s.append((f.resolved_at - f.handoff_at).total_seconds())
            self.reopened += f.reopens > 0
        priority = f.priority if f.priority in PRIORITIES else "normal"
        for stage, done, due in (("first_response", f.first_response_at, f.first_response_due),
                                 ("resolution", f.resolved_at, f.resolution_due)):
            state = sla_state(done, due, now)
            if state:
                self.sla[stage][priority][state] += 1

    def sla_compliance(self, stage: str, priority: str | None = None) -> float | None:
        cells = [self.sla[stage][priority]] if priority else list(self.sla[stage].values())
        met = sum(c["met"] for c in cells)
        return _rate(met, met + sum(c["breached"] for c in cells))

    def summary(self) -> dict[str, Any]:
        n = self.conversations
        return {
            "conversations": n,
            "bot_resolved": self.bot_resolved,
            "deflection_rate": _rate(self.bot_resolved, n),
            "handoffs": self.handed_off,
            "handoff_rate": _rate(self.handed_off, n),
            "handoff_rate_by_reason": {r: _rate(self.reasons.get(r, 0), n) for r in REASONS},
            "handoffs_by_reason": {r: self.reasons.get(r, 0) for r in REASONS},
            "fcr": self.fcr,
            "fcr_rate": _rate(self.fcr, n),
            "first_response_p50_s": _round(percentile(self.first_response_s, 0.5)),
            "first_response_p90_s": _round(percentile(self.first_response_s, 0.9)),
            "sla_first_response": {p: {**self.sla["first_response"][p],
                                       "compliance": self.sla_compliance("first_response", p)} for p in PRIORITIES},
            "sla_resolution": {p: {**self.sla["resolution"][p],
                                   "compliance": self.sla_compliance("resolution", p)} for p in PRIORITIES},
            "sla_first_response_compliance": self.sla_compliance("first_response"),
            "sla_resolution_compliance": self.sla_compliance("resolution"),
            "resolution_p50_h": _round(_hours(percentile(self.resolution_s, 0.5)), 2),
            "resolution_p90_h": _round(_hours(percentile(self.resolution_s, 0.9)), 2),
            "reopen_rate": _rate(self.reopened, self.ever_resolved),
            "repeat_contacts": self.repeat,
            "repeat_contact_rate": _rate(self.repeat, n),
            "csat_responses": len(self.csat),
            "csat_avg": _round(sum(self.csat) / len(self.csat), 2) if self.csat else None,
            "csat_satisfied_rate": _rate(sum(1 for s in self.csat if s >= 4), len(self.csat)),
            "csat_response_rate": _rate(len(self.csat), self.csat_asked),
            "csat_distribution": {str(s): self.csat.count(s) for s in range(1, 6)},
            "complaints": self.complaints,
            "complaint_rate": _rate(self.complaints, n),
            "bot_decisions": {"answer": self.answers, "clarify": self.clarifies, "no_answer": self.misses},
            "feedback": {"helpful": self.helpful, "unhelpful": self.unhelpful},
        }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def compute(facts: Iterable[ConversationFact], period: Period, granularity: Granularity,
            categories: dict[str, str], now: datetime, channel: str | None = None,
            category: str | None = None) -> dict[str, Any]:
    """The whole report: totals, a series per period bucket, per channel and per category,
    and the SLA heat map (first-response compliance per priority and bucket)."""
    total = Tally()
    by_bucket: dict[str, Tally] = {b: Tally() for b in period.buckets(granularity)}
    by_channel: dict[str, Tally] = defaultdict(Tally)
    by_category: dict[str, Tally] = defaultdict(Tally)
    for f in facts:
        cat = category_of(f, categories)
        if (channel and f.channel != channel) or (category and cat != category):
            continue
        total.add(f, now)
        by_bucket.setdefault(period.bucket(f.created_at, granularity), Tally()).add(f, now)
        by_channel[f.channel].add(f, now)
        by_category[cat].add(f, now)
    return {
        "range": {"start": period.first.isoformat(), "end": period.last.isoformat(),
                  "granularity": granularity, "timezone": str(period.tz),
                  "channel": channel, "category": category},
        "totals": total.summary(),
        "series": [{"period": b, **t.summary()} for b, t in by_bucket.items()],
        "by_channel": [{"channel": c, **t.summary()} for c, t in sorted(by_channel.items())],
        "by_category": [{"category": c, **t.summary()}
                        for c, t in sorted(by_category.items(), key=lambda kv: -kv[1].conversations)],
        "sla_heatmap": {
            "stage": "first_response",
            "priorities": list(PRIORITIES),
            "periods": list(by_bucket),
            "cells": [[by_bucket[b].sla_compliance("first_response", p) for b in by_bucket] for p in PRIORITIES],
        },
    }
