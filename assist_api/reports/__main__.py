"""`python -m assist_api.reports`: the monthly HTML report and the demo data.

    python -m assist_api.reports monthly --month 2026-10 --out report.html
    python -m assist_api.reports demo-data --conversations 10000 [--month 2026-10]
    python -m assist_api.reports demo-data --remove
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings
from db.engine import session_factory
from db.migrate import upgrade

app = typer.Typer(help="Supervisor reports and demo data.", no_args_is_help=True, add_completion=False)
DB = typer.Option("--db", help="Database URL (default: the project's database).")


def _sessions(db: str | None) -> sessionmaker[Session]:
    url = db or get_settings().database_url
    upgrade(url)
    return session_factory(url)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


@app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option("--month", help="The month, e.g. 2026-10.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML file.")],
    granularity: Annotated[str, typer.Option("--granularity", help="day or week trend.")] = "day",
    clusters: Annotated[bool, typer.Option("--clusters/--no-clusters",
                                           help="Include the unanswered-question topics.")] = True,
    db: Annotated[str | None, DB] = None,
) -> None:
    """Render one month's report as a self-contained HTML file (inline CSS and SVG, no scripts)."""
    from assist_api.reports.html_report import document
    from assist_api.reports.period import Period
    from assist_api.reports.service import build_report
    from assist_api.reports.unanswered import unanswered_clusters

    settings = get_settings()
    if granularity not in ("day", "week"):
        _fail("--granularity must be day or week")
    try:
        period = Period.month(month, settings.business_timezone)
    except ValueError as exc:
        _fail(str(exc))
    sessions = _sessions(db)
    report = build_report(sessions, settings, period, "week" if granularity == "week" else "day")
    topics = None
    if clusters:
        try:
            topics = unanswered_clusters(sessions, settings, None, 15)
        except FileNotFoundError as exc:
            print(f"note: no unanswered-question topics ({exc})", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document(report, f"星联客服 {month} 月度运营报表", topics), "utf-8")
    t = report["totals"]
    print(f"wrote {out} ({t['conversations']} conversations, deflection {t['deflection_rate']}, "
          f"handoff rate {t['handoff_rate']})")


@app.command("demo-data")
def demo_data(
    conversations: Annotated[int, typer.Option("--conversations", min=1, max=1_000_000)] = 10_000,
    month: Annotated[str | None, typer.Option(
        "--month", help="Spread over this month (default: the last 30 days).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    remove: Annotated[bool, typer.Option("--remove", help="Delete every demo conversation instead.")] = False,
    db: Annotated[str | None, DB] = None,
) -> None:
    """Seed demo conversations (ids starting with `demo`) so the reports page shows something, or remove them."""
    from assist_api.reports import demo
    from assist_api.reports.period import Period

    sessions = _sessions(db)
    if remove:
        print(f"removed {demo.remove(sessions)} demo conversations")
        return
    tz = get_settings().business_timezone
    try:
        if month:
            period = Period.month(month, tz)
        else:
            period = Period.recent(tz)
    except ValueError as exc:
        _fail(str(exc))
    counts = demo.generate(sessions, period, conversations, seed)
    print(f"demo data for {period.first} – {period.last}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    app()
