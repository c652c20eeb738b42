"""`kb`: the knowledge-base command line (import, export, search, eval, reindex and editing)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from config.settings import get_settings
from db.migrate import upgrade
from kb.evaluation import EvalFileError, evaluate, read_queries
from kb.interchange import InterchangeError, parse_file, write_file
from kb.schema import to_record
from kb.search.engine import QueryError, validate_query
from kb.search.indexer import open_engine, rebuild
from kb.store import KBStore, StoreError
from kb.tuning import tune as tune_calibration
from kb.workflow import Status

app = typer.Typer(
    help="Manage and search the customer-service knowledge base.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# soft_wrap: lines are never broken at the terminal width, so scripts can parse the output.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: the project's SQLite file or DATABASE_URL)."),
]
ActorOption = Annotated[str, typer.Option("--actor", help="Who makes the change (audit log).")]


class CLIError(Exception):
    """A refusal shown as one line on stderr with a non-zero exit."""


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (CLIError, StoreError, InterchangeError, QueryError, EvalFileError, ValueError) as exc:
        # Escaped: a message may name an extra such as '.[train]', which is not markup.
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's error, when SQLAlchemy wraps one
        reason = str(orig if orig else exc).splitlines()[0]
        err.print(f"[red]error:[/red] database: {reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _store(db: str | None) -> KBStore:
    url = db or get_settings().database_url
    upgrade(url)
    return KBStore(url)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="YAML (.yaml/.yml) or JSON Lines (.jsonl) file.")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid records even if some are bad.")
    ] = False,
    db: DbOption = None,
    actor: ActorOption = "cli",
) -> None:
    """Import entries; existing ids are updated, new ones created (status defaults to published)."""
    with _errors():
        with err.status(f"reading {file}"):
            parsed = parse_file(file)
        for problem in parsed.errors:
            err.print(f"[yellow]{file}:[/yellow] {problem}", highlight=False, soft_wrap=True)
        if parsed.errors and not skip_invalid:
            raise CLIError(
                f"{len(parsed.errors)} invalid record(s) in {file}; nothing imported "
                "(fix them or pass --skip-invalid)"
            )
        store = _store(db)
        with err.status(f"importing {len(parsed.records)} records"):
            report = store.import_records(parsed.records, actor=actor)
        out.print(
            f"imported {file}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(parsed.errors)} skipped as invalid",
            highlight=False,
        )
        if report.created or report.updated:
            with err.status("rebuilding and recalibrating the search index"):
                engine, _ = rebuild(store, get_settings(), recalibrate=True)
            out.print(f"search index rebuilt: {len(engine.entries)} published entries", highlight=False)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="Target file; its suffix picks YAML or JSON Lines.")],
    status: Annotated[Status | None, typer.Option("--status", help="Only entries in this status.")] = None,
    db: DbOption = None,
) -> None:
    """Export entries in the import format (lossless round trip)."""
    with _errors():
        store = _store(db)
        count = write_file(file, (to_record(e) for e in store.list_entries(status=status)))
        out.print(f"exported {count} entries to {file}", highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The customer's question.")],
    top_k: Annotated[int, typer.Option("--top-k", help="How many entries to return (1-50).")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Search published entries: ranked matches, confidences and the bot's decision."""
    with _errors():
        settings = get_settings()
        validate_query(query, settings.max_query_chars)
        if not 1 <= top_k <= 50:
            raise CLIError(f"--top-k must be between 1 and 50, not {top_k}")
        engine = open_engine(_store(db), settings)
        response = engine.search(query, top_k=top_k)
        if as_json:
            print(json.dumps(response.to_json(), ensure_ascii=False))
            return
        table = Table(title=f"decision: {response.decision.value}  ({response.took_ms:.2f} ms)")
        for column in ("#", "id", "question", "score", "confidence"):
            table.add_column(column)
        for rank, hit in enumerate(response.hits, start=1):
            table.add_row(str(rank), hit.id, hit.question, f"{hit.score:.3f}", f"{hit.confidence:.3f}")
        out.print(table)


@app.command("eval")
def eval_(
    queries: Annotated[Path, typer.Argument(help='JSON Lines: {"query": ..., "expected_id": id | null}.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    details: Annotated[bool, typer.Option(
        "--details", help="Add one row per query: query, expected id, decision, top-3 ids with confidences.")] = False,
    db: DbOption = None,
) -> None:
    """Measure search on labelled queries: recall@1/3, MRR, resolved without a human,
    out-of-scope precision/recall, decisions and latency."""
    with _errors():
        settings = get_settings()
        engine = open_engine(_store(db), settings)
        items = read_queries(queries, known_ids={e.id for e in engine.entries})
        with _progress() as progress:
            task = progress.add_task("evaluating", total=len(items))
            metrics = evaluate(engine, items, progress=lambda: progress.advance(task), details=details)
        if as_json:
            print(json.dumps(metrics, ensure_ascii=False))
            return
        table = Table(title=f"{queries} ({metrics['in_scope']} in scope, {metrics['out_of_scope']} out of scope)")
        table.add_column("metric")
        table.add_column("value")
        for key in ("recall@1", "recall@3", "mrr", "resolved", "in_scope_handoff_rate", "oos_precision",
                    "oos_recall", "answer_precision"):
            table.add_row(key, str(metrics[key]))
        table.add_row("decisions", json.dumps(metrics["decisions"]))
        table.add_row("latency p50 / p95 ms", f"{metrics['latency_ms']['p50']} / {metrics['latency_ms']['p95']}")
        out.print(table)
        if details:
            rows = Table(title="per query")
            for column in ("query", "expected", "decision", "top 3 (confidence)"):
                rows.add_column(column)
            for row in metrics["details"]:
                top = "  ".join(f"{t['id']} ({t['confidence']:.2f})" for t in row["top"])
                rows.add_row(row["query"], row["expected_id"] or "—", row["decision"], top)
            out.print(rows)


@app.command()
def reindex(db: DbOption = None) -> None:
    """Rebuild the search index from the published entries and fit its calibration to them."""
    with _errors():
        store = _store(db)
        with err.status("building and calibrating the search index"):
            engine, path = rebuild(store, get_settings(), recalibrate=True)
        out.print(f"indexed {len(engine.entries)} published entries → {path}", highlight=False)


@app.command()
def tune(
    queries: Annotated[Path, typer.Argument(help="Dev-split query file (never the test split).")],
    output: Annotated[Path | None, typer.Option(
        "--out", help="Where to write the calibration (default: the configured file).")] = None,
    db: DbOption = None,
) -> None:
    """Fit the confidence calibration and choose answer/clarify thresholds on a dev split."""
    with _errors():
        settings = get_settings()
        engine = open_engine(_store(db), settings)
        items = read_queries(queries, known_ids={e.id for e in engine.entries})
        with _progress() as progress:
            task = progress.add_task("tuning", total=len(items))
            calibrator = tune_calibration(
                engine, items, settings.tune_answer_precision, settings.tune_oos_recall, source=queries.name,
                progress=lambda: progress.advance(task),
            )
        target = output or settings.resolved_calibration_file
        calibrator.save(target)
        out.print(
            f"calibration written to {target}: answer ≥ {calibrator.thresholds.answer}, "
            f"clarify ≥ {calibrator.thresholds.clarify}",
            highlight=False,
        )


@app.command()
def train(
    output: Annotated[Path, typer.Option("--out", help="Directory for the fine-tuned model.")],
    epochs: Annotated[int, typer.Option(min=1, max=50, help="Passes over the KB's question pairs.")] = 8,
    base: Annotated[Path | None, typer.Option(
        help="Model to start from (default: the shipped general model, kb/embedding/model-general).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same model).")] = 0,
    db: DbOption = None,
) -> None:
    """Fine-tune the embedding model on this KB's own questions and answers.

    Starts from the shipped general model (the shipped kb/embedding/model is that model after
    this same step on the demo KB). Use the result by setting CS_EMBEDDING_MODEL_DIR to the
    output directory, then `kb tune` on a dev split (scores change, so the calibration must
    be refitted).
    """
    from kb.embedding import GENERAL_MODEL_DIR
    from kb.embedding.kb_pairs import entry_pairs
    from kb.embedding.training_extra import TrainingExtraMissing, require_training_libraries

    with _errors():
        try:
            require_training_libraries("kb train")
        except TrainingExtraMissing as exc:
            raise CLIError(str(exc)) from exc
        from kb.embedding.finetune import finetune_on_pairs

        pairs = entry_pairs(_store(db).published())
        if not pairs:
            raise CLIError("no published entries: nothing to learn from")
        with _progress() as progress:
            task = progress.add_task(f"fine-tuning on {len(pairs)} question pairs", total=1000)
            stats = finetune_on_pairs(
                base or GENERAL_MODEL_DIR, pairs, output, epochs=epochs, seed=seed,
                progress=lambda done: progress.update(task, completed=int(done * 1000)),
            )
        out.print(
            f"model written to {output} ({stats['pairs']} pairs, {stats['seconds']} s); use it with "
            f"CS_EMBEDDING_MODEL_DIR={output}, then run `kb tune` on a dev split",
            highlight=False,
        )


@app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option("--status")] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    db: DbOption = None,
) -> None:
    """List entries."""
    with _errors():
        settings = get_settings()
        if category is not None and category not in settings.kb_categories:
            raise CLIError(f"unknown category {category!r} (expected one of: {', '.join(settings.kb_categories)})")
        entries = _store(db).list_entries(status=status, category=category)
        table = Table(title=f"{len(entries)} entries")
        for column in ("id", "status", "v", "category", "question"):
            table.add_column(column)
        for e in entries:
            table.add_row(e.id, e.status, str(e.version), e.category, e.question)
        out.print(table)


@app.command()
def show(entry_id: str, db: DbOption = None) -> None:
    """Show one entry as JSON."""
    with _errors():
        print(json.dumps(to_record(_store(db).get(entry_id)), ensure_ascii=False, indent=2))


@app.command()
def history(entry_id: str, db: DbOption = None) -> None:
    """Versions of an entry and the audit trail of who changed what."""
    with _errors():
        store = _store(db)
        table = Table(title=f"{entry_id}: versions")
        for column in ("version", "at", "actor", "action", "status"):
            table.add_column(column)
        for v in store.versions(entry_id):
            table.add_row(str(v.version), v.created_at.isoformat(timespec="seconds"), v.actor, v.action,
                          v.snapshot["status"])
        out.print(table)
        for row in store.audit(entry_id):
            out.print(f"{row.at.isoformat(timespec='seconds')} {row.actor} {row.action} v{row.version}: "
                      f"{', '.join(sorted(row.changes))}", highlight=False)


@app.command("set-status")
def set_status(
    entry_id: str,
    status: Status,
    db: DbOption = None,
    actor: ActorOption = "cli",
) -> None:
    """Move an entry through the workflow (draft → review → published → archived)."""
    with _errors():
        store = _store(db)
        entry = store.transition(entry_id, status, actor=actor)
        out.print(f"{entry_id} is now {entry.status} (version {entry.version})", highlight=False)
        rebuild(store, get_settings())


@app.command()
def restore(entry_id: str, version: int, db: DbOption = None, actor: ActorOption = "cli") -> None:
    """Restore an entry's content from an earlier version (as a new version)."""
    with _errors():
        store = _store(db)
        entry = store.restore(entry_id, version, actor=actor)
        out.print(f"{entry_id}: content of version {version} restored as version {entry.version}", highlight=False)
        if entry.status == Status.published:
            rebuild(store, get_settings())


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema."""
    with _errors():
        _store(db)
        out.print("database schema is up to date")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
