"""SLA deadlines and business hours from the settings (the service manuals' defaults)."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.settings import Settings


def _hhmm(value: str) -> time:
    if value == "24:00":  # "open until midnight"
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class ServiceLevels:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tz = ZoneInfo(settings.business_timezone)
        self.open = _hhmm(settings.business_open)
        self.close = _hhmm(settings.business_close)

    def in_business_hours(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.settings.business_days and self.open <= local.time() < self.close

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the start of the next business period."""
        if self.in_business_hours(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date()
        if local.time() >= self.close:
            day += timedelta(days=1)
        for _ in range(8):
            if day.weekday() in self.settings.business_days:
                candidate = datetime.combine(day, self.open, tzinfo=self.tz)
                if candidate > local or self.in_business_hours(candidate):
                    return candidate.astimezone(at.tzinfo)
            day += timedelta(days=1)
        return at  # no business days configured: treat as always open

    def first_response_due(self, priority: str, at: datetime) -> datetime:
        minutes = self.settings.sla_first_response_min.get(priority, self.settings.sla_first_response_min["normal"])
        return self.next_opening(at) + timedelta(minutes=minutes)

    def expected_wait_min(self, position: int, due: datetime, now: datetime) -> int:
        """Minutes a customer at `position` in the queue can expect to wait: a fixed time per
        customer in line; in service hours never past the first-response deadline, which is
        the promise."""
        estimate = position * self.settings.waiting_minutes_per_customer
        left = (due - now).total_seconds() / 60
        if self.in_business_hours(now) and left > 0:
            estimate = min(estimate, left)
        return max(1, math.ceil(estimate))

    def resolution_due(self, complexity: str, is_complaint: bool, at: datetime) -> datetime:
        key = "complaint" if is_complaint else complexity
        hours = self.settings.sla_resolution_hours.get(key, self.settings.sla_resolution_hours["simple"])
        return at + timedelta(hours=hours)

    def at_risk_lead(self, window: timedelta, first_response: bool) -> timedelta:
        """How long before a deadline with this window the case counts as at risk."""
        lead = window * self.settings.sla_at_risk_share
        if first_response:
            lead = max(lead, timedelta(seconds=self.settings.sla_first_response_at_risk_s))
        return min(lead, window)
