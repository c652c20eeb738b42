"""The report as HTML: KPI cards, charts (server-rendered SVG), tables. `fragment` is what the
reports page inserts; `document` wraps it into a self-contained file (inline CSS, no scripts,
no external assets) for the monthly report."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from assist_api.reports import charts
from assist_api.reports.metrics import PRIORITIES, REASONS
from common.labels import load_labels

# One stylesheet for the page and the self-contained file (inlined there).
CSS = (Path(__file__).resolve().parent.parent / "ui" / "reports.css").read_text("utf-8")


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def num(v: Any, unit: str = "") -> str:
    return "—" if v is None else f"{v:g}{unit}" if isinstance(v, float) else f"{v}{unit}"


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} 分钟"


def _card(key: str, value: str, sub: str = "") -> str:
    return (f'<div class="card"><div class="k">{escape(key)}</div><div class="v">{escape(value)}</div>'
            f'<div class="s">{escape(sub)}</div></div>')


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{escape(c)}</td>' if i >= numeric_from else f"<td>{escape(c)}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="muted">暂无数据</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fragment(report: dict[str, Any], clusters: list[dict[str, Any]] | None = None) -> str:
    t = report["totals"]
    rng = report["range"]
    label = load_labels().name  # the one source of label names, as the pages get them from /api/labels
    out = ['<div class="report">']
    if report.get("demo_conversations"):
        out.append(f'<div class="demo">本报表包含 {report["demo_conversations"]} 条演示数据（demo），'
                   f'可用 python -m assist_api.reports demo-data --remove 删除。</div>')
    out.append('<div class="cards">')
    out.append(_card("会话量", f'{t["conversations"]:,}', f'{rng["start"]} 至 {rng["end"]}'))
    out.append(_card("机器人解决率", pct(t["deflection_rate"]), f'{t["bot_resolved"]:,} 个会话'))
    out.append(_card("转人工率", pct(t["handoff_rate"]), f'{t["handoffs"]:,} 个工单'))
    out.append(_card("首次接触解决率 FCR", pct(t["fcr_rate"]), "72 小时内未再联系"))
    out.append(_card("首次响应 P50 / P90", f'{minutes(t["first_response_p50_s"])}',
                     f'P90 {minutes(t["first_response_p90_s"])}'))
    out.append(_card("首响 SLA 达标率", pct(t["sla_first_response_compliance"]),
                     f'解决 SLA {pct(t["sla_resolution_compliance"])}'))
    out.append(_card("解决时长 P50", num(t["resolution_p50_h"], " 小时"), f'P90 {num(t["resolution_p90_h"], " 小时")}'))
    out.append(_card("重开率", pct(t["reopen_rate"]), "已解决后被重新打开"))
    out.append(_card("重复来电率", pct(t["repeat_contact_rate"]), "同一客户 72 小时内"))
    out.append(_card("满意度 CSAT", num(t["csat_avg"], " / 5"),
                     f'满意 {pct(t["csat_satisfied_rate"])} · 回复率 {pct(t["csat_response_rate"])}'))
    out.append(_card("投诉率", pct(t["complaint_rate"]), f'{t["complaints"]:,} 件投诉'))
    fb = t["feedback"]
    out.append(_card("答案“没帮助”", f'{fb["unhelpful"]:,}', f'有帮助 {fb["helpful"]:,}'))
    out.append("</div>")

    series = report["series"]
    labels = [s["period"] for s in series]
    out.append('<h2>趋势</h2><div class="grid">')
    out.append('<div class="panel">' + charts.line_chart(
        labels, {"会话量": [s["conversations"] for s in series], "转人工": [s["handoffs"] for s in series]},
        f'会话量（{label("granularity", rng["granularity"])}）') + "</div>")
    out.append('<div class="panel">' + charts.line_chart(
        labels, {"机器人解决率": [s["deflection_rate"] for s in series],
                 "转人工率": [s["handoff_rate"] for s in series],
                 "FCR": [s["fcr_rate"] for s in series],
                 "首响达标率": [s["sla_first_response_compliance"] for s in series]},
        "关键比率", percent=True) + "</div>")
    out.append("</div>")

    cats = report["by_category"]
    out.append('<h2>分类与转人工原因</h2><div class="grid">')
    out.append('<div class="panel">' + charts.bar_chart(
        [(label("category", c["category"]), c["conversations"],
          f'{c["conversations"]:,} · 解决率 {pct(c["deflection_rate"])}') for c in cats],
        "各分类会话量") + "</div>")
    out.append('<div class="panel">' + charts.bar_chart(
        [(label("reason", r), t["handoffs_by_reason"][r],
          f'{t["handoffs_by_reason"][r]:,} · {pct(t["handoff_rate_by_reason"][r])}') for r in REASONS],
        "转人工原因") + "</div>")
    out.append("</div>")

    hm = report["sla_heatmap"]
    out.append('<h2>SLA</h2><div class="panel">' + charts.heat_map(
        [label("priority", p) for p in hm["priorities"]], hm["periods"], hm["cells"],
        "首次响应 SLA 达标率（优先级 × 时间）", width=1160)
        + "</div>")
    sla_rows = []
    for p in PRIORITIES:
        fr, res = t["sla_first_response"][p], t["sla_resolution"][p]
        sla_rows.append([label("priority", p),
                         str(fr["met"]), str(fr["breached"]), str(fr["pending"]), pct(fr["compliance"]),
                         str(res["met"]), str(res["breached"]), str(res["pending"]), pct(res["compliance"])])
    out.append('<div class="panel">' + _table(["优先级", "首响达标", "首响超时", "待响应", "首响达标率",
                                               "解决达标", "解决超时", "处理中", "解决达标率"], sla_rows) + "</div>")

    out.append('<h2>渠道</h2><div class="panel">' + _table(
        ["渠道", "会话量", "机器人解决率", "转人工率", "FCR", "首响达标率", "CSAT", "投诉率"],
        [[label("channel", c["channel"]), f'{c["conversations"]:,}', pct(c["deflection_rate"]),
          pct(c["handoff_rate"]), pct(c["fcr_rate"]), pct(c["sla_first_response_compliance"]),
          num(c["csat_avg"]), pct(c["complaint_rate"])] for c in report["by_channel"]]) + "</div>")

    kb = report.get("kb", {})
    out.append('<h2>知识库</h2><div class="grid">')
    out.append('<div class="panel"><h3>“没帮助”最多的条目</h3>' + _table(
        ["条目", "标准问题", "有帮助", "没帮助", "没帮助占比"],
        [[e["entry_id"], e["question"] or "（已删除）", str(e["helpful"]), str(e["unhelpful"]),
          pct(e["unhelpful_rate"])] for e in kb.get("entry_feedback", [])[:15]], numeric_from=2) + "</div>")
    flagged = [[e["entry_id"], e["question"] or "", "没帮助过多", f'{e["unhelpful"]} 次']
               for e in kb.get("flagged_unhelpful", [])]
    flagged += [[e["entry_id"], e["question"], "已过复审日期", e["review_due"]] for e in kb.get("review_overdue", [])]
    out.append('<div class="panel"><h3>需要复审的条目</h3>'
               + _table(["条目", "标准问题", "原因", ""], flagged, 9) + "</div>")
    out.append("</div>")

    if clusters is not None:
        out.append('<h2>未解答问题（按量排序的主题）</h2><div class="panel">' + _table(
            ["#", "建议标准问题", "提问量", "不同问法", "失败类型", "示例"],
            [[str(c["rank"]), c["draft"]["question"], str(c["volume"]), str(c["distinct_questions"]),
              "、".join(label("unanswered_kind", k) + f" {n}" for k, n in c["kinds"].items()),
              " / ".join(e["text"] for e in c["examples"][:3])] for c in clusters], 9) + "</div>")
    out.append(f'<p class="muted">生成时间 {escape(report.get("generated_at", ""))}（时区 {escape(rng["timezone"])}）。'
               "口径：机器人解决 = 未转人工、至少回答一次且没有“没帮助”；"
               "FCR = 已解决、未重开且客户 72 小时内未再联系。</p>")
    out.append("</div>")
    return "".join(out)


def document(report: dict[str, Any], title: str, clusters: list[dict[str, Any]] | None = None) -> str:
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>body{{margin:0;background:#f3f5f9}}main{{max-width:1200px;margin:0 auto;padding:18px}}"
            f"h1{{font-size:20px;color:#0f3d8a}}{CSS}</style></head><body><main>"
            f"<h1>{escape(title)}</h1>{fragment(report, clusters)}</main></body></html>")
