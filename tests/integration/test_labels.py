"""Label names have one source, common/labels.yaml: the typed loader refuses a malformed one,
every value the code knows has a name there, the API serves it as it stands, a label renamed
there shows up in the API and the HTML report, and the labelling guide documents every
classification value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import ValidationError

import common.labels
from assist_api.app import create_app
from assist_api.assist.config import load_config
from assist_api.auth.keys import KeyStore, Role
from assist_api.editor.unanswered import KINDS
from assist_api.reports.metrics import PRIORITIES, REASONS
from assist_api.reports.period import GRANULARITIES
from common.labels import CLASSIFICATION, LABELS_FILE, Labels, load_labels
from config.settings import PROJECT_ROOT, Settings
from db.engine import session_factory
from gateway.handoffs.models import HandoffReason, HandoffStatus
from kb.schema import KNOWN_CHANNELS
from kb.search.decision import Decision
from kb.workflow import Status
from tests.support import reports_fixture as fx

GUIDE = PROJECT_ROOT / "assist_api" / "assist" / "data" / "LABELLING.md"
DAY = {"start": "2026-10-12", "end": "2026-10-12"}
RENAMED = {("category", "billing"): "账单与缴费（改名）", ("reason", "user_request"): "客户点名要人工（改名）",
           ("priority", "high"): "较高（改名）"}


def source() -> dict:
    return yaml.safe_load(LABELS_FILE.read_text("utf-8"))


def test_the_loader_types_every_kind_and_refuses_a_malformed_source():
    labels = load_labels()
    assert set(Labels.kinds()) == set(source())
    assert set(CLASSIFICATION) <= set(Labels.kinds())
    assert labels.values("priority") == tuple(source()["priority"])  # the source's order
    assert labels.name("category", "billing") == source()["category"]["billing"]
    assert labels.name("category", "no-such-value") == "no-such-value"
    with pytest.raises(KeyError):
        labels.names("no_such_kind")
    for broken in ({**source(), "colour": {"red": "红"}}, {**source(), "priority": {}},
                   {**source(), "priority": {"urgent": ""}}):
        with pytest.raises(ValidationError):
            Labels.model_validate(broken)


def test_the_labelling_guide_documents_every_classification_value():
    guide = GUIDE.read_text("utf-8")
    for kind in CLASSIFICATION:
        for value in load_labels().values(kind):
            # a row of the category table or a bold bullet of the priority/complexity/emotion lists
            assert f"| {value} |" in guide or f"**{value}**" in guide, f"{kind}.{value} is not in {GUIDE.name}"


@pytest.fixture
def renamed(tmp_path, monkeypatch) -> Path:
    """common/labels.yaml with a few labels renamed, in effect for this test."""
    data = source()
    for (kind, value), name in RENAMED.items():
        data[kind][value] = name
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    monkeypatch.setattr(common.labels, "LABELS_FILE", path)
    return path


@pytest.fixture
def api(tmp_path):
    url = f"sqlite:///{tmp_path / 'labels.sqlite3'}"
    fx.build(url)
    app = create_app(Settings(database_url=url, var_dir=tmp_path / "var", log_format="text", dense_search=False))
    with TestClient(app) as client:
        client.supervisor = KeyStore(session_factory(url)).create("supervisor-1", Role.supervisor)
        yield client


def test_the_api_serves_the_source_as_it_stands_without_a_key(api):
    response = api.get("/api/labels")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"
    assert response.json() == source()
    for kind, names in response.json().items():  # the display order survives JSON
        assert list(names) == list(source()[kind])


def test_a_label_renamed_in_the_source_shows_in_the_api_and_the_html_report(renamed, api):
    served = api.get("/api/labels").json()
    report = api.get("/api/reports/view", params=DAY, headers={"Authorization": f"Bearer {api.supervisor}"})
    assert report.status_code == 200
    for (kind, value), name in RENAMED.items():
        assert served[kind][value] == name
        assert name in report.text, f"{kind}.{value}"
    assert "话费账单" not in report.text and "客户要求转人工" not in report.text


def test_every_value_the_code_knows_has_a_name_in_the_source():
    """The values live in code (enums, tuples) and their names here: a value added on one side
    only fails this test, instead of showing up untranslated on a page."""
    labels = load_labels()
    in_code = {
        "reason": [r.value for r in HandoffReason], "status": [s.value for s in HandoffStatus],
        "kb_status": [s.value for s in Status], "decision": [d.value for d in Decision],
        "channel": list(KNOWN_CHANNELS), "unanswered_kind": list(KINDS), "granularity": list(GRANULARITIES),
    }
    for kind, values in in_code.items():
        assert set(labels.values(kind)) == set(values), kind
    assert set(REASONS) == set(labels.values("reason"))
    assert set(PRIORITIES) == set(labels.values("priority"))
    routes = {rule["route"] for rule in load_config().routing}
    assert routes == set(labels.values("route"))
