"""The HTTP API on embedded defaults: health, KB search contract, published entries."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assist_api.app import create_app
from config.settings import Settings
from tests.support.demo_kb import DEMO_ENTRIES


@pytest.fixture
def client(demo_store, tmp_path):
    settings = Settings(database_url=demo_store.database_url, var_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as c:
        yield c


def test_health_reports_the_loaded_index(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["published_entries"] == DEMO_ENTRIES
    assert body["index_revision"] == body["kb_revision"]


def test_search_follows_the_contract_and_answers(client):
    body = client.post("/api/kb/search", json={"query": "宽带经常掉线怎么办", "top_k": 3}).json()
    assert body["decision"] == "answer"
    assert len(body["results"]) == 3
    assert body["results"][0]["id"] == "broadband-006"
    assert "报修" in body["answer"]


@pytest.mark.parametrize("payload", [{"query": ""}, {"query": "话" * 1001}, {"query": "x", "top_k": 0}, {}])
def test_bad_search_requests_get_a_clear_4xx(client, payload):
    response = client.post("/api/kb/search", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_entries_are_published_only_and_unknown_ids_404(client, demo_store):
    demo_store.create("other-901", {"question": "草稿问题", "answer": "草稿答案", "category": "other"})
    ids = [e["id"] for e in client.get("/api/kb/entries").json()]
    assert len(ids) == DEMO_ENTRIES and "other-901" not in ids
    assert client.get("/api/kb/entries/other-901").status_code == 404
    assert client.get("/api/kb/entries/nope").status_code == 404
    assert client.get("/api/kb/entries/billing-001").json()["question"]
