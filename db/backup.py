"""Backups and restore of the app database by command line.

    python -m db.backup create --out FILE [--db URL]
    python -m db.backup verify FILE [--db URL]
    python -m db.backup restore FILE [--force] [--db URL]

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while
the services keep writing (WAL mode); the copy is written to a temporary file, checked with
`PRAGMA integrity_check` and renamed into place. Restore checks the backup the same way, copies
it into a temporary file next to the target and atomically replaces the target, so a failed
restore never leaves a half-written database.

PostgreSQL: `pg_dump -Fc` (custom format). Restore checks the archive with `pg_restore --list`,
then replays `pg_restore --clean --if-exists` through `psql --single-transaction`, so the
database is either fully restored or untouched. The client binaries are taken from
`/usr/lib/postgresql/*/bin` (newest first), `$PG_BIN_DIR`, or `PATH`.

Restore refuses to overwrite a database that holds data unless `--force`. Stop the services
before restoring: they keep connections and caches (search index) of the old content.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from db.engine import get_engine, normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables that a freshly migrated, otherwise empty database already has rows in.
_BOOKKEEPING_TABLES = {"alembic_version", "kb_state"}
_SUBPROCESS_TIMEOUT_S = 3600


class BackupError(Exception):
    """A refusal or failure shown to the user as one line."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    size: int
    backend: str  # "sqlite" or "postgresql"
    revision: str | None


# ---- helpers ---------------------------------------------------------------------------------

def _url(url: str) -> URL:
    try:
        return make_url(normalise_url(url))
    except (ArgumentError, ValueError) as exc:  # an unparsable URL; a port that is not a number
        raise BackupError(f"invalid database URL: {exc}") from None


def backend_of(url: str) -> str:
    backend = _url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database backend {backend!r} (sqlite or postgresql)")
    return backend


def _sqlite_path(url: str) -> Path:
    database = _url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _pg_bin(name: str) -> str:
    candidates: list[str] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(str(Path(os.environ["PG_BIN_DIR"]) / name))

    def version(path: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/([\d.]+)/bin/", path)
        return tuple(int(p) for p in m.group(1).split(".")) if m else (0,)

    # The newest client: pg_dump refuses servers newer than itself.
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found (install the PostgreSQL client: apt-get install postgresql-client)")


def _pg_conn(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it."""
    parsed = _url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None = None, what: str = "") -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=_SUBPROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what or Path(args[0]).name} timed out") from None
    except OSError as exc:
        raise BackupError(f"{what or Path(args[0]).name} could not run: {exc}") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        reason = lines[0] if lines else f"exit status {proc.returncode}"
        raise BackupError(f"{what or Path(args[0]).name} failed: {reason}")
    return proc


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _temp_next_to(path: Path, suffix: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(name)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    return {s.revision for s in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


# ---- create ----------------------------------------------------------------------------------

def create_backup(url: str, out: Path) -> BackupInfo:
    """Write a consistent backup of the database at `url` to `out` (replaced atomically)."""
    out = Path(out)
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give a file name")
    backend = backend_of(url)
    return _create_sqlite(url, out) if backend == "sqlite" else _create_pg(url, out)


def _sqlite_copy(source_uri: str, dest: Path, what: str) -> str | None:
    """Copy a SQLite database into a new self-contained file and check it; returns its
    schema revision."""
    with closing(sqlite3.connect(source_uri, uri=True, timeout=30)) as src, \
            closing(sqlite3.connect(dest)) as dst:
        # One step (pages=-1): a single read transaction, i.e. one consistent snapshot;
        # in WAL mode the writers are not blocked meanwhile.
        src.backup(dst)
        # A self-contained file (no -wal beside it); the app turns WAL back on.
        dst.execute("PRAGMA journal_mode=DELETE")
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"the {what} failed its integrity check")
        return _sqlite_revision(dst)


def _create_sqlite(url: str, out: Path) -> BackupInfo:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"database file not found: {source}")
    if out.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    tmp = _temp_next_to(out, ".tmp")
    try:
        revision = _sqlite_copy(f"file:{source}?mode=ro", tmp, "backup copy")
        _fsync_file(tmp)
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from None
    finally:
        _remove(tmp)
    return BackupInfo(out, out.stat().st_size, "sqlite", revision)


def _pg_revision(url: str) -> str | None:
    try:
        with get_engine(url).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def _create_pg(url: str, out: Path) -> BackupInfo:
    conn, env = _pg_conn(url)
    tmp = _temp_next_to(out, ".tmp")
    try:
        # -Fc: compressed custom format, restorable selectively and checked by pg_restore --list.
        _run([_pg_bin("pg_dump"), "-Fc", "--no-password", "-f", str(tmp), "-d", conn], env, "pg_dump")
        _fsync_file(tmp)
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    finally:
        _remove(tmp)
    return BackupInfo(out, out.stat().st_size, "postgresql", _pg_revision(url))


# ---- verify ----------------------------------------------------------------------------------

def verify_backup(path: Path, backend: str) -> str | None:
    """Check that `path` is a sound backup for `backend`; return its schema revision if known."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"backup file not found: {path}")
    if path.stat().st_size == 0:
        raise BackupError(f"{path} is empty")
    return _verify_sqlite(path) if backend == "sqlite" else _verify_pg(path)


def _verify_sqlite(path: Path) -> str | None:
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database backup")
    try:
        # immutable=1: read the file as it is, never create a -wal/-shm beside it.
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError(f"{path} failed the integrity check: {result[0]}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revision = _sqlite_revision(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    if "alembic_version" not in tables or revision is None:
        raise BackupError(f"{path} is not a backup of this application's database (no schema revision)")
    _check_revision(revision)
    return revision


def _check_revision(revision: str | None) -> None:
    if revision is not None and revision not in _known_revisions():
        raise BackupError(f"the backup's schema revision {revision} is unknown to this release (newer code?)")


def _pg_list(path: Path) -> str:
    proc = _run([_pg_bin("pg_restore"), "--list", str(path)], what="pg_restore --list")
    return proc.stdout


def _archive_tables(listing: str) -> set[str]:
    # Lines like "215; 1259 16385 TABLE public kb_entries postgres".
    return {m.group(1) for m in re.finditer(r"^\d+;\s+\d+\s+\d+\s+TABLE public (\S+)", listing, re.M)}


def _verify_pg(path: Path) -> str | None:
    with open(path, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(f"{path} is not a pg_dump custom-format archive (pg_dump -Fc)")
    listing = _pg_list(path)
    if "alembic_version" not in _archive_tables(listing):
        raise BackupError(f"{path} is not a backup of this application's database (no schema revision)")
    return None


# ---- restore ---------------------------------------------------------------------------------

def has_data(url: str) -> bool:
    """Whether any table of the database (beyond Alembic's and the seeded KB state) has rows."""
    if backend_of(url) == "sqlite" and not _sqlite_path(url).exists():
        return False
    engine = get_engine(url)
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in insp.get_table_names():
            if table in _BOOKKEEPING_TABLES:
                continue
            quoted = engine.dialect.identifier_preparer.quote(table)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
                return True
    return False


def restore_backup(path: Path, url: str, force: bool = False) -> str | None:
    """Replace the database at `url` with the backup at `path`; return the restored revision."""
    path = Path(path)
    backend = backend_of(url)
    revision = verify_backup(path, backend)
    try:
        non_empty = has_data(url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise BackupError(f"cannot read the target database: {reason}") from None
    if non_empty and not force:
        raise BackupError("the target database is not empty; use --force to overwrite it")
    # This process's pooled connections would keep the old database open.
    get_engine(url).dispose()
    if backend == "sqlite":
        _restore_sqlite(path, url)
    else:
        _restore_pg(path, url)
    get_engine(url).dispose()
    return revision


def _restore_sqlite(path: Path, url: str) -> None:
    target = _sqlite_path(url)
    if target.exists() and path.resolve() == target.resolve():
        raise BackupError("the backup file is the target database itself")
    tmp = _temp_next_to(target, ".restore")
    try:
        try:
            _sqlite_copy(f"file:{path}?mode=ro&immutable=1", tmp, "restored copy")
        except sqlite3.Error as exc:
            raise BackupError(f"restore failed: {exc}") from None
        _fsync_file(tmp)
        if target.exists():
            shutil.copymode(target, tmp)
            _quiesce_sqlite(target)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        _remove(tmp)


def _quiesce_sqlite(target: Path) -> None:
    """Fold the target's WAL into it and make sure nobody else has it open.

    A -wal file left beside the replaced file would be replayed onto the restored database.
    Closing the last connection after a checkpoint deletes it; if it survives, another
    process still has the database open.
    """
    wal = Path(f"{target}-wal")
    try:
        conn = sqlite3.connect(target, timeout=10)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        pass  # a damaged target is being replaced anyway
    if wal.exists():
        raise BackupError(f"{target} is in use by another process; stop the services before restoring")
    for leftover in (wal, Path(f"{target}-shm"), Path(f"{target}-journal")):
        _remove(leftover)


def _restore_pg(path: Path, url: str) -> None:
    conn_uri, env = _pg_conn(url)
    archive_tables = _archive_tables(_pg_list(path))
    with get_engine(url).connect() as conn:
        existing = set(inspect(conn).get_table_names(schema="public"))
    get_engine(url).dispose()
    # Tables the backup does not know (a newer schema than the backup's) would survive
    # --clean and break the next migration; they go in the same transaction.
    extra = sorted(existing - archive_tables)
    drops = "".join(f'DROP TABLE IF EXISTS public."{t}" CASCADE;' for t in extra)
    script = Path(tempfile.mkstemp(prefix="cs-restore-", suffix=".sql")[1])
    try:
        _run([_pg_bin("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "-f", str(script), str(path)], env, "pg_restore")
        args = [_pg_bin("psql"), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
                "--single-transaction", "-d", conn_uri]
        if drops:
            args += ["-c", drops]
        args += ["-f", str(script)]
        _run(args, env, "restore (psql)")
    finally:
        _remove(script)


# ---- CLI -------------------------------------------------------------------------------------

app = typer.Typer(
    help="Back up and restore the app database (SQLite online backup or pg_dump).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: the project's SQLite file or DATABASE_URL)."),
]


def _db(db: str | None) -> str:
    if db:
        return db
    from config.settings import get_settings

    return get_settings().database_url


def _fail(exc: Exception) -> None:
    if isinstance(exc, SQLAlchemyError):
        exc = BackupError(f"database: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
    err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(1)


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


@app.command("create")
def create_cmd(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Backup file to write (replaced atomically).")],
    db: DbOption = None,
) -> None:
    """Write a consistent backup of the database (safe while the services run)."""
    try:
        info = create_backup(_db(db), out_file)
    except (BackupError, SQLAlchemyError) as exc:
        _fail(exc)
    out.print(f"backup written: {info.path} ({_human(info.size)}, {info.backend}, "
              f"schema revision {info.revision or 'unknown'})", highlight=False)


@app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="Backup file to check.")],
    db: DbOption = None,
) -> None:
    """Check a backup file (SQLite integrity check, or pg_restore --list) without restoring it."""
    try:
        revision = verify_backup(file, backend_of(_db(db)))
    except BackupError as exc:
        _fail(exc)
    out.print(f"ok: {file}" + (f" (schema revision {revision})" if revision else ""), highlight=False)


@app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="Backup file written by `create`.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite a database that holds data.")] = False,
    db: DbOption = None,
) -> None:
    """Replace the database with a backup (stop the services first)."""
    url = _db(db)
    try:
        revision = restore_backup(file, url, force=force)
    except (BackupError, SQLAlchemyError) as exc:
        _fail(exc)
    note = ""
    if revision and revision != _head_revision():
        note = f"; schema revision {revision}, the next start migrates it to {_head_revision()}"
    out.print(f"restored {file} into {_url(url).render_as_string(hide_password=True)}{note}", highlight=False)


if __name__ == "__main__":
    app()
