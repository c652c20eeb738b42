"""Integration fixtures: a database per test on SQLite and on a real PostgreSQL server (which
fails instead of skipping under CS_REQUIRE_POSTGRES=1), an isolated settings object whose index
lives in the test's temporary directory, the demo KB, and the service clock."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
import time_machine

from config.settings import Settings
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.store import KBStore
from stack.postgres import PostgresServer, PostgresUnavailable
from tests.support.demo_kb import DEMO_KB

# Asia/Shanghai is UTC+8: at 08:00 UTC both calendars agree, at 20:00 UTC Shanghai is already
# on the next day. Date-dependent tests run at both, so the suite passes at every hour.
SERVICE_CLOCK_INSTANTS = {
    "08:00Z": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    "20:00Z": datetime(2026, 11, 20, 20, 0, tzinfo=UTC),
}


@pytest.fixture(params=list(SERVICE_CLOCK_INSTANTS))
def service_clock(request) -> datetime:
    """Sets this process's clock (time, datetime, the service's `utcnow`) to 08:00 and to
    20:00 UTC; the clock keeps ticking from there. The test takes "today" from the service's
    own helper (`assist_api.reports.period.local_today`), never from UTC or the machine."""
    instant = SERVICE_CLOCK_INSTANTS[request.param]
    with time_machine.travel(instant, tick=True):
        yield instant


@pytest.fixture(scope="session")
def postgres_server():
    url = os.environ.get("CS_TEST_POSTGRES_URL")
    if url:  # an externally managed server (e.g. a CI service)
        yield url
        return
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        yield exc
        return
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    if isinstance(server, Exception):
        if os.environ.get("CS_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (CS_REQUIRE_POSTGRES) but could not start: {server}")
        pytest.skip(f"PostgreSQL could not start here: {server}")
    if isinstance(server, str):
        return server
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def store(db_url) -> KBStore:
    upgrade(db_url)
    return KBStore(db_url)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(var_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def demo_records():
    return parse_file(DEMO_KB).records


@pytest.fixture
def demo_store(sqlite_url, demo_records) -> KBStore:
    upgrade(sqlite_url)
    store = KBStore(sqlite_url)
    store.import_records(demo_records)
    return store
