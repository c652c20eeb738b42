"""Business hours and SLA deadlines, with explicit timezone-aware datetimes.

2026-11-23 is a Monday; local times are Asia/Shanghai (UTC+8, no daylight saving).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from gateway.handoffs.service_levels import ServiceLevels

SH = ZoneInfo("Asia/Shanghai")


def sh(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A Shanghai local time in the week of Monday 2026-11-23 (day 23 = Monday … 29 = Sunday)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SH)


@pytest.fixture
def levels(tmp_path) -> ServiceLevels:
    return ServiceLevels(Settings(var_dir=tmp_path / "var"))


def weekdays_only(tmp_path, **overrides) -> ServiceLevels:
    return ServiceLevels(Settings(var_dir=tmp_path / "var", business_days=(0, 1, 2, 3, 4), **overrides))


# ---- business hours ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (sh(24, 9, 0), True),  # opening minute
        (sh(24, 8, 59, 59), False),
        (sh(24, 14, 30), True),
        (sh(24, 20, 59, 59), True),
        (sh(24, 21, 0), False),  # closing time is already closed
        (sh(24, 23, 30), False),
        (sh(29, 12, 0), True),  # every day is a business day by default
    ],
)
def test_default_business_hours_are_nine_to_nine_shanghai_time(levels, at, open_):
    assert levels.in_business_hours(at) is open_


def test_business_hours_are_judged_in_shanghai_time_whatever_the_input_zone(levels):
    # 00:30 UTC is 08:30 in Shanghai (closed); 01:00 UTC is 09:00 (open); 13:00 UTC is 21:00.
    assert levels.in_business_hours(datetime(2026, 11, 24, 0, 30, tzinfo=UTC)) is False
    assert levels.in_business_hours(datetime(2026, 11, 24, 1, 0, tzinfo=UTC)) is True
    assert levels.in_business_hours(datetime(2026, 11, 24, 13, 0, tzinfo=UTC)) is False
    new_york = ZoneInfo("America/New_York")  # 2026-11-24 08:00 in New York = 21:00 in Shanghai
    assert levels.in_business_hours(datetime(2026, 11, 24, 8, 0, tzinfo=new_york)) is False
    assert levels.in_business_hours(datetime(2026, 11, 24, 7, 59, tzinfo=new_york)) is True


def test_a_24_00_close_means_open_until_midnight(tmp_path):
    levels = ServiceLevels(Settings(var_dir=tmp_path / "var", business_close="24:00"))
    assert levels.in_business_hours(sh(24, 23, 59, 59)) is True
    assert levels.in_business_hours(sh(24, 21, 0)) is True
    assert levels.in_business_hours(sh(25, 0, 0)) is False  # opens again at 09:00
    assert levels.next_opening(sh(25, 3, 0)) == sh(25, 9, 0)


def test_00_00_to_24_00_is_always_open(tmp_path):
    levels = ServiceLevels(Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00"))
    for at in (sh(24, 0, 0), sh(24, 3, 17), sh(24, 23, 59, 59), sh(29, 12, 0)):
        assert levels.in_business_hours(at) is True
        assert levels.next_opening(at) == at


def test_non_business_days_are_closed_all_day(tmp_path):
    levels = weekdays_only(tmp_path)
    assert levels.in_business_hours(sh(27, 12, 0)) is True  # Friday
    assert levels.in_business_hours(sh(28, 12, 0)) is False  # Saturday
    assert levels.in_business_hours(sh(29, 12, 0)) is False  # Sunday


# ---- next opening ----------------------------------------------------------------------------

def test_next_opening_is_now_while_open(levels):
    at = sh(24, 15, 42, 7)
    assert levels.next_opening(at) == at


def test_next_opening_after_closing_time_is_tomorrow_morning(levels):
    assert levels.next_opening(sh(24, 21, 0)) == sh(25, 9, 0)
    assert levels.next_opening(sh(24, 23, 45)) == sh(25, 9, 0)


def test_next_opening_before_opening_is_the_same_morning(levels):
    assert levels.next_opening(sh(24, 0, 5)) == sh(24, 9, 0)
    assert levels.next_opening(sh(24, 8, 59, 59)) == sh(24, 9, 0)


def test_next_opening_skips_non_business_days(tmp_path):
    levels = weekdays_only(tmp_path)
    monday_morning = sh(30, 9, 0)
    assert levels.next_opening(sh(27, 21, 30)) == monday_morning  # Friday evening
    assert levels.next_opening(sh(28, 8, 0)) == monday_morning  # Saturday before "opening"
    assert levels.next_opening(sh(28, 14, 0)) == monday_morning  # Saturday afternoon
    assert levels.next_opening(sh(29, 23, 0)) == monday_morning  # Sunday night
    assert levels.next_opening(sh(30, 7, 0)) == monday_morning  # Monday before opening


def test_next_opening_with_a_single_business_day_a_week(tmp_path):
    levels = ServiceLevels(Settings(var_dir=tmp_path / "var", business_days=(2,)))  # Wednesdays
    assert levels.next_opening(sh(25, 21, 0)) == datetime(2026, 12, 2, 9, 0, tzinfo=SH)
    assert levels.next_opening(sh(26, 10, 0)) == datetime(2026, 12, 2, 9, 0, tzinfo=SH)


def test_next_opening_of_a_utc_time_is_the_same_instant_as_shanghai_opening(levels):
    at = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 21:30 Shanghai
    opening = levels.next_opening(at)
    assert opening == sh(25, 9, 0)
    assert opening == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


# ---- first response --------------------------------------------------------------------------

@pytest.mark.parametrize(("priority", "minutes"), [("urgent", 3), ("high", 5), ("normal", 10)])
def test_first_response_inside_hours_is_minutes_from_now(levels, priority, minutes):
    at = sh(24, 14, 0, 30)
    assert levels.first_response_due(priority, at) == at + timedelta(minutes=minutes)


@pytest.mark.parametrize(("priority", "due"), [("urgent", sh(25, 9, 3)), ("high", sh(25, 9, 5)),
                                              ("normal", sh(25, 9, 10))])
def test_first_response_outside_hours_counts_from_the_next_opening(levels, priority, due):
    assert levels.first_response_due(priority, sh(24, 22, 15)) == due
    assert levels.first_response_due(priority, sh(25, 6, 0)) == due


def test_first_response_on_a_weekend_counts_from_monday_opening(tmp_path):
    levels = weekdays_only(tmp_path)
    assert levels.first_response_due("urgent", sh(28, 11, 0)) == sh(30, 9, 3)
    assert levels.first_response_due("normal", sh(27, 22, 0)) == sh(30, 9, 10)


def test_unknown_priority_gets_the_normal_first_response_time(levels):
    at = sh(24, 10, 0)
    assert levels.first_response_due("whatever", at) == at + timedelta(minutes=10)


def test_first_response_times_are_configurable(tmp_path):
    levels = ServiceLevels(Settings(var_dir=tmp_path / "var",
                                    sla_first_response_min={"urgent": 1, "high": 2, "normal": 30}))
    at = sh(24, 10, 0)
    assert levels.first_response_due("urgent", at) == sh(24, 10, 1)
    assert levels.first_response_due("normal", at) == sh(24, 10, 30)


# ---- resolution ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("complexity", "is_complaint", "hours"),
    [
        ("simple", False, 24),
        ("complex", False, 72),
        ("special", False, 72),
        ("simple", True, 72),  # a complaint is closed within 72 h even when it looks simple
        ("complex", True, 72),
    ],
)
def test_resolution_deadline_by_complexity_and_complaint(levels, complexity, is_complaint, hours):
    at = sh(24, 22, 15)  # calendar hours, from the moment of escalation, in or out of hours
    assert levels.resolution_due(complexity, is_complaint, at) == at + timedelta(hours=hours)


def test_simple_resolution_is_the_next_day_same_time(levels):
    assert levels.resolution_due("simple", False, sh(24, 10, 0)) == sh(25, 10, 0)
    assert levels.resolution_due("complex", False, sh(24, 10, 0)) == sh(27, 10, 0)
