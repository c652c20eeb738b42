"""Report periods: a date range in the business timezone and its day / week / month buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from db.base import utcnow

Granularity = Literal["day", "week", "month"]
GRANULARITIES = ("day", "week", "month")


def local_today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in the service's time zone, by the service's clock (`db.base.utcnow`).

    Reports, their default ranges and the tests all take "today" from here: the machine's
    local date or UTC's can be a day off Asia/Shanghai's."""
    return (now or utcnow()).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Period:
    """Local dates [first, last] inclusive, and the UTC instants bounding them."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.tz)

    @classmethod
    def of(cls, first: date, last: date, timezone: str) -> Period:
        if last < first:
            raise ValueError("the end date is before the start date")
        if (last - first).days > 366 * 3:
            raise ValueError("a report covers at most three years")
        return cls(first, last, ZoneInfo(timezone))

    @classmethod
    def recent(cls, timezone: str, days: int = 30, now: datetime | None = None) -> Period:
        """The `days` local dates up to today in `timezone` (the reports' default range)."""
        last = local_today(timezone, now)
        return cls(last - timedelta(days=days - 1), last, ZoneInfo(timezone))

    @classmethod
    def month(cls, month: str, timezone: str) -> Period:
        """'2026-10' → the whole of October 2026."""
        try:
            year, mon = (int(p) for p in month.split("-"))
            first = date(year, mon, 1)
        except ValueError:
            raise ValueError(f"month must look like 2026-10, got {month!r}") from None
        nxt = date(year + (mon == 12), mon % 12 + 1, 1)
        return cls(first, nxt - timedelta(days=1), ZoneInfo(timezone))

    def bucket(self, at: datetime, granularity: Granularity) -> str:
        return bucket_of(at.astimezone(self.tz).date(), granularity)

    def buckets(self, granularity: Granularity) -> list[str]:
        """Every bucket of the range in order, so empty days still show on a chart."""
        seen: list[str] = []
        day = self.first
        while day <= self.last:
            key = bucket_of(day, granularity)
            if not seen or seen[-1] != key:
                seen.append(key)
            day += timedelta(days=1)
        return seen


def bucket_of(day: date, granularity: Granularity) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"
