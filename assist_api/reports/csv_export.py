"""The report as CSV: one row per period bucket, channel or category with every metric, then
the per-entry feedback; opens in Excel (UTF-8 with BOM)."""

from __future__ import annotations

import csv
import io
from typing import Any

from assist_api.reports.metrics import PRIORITIES, REASONS

COLUMNS = (
    ("conversations", "会话量"), ("bot_resolved", "机器人解决"), ("deflection_rate", "机器人解决率"),
    ("handoffs", "转人工"), ("handoff_rate", "转人工率"),
    *((f"handoff_rate.{r}", f"转人工率_{r}") for r in REASONS),
    ("fcr_rate", "首次接触解决率"),
    ("first_response_p50_s", "首次响应P50秒"), ("first_response_p90_s", "首次响应P90秒"),
    ("sla_first_response_compliance", "首响SLA达标率"),
    *((f"sla_first_response.{p}", f"首响SLA达标率_{p}") for p in PRIORITIES),
    ("sla_resolution_compliance", "解决SLA达标率"),
    *((f"sla_resolution.{p}", f"解决SLA达标率_{p}") for p in PRIORITIES),
    ("resolution_p50_h", "解决时长P50小时"), ("resolution_p90_h", "解决时长P90小时"), ("reopen_rate", "重开率"),
    ("repeat_contact_rate", "重复来电率"), ("csat_avg", "CSAT平均分"), ("csat_responses", "CSAT回复数"),
    ("csat_response_rate", "CSAT回复率"), ("complaint_rate", "投诉率"),
)


def _value(row: dict[str, Any], key: str) -> Any:
    if key.startswith("handoff_rate."):
        return row["handoff_rate_by_reason"][key.split(".", 1)[1]]
    if key.startswith(("sla_first_response.", "sla_resolution.")):
        stage, priority = key.split(".", 1)
        return row[stage][priority]["compliance"]
    return row[key]


def to_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(["维度", "取值", *(label for _, label in COLUMNS)])
    rows = [("合计", "全部", report["totals"])]
    rows += [(report["range"]["granularity"], s["period"], s) for s in report["series"]]
    rows += [("channel", c["channel"], c) for c in report["by_channel"]]
    rows += [("category", c["category"], c) for c in report["by_category"]]
    for dimension, value, row in rows:
        w.writerow([dimension, value, *("" if (v := _value(row, k)) is None else v for k, _ in COLUMNS)])
    w.writerow([])
    w.writerow(["条目", "标准问题", "分类", "有帮助", "没帮助", "没帮助占比"])
    for e in report.get("kb", {}).get("entry_feedback", []):
        w.writerow([e["entry_id"], e["question"] or "", e["category"] or "", e["helpful"], e["unhelpful"],
                    "" if e["unhelpful_rate"] is None else e["unhelpful_rate"]])
    return buf.getvalue()
