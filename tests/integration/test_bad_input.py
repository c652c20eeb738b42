"""Bad input over HTTP: oversized bodies (declared and chunked), invalid UTF-8, SQL-injection
strings in every text field and HTML/script in messages. Each is refused with a clear 4xx and
nothing stored, or stored and returned verbatim as data (escaping is the UI's job)."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import get_engine, session_factory

WEB = "/api/channels/web"
TEN_MB = 10 * 1024 * 1024
SQLI = [
    "'; DROP TABLE messages; --",
    "1' OR '1'='1",
    '" OR 1=1 --',
    "Robert'); DROP TABLE conversations;--",
    "%' UNION SELECT key_hash, name FROM api_keys --",
    "\\'; SELECT pg_sleep(5); --",
]
HTML = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">你好',
    "</textarea><svg/onload=alert(document.cookie)>",
    "&lt;b&gt;&amp; &#x3C;script&#x3E;",
]


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    var = tmp_path_factory.mktemp("bad-input")
    url = f"sqlite:///{var / 'app.sqlite3'}"
    settings = Settings(database_url=url, var_dir=var / "var", rasa_url="http://127.0.0.1:9",
                        business_open="00:00", business_close="24:00")
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    client.__enter__()
    store = KeyStore(session_factory(url))
    client.keys = {"editor": store.create("ed", Role.editor), "agent": store.create("ag", Role.agent)}
    client.url = url
    yield client
    client.__exit__(None, None, None)


def count(gw, table: str) -> int:
    with get_engine(gw.url).connect() as conn:
        return conn.execute(sql(f"SELECT count(*) FROM {table}")).scalar_one()


def customer() -> str:
    return f"web-{uuid.uuid4().hex[:10]}"


def as_(gw, who, method, path, headers=None, **kwargs):
    headers = {**(headers or {}), "Authorization": f"Bearer {gw.keys[who]}"}
    return gw.request(method, path, headers=headers, **kwargs)


# ---- oversized bodies --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"{WEB}/messages", "/api/kb/search"])
@pytest.mark.parametrize("padding", ["in-field", "extra-field"])
def test_a_10_mb_body_is_refused_with_413_and_nothing_stored(gw, path, padding):
    before = count(gw, "messages")
    body = {"customer_id": customer(), "text": "你好", "query": "宽带"}
    if padding == "in-field":
        body["text" if "channels" in path else "query"] = "话" * (TEN_MB // 3)
    else:
        body["pad"] = "x" * TEN_MB  # an unknown field pydantic would otherwise just ignore
    response = gw.post(path, content=json.dumps(body, ensure_ascii=False).encode(),
                       headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "request body too large"}
    assert count(gw, "messages") == before


@pytest.mark.parametrize("path", [f"{WEB}/messages", "/api/kb/search"])
def test_a_chunked_body_without_content_length_is_cut_off_with_413(gw, path):
    before = count(gw, "messages")

    def chunks():
        yield b'{"customer_id": "web-chunked", "query": "q", "text": "'
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB in all, no Content-Length
        yield b'"}'

    response = gw.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert count(gw, "messages") == before


def test_a_body_just_under_the_limit_is_still_parsed(gw):
    body = {"query": "宽带", "pad": "x" * (gw.app.state.settings.max_request_body_bytes - 100)}
    response = gw.post("/api/kb/search", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 200


# ---- invalid UTF-8 -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b'{"customer_id": "web-utf8", "text": "\xc3\x28"}',
                                 b'{"customer_id": "web-utf8", "text": "\xff\xfe\xfd"}',
                                 b'\xef\xbb\xbf\xed\xa0\x80{"text": 1}'])
@pytest.mark.parametrize("path", [f"{WEB}/messages", "/api/kb/search", "/api/editor/entries"])
def test_invalid_utf8_is_a_clear_4xx_and_nothing_is_stored(gw, path, raw):
    before = count(gw, "messages"), count(gw, "kb_entries")
    response = as_(gw, "editor", "POST", path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]
    assert (count(gw, "messages"), count(gw, "kb_entries")) == before


# ---- SQL injection strings: data, stored verbatim ------------------------------------------

@pytest.mark.parametrize("attack", SQLI)
def test_sql_injection_strings_in_customer_fields_are_stored_verbatim(gw, attack):
    who = f"web-{attack}"[:128]
    reply = gw.post(f"{WEB}/messages", json={"customer_id": who, "text": attack,
                                             "profile": {"name": attack, "city": attack}})
    assert reply.status_code == 200, reply.text
    conv = reply.json()["conversation_id"]
    stored = gw.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": who}).json()
    assert stored[0]["sender"] == "customer" and stored[0]["text"] == attack
    # the other customer-facing text fields take it as plain data too
    assert gw.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": attack}).status_code == 404
    assert gw.post("/api/kb/search", json={"query": attack}).status_code == 200
    for table in ("messages", "conversations", "api_keys", "kb_entries"):
        count(gw, table)  # every table is still there


@pytest.mark.parametrize("attack", SQLI)
def test_sql_injection_strings_in_kb_entry_fields_are_stored_verbatim(gw, attack):
    draft = {"question": f"问题 {attack}", "similar_questions": [attack], "answer": attack,
             "category": "other", "tags": [attack]}
    created = as_(gw, "editor", "POST", "/api/editor/entries", json=draft)
    assert created.status_code == 201, created.text
    entry = as_(gw, "editor", "GET", f"/api/editor/entries/{created.json()['id']}").json()
    for field in ("question", "similar_questions", "answer", "tags"):
        assert entry[field] == draft[field]
    listed = as_(gw, "editor", "GET", "/api/editor/entries", params={"status": "draft", "q": attack})
    assert listed.status_code == 200
    assert created.json()["id"] in [e["id"] for e in listed.json()]


# ---- HTML / script: stored and returned verbatim as JSON data --------------------------------

@pytest.mark.parametrize("markup", HTML)
def test_html_in_a_customer_message_is_stored_and_returned_verbatim(gw, markup):
    who = customer()
    reply = gw.post(f"{WEB}/messages", json={"customer_id": who, "text": markup})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    stored = gw.get(f"{WEB}/conversations/{reply.json()['conversation_id']}/messages",
                    params={"customer_id": who}).json()
    assert stored[0]["text"] == markup


@pytest.mark.parametrize("markup", HTML)
def test_html_in_a_kb_answer_is_stored_verbatim(gw, markup):
    draft = {"question": "带标记的问题", "answer": markup, "category": "other"}
    created = as_(gw, "editor", "POST", "/api/editor/entries", json=draft)
    assert created.status_code == 201, created.text
    entry = as_(gw, "editor", "GET", f"/api/editor/entries/{created.json()['id']}")
    assert entry.headers["content-type"].startswith("application/json")
    assert entry.json()["answer"] == markup
