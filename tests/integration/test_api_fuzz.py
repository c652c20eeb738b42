"""schemathesis against the gateway's own OpenAPI spec: every operation, valid and invalid
inputs, as an admin (credentials reach the handlers) and as nobody; no request may end in a
5xx. Bounded and derandomized so CI runs the same examples every time.

The app runs in-process (schemathesis's ASGI transport runs its lifespan) on a temporary SQLite
database with part of the demo KB, dense search as shipped and Rasa down for real (port 9)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as st_asgi

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import session_factory

MAX_EXAMPLES = 20
AUTH_HEADERS = ("authorization", "x-api-key", "x-service-token")


def _settings(var: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{var / 'app.sqlite3'}", var_dir=var / "var",
                    rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0,
                    business_open="00:00", business_close="24:00",
                    live_stream_max_s=0.2, live_poll_interval_s=0.05,
                    wechat_token="fuzz-token", wechat_app_id="wx-fuzz")


def _operation_labels() -> list[str]:
    """Every operation in the spec, read from an app that is built but never started."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = create_app(_settings(Path(tmp))).openapi()
    return [f"{method.upper()} {path}" for path, methods in spec["paths"].items() for method in methods]


OPERATIONS = _operation_labels()


class Fuzzed:
    def __init__(self, schema, app, admin_key: str):
        self.schema, self.app, self.admin_key = schema, app, admin_key

    def credentials(self, who: str) -> dict[str, str]:
        if who == "admin":
            return {"authorization": f"Bearer {self.admin_key}", "x-api-key": self.admin_key,
                    "x-service-token": self.app.state.service_token}
        return {}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, demo_records):
    var = tmp_path_factory.mktemp("fuzz")
    settings_ = _settings(var)
    app = create_app(settings_)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app's lifespan
    app.state.store.import_records(demo_records[:40], actor="test")
    admin_key = KeyStore(session_factory(settings_.database_url)).create("fuzz-admin", Role.admin)
    yield Fuzzed(schema, app, admin_key)
    st_asgi.shutdown_lifespans()


@pytest.fixture(scope="session")
def demo_records():
    from kb.interchange import parse_file
    from tests.support.demo_kb import DEMO_KB
    return parse_file(DEMO_KB).records


@pytest.mark.parametrize("who", ["admin", "anonymous"])
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_operation_answers_with_a_server_error(fuzzed, label, who):
    operation = fuzzed.schema.find_operation_by_label(label)
    assert operation is not None, label
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))
    credentials = fuzzed.credentials(who)

    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    def run(case):
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in AUTH_HEADERS}
        case.headers = {**headers, **credentials}
        response = case.call(timeout=10)
        case.validate_response(response, checks=[not_a_server_error])

    run()
