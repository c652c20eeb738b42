"""Report metrics against the hand-checked fixture day (tests/support/reports_fixture.py)."""

from __future__ import annotations

import pytest

from assist_api.reports.period import Period
from assist_api.reports.service import build_report
from config.settings import Settings
from db.engine import session_factory
from tests.support import reports_fixture as fx


@pytest.fixture
def report_for(db_url, tmp_path):
    fx.build(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path / "var")

    def report(**kwargs):
        period = Period.of(fx.DAY, fx.DAY, "Asia/Shanghai")
        return build_report(session_factory(db_url), settings, period, now=fx.NOW, **kwargs)

    return report


def test_fixture_day_totals(report_for):
    t = report_for()["totals"]
    assert t["conversations"] == 10  # c0 and c11 are outside the day
    assert t["bot_resolved"] == 3 and t["deflection_rate"] == 0.3  # c1, c2, c9 (c3 got 没帮助)
    assert t["handoffs"] == 5 and t["handoff_rate"] == 0.5
    assert t["handoffs_by_reason"] == {"user_request": 1, "no_answer": 1, "unhelpful": 0, "emotion": 1,
                                       "urgent": 1, "complaint": 1}
    assert t["handoff_rate_by_reason"]["urgent"] == 0.1
    assert t["fcr"] == 3 and t["fcr_rate"] == 0.3  # c2, c4, c9
    assert t["repeat_contacts"] == 2 and t["repeat_contact_rate"] == 0.2  # c1 (→c9), c10 (→c11, next day)
    # first responses 180, 300, 300, 600 s
    assert t["first_response_p50_s"] == 300.0
    assert t["first_response_p90_s"] == 510.0
    # resolution 40, 60, 90 minutes
    assert t["resolution_p50_h"] == 1.0
    assert t["resolution_p90_h"] == 1.4
    assert t["reopen_rate"] == pytest.approx(0.3333)  # c5 of c4, c5, c10
    assert t["csat_responses"] == 2 and t["csat_avg"] == 3.5
    assert t["csat_satisfied_rate"] == 0.5
    assert t["csat_response_rate"] == pytest.approx(0.6667)  # asked: c4, c5, c10 (closed)
    assert t["csat_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert t["complaints"] == 1 and t["complaint_rate"] == 0.1
    assert t["bot_decisions"] == {"answer": 4, "clarify": 1, "no_answer": 1}
    assert t["feedback"] == {"helpful": 1, "unhelpful": 1}


def test_fixture_day_sla(report_for):
    t = report_for()["totals"]
    fr = t["sla_first_response"]
    assert (fr["normal"]["met"], fr["normal"]["breached"], fr["normal"]["compliance"]) == (2, 0, 1.0)
    assert (fr["high"]["met"], fr["high"]["breached"], fr["high"]["compliance"]) == (1, 1, 0.5)
    assert (fr["urgent"]["met"], fr["urgent"]["breached"], fr["urgent"]["compliance"]) == (0, 1, 0.0)
    assert t["sla_first_response_compliance"] == 0.6
    res = t["sla_resolution"]
    assert (res["normal"]["met"], res["normal"]["pending"]) == (2, 0)
    assert (res["high"]["met"], res["high"]["pending"], res["high"]["compliance"]) == (1, 1, 1.0)
    assert (res["urgent"]["pending"], res["urgent"]["compliance"]) == (0 + 1, None)


def test_breakdowns_by_channel_category_and_period(report_for):
    r = report_for()
    channels = {row["channel"]: row for row in r["by_channel"]}
    assert channels["web"]["conversations"] == 7 and channels["wechat"]["conversations"] == 3
    assert channels["wechat"]["complaints"] == 1
    categories = {row["category"]: row["conversations"] for row in r["by_category"]}
    assert categories == {"billing": 4, "plan": 1, "broadband": 1, "service": 1, "security": 1,
                          "other": 1, "network": 1}
    assert r["by_category"][0]["category"] == "billing"
    assert [s["period"] for s in r["series"]] == ["2026-10-12"]
    assert r["series"][0]["conversations"] == 10
    assert r["sla_heatmap"]["cells"] == [[0.0], [0.5], [1.0]]  # urgent, high, normal


def test_filters(report_for):
    wechat = report_for(channel="wechat")["totals"]
    assert wechat["conversations"] == 3 and wechat["handoffs"] == 2
    billing = report_for(category="billing")["totals"]
    assert billing["conversations"] == 4 and billing["bot_resolved"] == 2  # c1, c9


def test_entry_feedback_and_flags(db_url, tmp_path):
    fx.build(db_url)
    settings = Settings(database_url=db_url, var_dir=tmp_path / "var", reports_flag_min_unhelpful=1)
    period = Period.of(fx.DAY, fx.DAY, "Asia/Shanghai")
    kb = build_report(session_factory(db_url), settings, period, now=fx.NOW)["kb"]
    assert kb["entry_feedback"] == [{"entry_id": "billing-001", "question": "话费怎么查？", "category": "billing",
                                     "helpful": 1, "unhelpful": 1, "unhelpful_rate": 0.5}]
    assert [f["entry_id"] for f in kb["flagged_unhelpful"]] == ["billing-001"]
    assert [(e["entry_id"], e["review_due"]) for e in kb["review_overdue"]] == [("billing-002", "2026-09-30")]


def test_week_and_month_buckets(report_for):
    week = report_for(granularity="week")
    assert [s["period"] for s in week["series"]] == ["2026-W42"]
    month = report_for(granularity="month")
    assert month["series"][0]["period"] == "2026-10" and month["series"][0]["conversations"] == 10


def test_empty_range_has_no_rates(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    from db.migrate import upgrade

    upgrade(url)
    period = Period.of(fx.DAY, fx.DAY, "Asia/Shanghai")
    t = build_report(session_factory(url), Settings(database_url=url, var_dir=tmp_path), period, now=fx.NOW)["totals"]
    assert t["conversations"] == 0 and t["deflection_rate"] is None and t["first_response_p50_s"] is None
