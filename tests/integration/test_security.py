"""Security of the gateway (issue 8, deliverable 5): the role matrix of every endpoint, generated
from the app's routes against a table written here (a route the table does not cover fails),
customers kept out of each other's conversations, the KB audit log append-only through the API,
hashed credentials, PII kept out of the database and the JSON logs, rate limits and the
security headers on pages and API responses. Rasa is down for real (port 9), as in
test_gateway_api: the gateway apologises and 转人工 still works."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy import text as sql

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from assist_api.security.headers import PAGE_CSP
from assist_api.security.rate_limit import REFUSED, TokenBucketLimiter
from common.observability.logs import JsonFormatter
from config.settings import PROJECT_ROOT, Settings
from db.engine import get_engine, session_factory

WEB = "/api/channels/web"
UI_DIR = PROJECT_ROOT / "assist_api" / "ui"
ROLES = tuple(role.value for role in Role)

# ---- who may call what -------------------------------------------------------------------------
PUBLIC = "public"          # anyone, no credentials
CUSTOMER = "customer"      # no API key: scoped to the customer's own conversation (id / token)
SERVICE = "service"        # the action server's X-Service-Token; API keys do not open it
WECHAT = "wechat"          # WeChat's signature; API keys do not open it
ANY_KEY = "any key"        # any valid API key


def roles(*names: str) -> frozenset[str]:
    return frozenset(names) | {"admin"}


AGENT, EDITOR, SUPERVISOR = roles("agent"), roles("editor"), roles("supervisor")

# (method, path) -> policy. Every route of the app must be here (see test_the_table_covers_every_route).
POLICY: dict[tuple[str, str], object] = {
    ("GET", "/openapi.json"): PUBLIC, ("GET", "/docs"): PUBLIC, ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC, ("GET", "/health"): PUBLIC, ("GET", "/metrics"): PUBLIC,
    ("GET", "/demo"): PUBLIC, ("GET", "/console"): PUBLIC, ("GET", "/editor"): PUBLIC,
    ("GET", "/reports"): PUBLIC, ("GET", "/widget.js"): PUBLIC, ("GET", "/ui"): PUBLIC,
    ("POST", "/api/kb/search"): PUBLIC, ("GET", "/api/kb/entries"): PUBLIC,
    ("GET", "/api/kb/entries/{entry_id}"): PUBLIC,
    ("GET", "/api/labels"): PUBLIC,  # label names only: the pages load them before sign-in
    ("POST", f"{WEB}/messages"): CUSTOMER,
    ("GET", f"{WEB}/conversations/{{conversation_id}}/messages"): CUSTOMER,
    ("GET", f"{WEB}/conversations/{{conversation_id}}/events"): CUSTOMER,
    ("POST", f"{WEB}/conversations/{{conversation_id}}/csat"): CUSTOMER,
    ("GET", "/api/channels/wechat"): WECHAT, ("POST", "/api/channels/wechat"): WECHAT,
    ("GET", "/api/channels/wechat/deliveries"): AGENT,
    ("GET", "/api/handoffs"): AGENT, ("GET", "/api/handoffs/{handoff_id}"): AGENT,
    ("POST", "/api/handoffs/{handoff_id}/claim"): AGENT, ("POST", "/api/handoffs/{handoff_id}/resolve"): AGENT,
    ("POST", "/api/handoffs/{handoff_id}/close"): AGENT, ("POST", "/api/handoffs/{handoff_id}/reopen"): AGENT,
    ("POST", "/api/handoffs/{handoff_id}/transfer"): AGENT,
    ("GET", "/api/conversations/{conversation_id}/messages"): AGENT,
    ("POST", "/api/stream-tickets"): AGENT, ("GET", "/api/handoffs/events"): AGENT,
    ("GET", "/api/conversations/{conversation_id}/events"): AGENT,
    ("POST", "/api/conversations/{conversation_id}/agent-messages"): AGENT,
    ("POST", "/api/assist/classify"): AGENT, ("POST", "/api/assist/suggest"): AGENT,
    ("POST", "/api/assist/events"): AGENT, ("GET", "/api/assist/events/export"): SUPERVISOR,
    ("POST", "/api/handoffs/{handoff_id}/corrections"): roles("agent", "supervisor"),
    ("GET", "/api/templates"): AGENT, ("GET", "/api/templates/{template_id}"): AGENT,
    ("POST", "/api/templates"): EDITOR, ("PUT", "/api/templates/{template_id}"): EDITOR,
    ("DELETE", "/api/templates/{template_id}"): EDITOR,
    ("POST", "/api/internal/handoffs"): SERVICE,
    ("GET", "/api/internal/conversations/{conversation_id}/handoff"): SERVICE,
    ("POST", "/api/internal/feedback"): SERVICE,
    ("GET", "/api/me"): ANY_KEY,
    ("GET", "/api/editor/entries"): EDITOR, ("GET", "/api/editor/entries/{entry_id}"): EDITOR,
    ("POST", "/api/editor/entries"): EDITOR, ("PUT", "/api/editor/entries/{entry_id}"): EDITOR,
    ("POST", "/api/editor/entries/{entry_id}/transition"): EDITOR,
    ("GET", "/api/editor/entries/{entry_id}/history"): EDITOR,
    ("POST", "/api/editor/entries/{entry_id}/restore"): EDITOR,
    ("POST", "/api/editor/test"): EDITOR, ("GET", "/api/editor/unanswered"): EDITOR,
    ("GET", "/api/reports/summary"): SUPERVISOR, ("GET", "/api/reports/view"): SUPERVISOR,
    ("GET", "/api/reports/export.csv"): SUPERVISOR, ("GET", "/api/reports/range"): SUPERVISOR,
    ("GET", "/api/reports/unanswered"): roles("supervisor", "editor"),
    ("POST", "/api/reports/unanswered/drafts"): EDITOR,
}


def app_routes(app) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        methods = sorted((getattr(route, "methods", None) or {"GET"}) - {"HEAD", "OPTIONS"})
        out += [(m, route.path) for m in methods]
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "handoff_id" else "sec-x1", path)


# ---- the gateway -------------------------------------------------------------------------------

def open_app(tmp: Path, **overrides) -> tuple[TestClient, dict[str, str], str]:
    url = f"sqlite:///{tmp / 'app.sqlite3'}"
    settings = Settings(database_url=url, var_dir=tmp / "var", rasa_url="http://127.0.0.1:9",
                        business_open="00:00", business_close="24:00", **overrides)
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    client.__enter__()
    store = KeyStore(session_factory(url))
    keys = {role: store.create(f"sec-{role}", Role(role)) for role in ROLES}
    keys["revoked"] = store.create("sec-gone", Role.admin)
    store.revoke("sec-gone")
    return client, keys, url


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    # Event streams end within a second here (the agent streams are in the role matrix).
    client, keys, url = open_app(tmp_path_factory.mktemp("security"), live_stream_max_s=0.3)
    client.keys, client.db_url = keys, url
    yield client
    client.__exit__(None, None, None)


def rows(url: str, query: str, **params) -> list:
    with get_engine(url).connect() as conn:
        return list(conn.execute(sql(query), params))


def say(client, who: str, text: str, conversation_id: str | None = None, **extra):
    body = {"customer_id": who, "text": text, **extra}
    if conversation_id:
        body["conversation_id"] = conversation_id
    return client.post(f"{WEB}/messages", json=body)


def new_customer() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


# ---- the role matrix ---------------------------------------------------------------------------

def test_the_table_covers_every_route(gw):
    missing = sorted(set(app_routes(gw.app)) - set(POLICY))
    assert not missing, f"routes without an entry in tests/integration/test_security.py POLICY: {missing}"
    stale = sorted(set(POLICY) - set(app_routes(gw.app)))
    assert not stale, f"POLICY names routes the app no longer has: {stale}"


def _call(client, method: str, path: str, headers: dict | None = None):
    body = {} if method in ("POST", "PUT") else None
    return client.request(method, concrete(path), headers=headers or {}, json=body)


def _role_refusal(response) -> bool:
    return response.status_code == 403 and "role" in response.text


MATRIX = [(method, path, caller) for (method, path), policy in POLICY.items()
          if isinstance(policy, frozenset) or policy in (ANY_KEY, SERVICE)
          for caller in ("anonymous", "customer", "revoked", *ROLES)]


@pytest.mark.parametrize(("method", "path", "caller"), MATRIX, ids=[f"{m} {p} as {c}" for m, p, c in MATRIX])
def test_role_matrix(gw, method, path, caller, customer_token):
    policy = POLICY[(method, path)]
    headers = ({} if caller == "anonymous" else bearer(customer_token) if caller == "customer"
               else bearer(gw.keys[caller]))
    response = _call(gw, method, path, headers)
    if caller in ("anonymous", "customer", "revoked") or policy == SERVICE:
        assert response.status_code == 401, (response.status_code, response.text)
    elif policy == ANY_KEY or caller in policy:
        assert response.status_code not in (401, 405) and not _role_refusal(response), response.text
    else:
        assert response.status_code == 403 and "role" in response.json()["detail"], response.text


def test_the_service_token_opens_only_the_internal_api(gw):
    token = {"X-Service-Token": gw.app.state.service_token}
    for (method, path), policy in POLICY.items():
        response = _call(gw, method, path, token)
        if policy == SERVICE:
            assert response.status_code != 401, path
        elif isinstance(policy, frozenset):
            assert response.status_code == 401, path


@pytest.mark.parametrize("caller", ["anonymous", *ROLES])
def test_api_keys_do_not_open_the_wechat_endpoint(gw, caller):
    headers = bearer(gw.keys[caller]) if caller != "anonymous" else {}
    for method in ("GET", "POST"):
        params = {"signature": "0" * 40, "timestamp": "1", "nonce": "n", "echostr": "e", "openid": "o"}
        response = gw.request(method, "/api/channels/wechat", params=params, headers=headers,
                              content=b"<xml></xml>")
        assert response.status_code in (400, 403, 503), response.text  # 503: no WeChat token here


@pytest.mark.parametrize(("method", "path"), [k for k, v in POLICY.items() if v == PUBLIC and "{" not in k[1]
                                              and k[1] != "/ui"])
def test_public_endpoints_need_no_credentials(gw, method, path):
    response = gw.request(method, path, json={"query": "话费"} if method == "POST" else None)
    assert response.status_code == 200, response.text


# ---- customers stay in their own conversations -------------------------------------------------

@pytest.fixture(scope="module")
def customer_token(gw) -> str:
    response = say(gw, new_customer(), "你好")
    return response.headers["X-Conversation-Token"]


def test_a_customer_cannot_read_another_customers_conversation(gw):
    alice, mallory = new_customer(), new_customer()
    first = say(gw, alice, "我的宽带连不上")
    conv, token = first.json()["conversation_id"], first.headers["X-Conversation-Token"]
    other = say(gw, mallory, "你好")
    other_token = other.headers["X-Conversation-Token"]

    own = gw.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": alice})
    assert own.status_code == 200 and own.json()[0]["text"] == "我的宽带连不上"
    stolen = gw.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": mallory})
    assert stolen.status_code == 404 and "宽带" not in stolen.text
    # posting into someone else's conversation does not join it
    assert say(gw, mallory, "我也来", conv).status_code == 404
    assert len(gw.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": alice}).json()) == 2

    for bad in (other_token, token[:-2] + ("aa" if not token.endswith("aa") else "bb"), "x"):
        events = gw.get(f"{WEB}/conversations/{conv}/events", params={"token": bad})
        assert events.status_code == 404 and "宽带" not in events.text
        csat = gw.post(f"{WEB}/conversations/{conv}/csat", params={"token": bad}, json={"score": 1})
        assert csat.status_code == 404
    # the right token is accepted (the conversation is still open, so no rating yet)
    assert gw.post(f"{WEB}/conversations/{conv}/csat", params={"token": token}, json={"score": 5}).status_code == 409
    # the staff-side transcript needs an agent key, not a customer's token
    assert gw.get(f"/api/conversations/{conv}/messages", headers=bearer(token)).status_code == 401


# ---- the audit log is append-only through the API ------------------------------------------------

def test_the_kb_audit_log_only_grows_through_the_editor_api(gw):
    editor = bearer(gw.keys["editor"])
    url = gw.db_url

    def snapshot():
        audit = [tuple(r) for r in rows(url, "SELECT * FROM audit_log ORDER BY id")]
        versions = [tuple(r) for r in rows(url, "SELECT * FROM kb_entry_versions ORDER BY entry_id, version")]
        return audit, versions

    entry = {"id": "roaming-951", "question": "南极能打电话吗", "answer": "暂未开通。", "category": "roaming"}
    steps = [
        ("POST", "/api/editor/entries", entry),
        ("PUT", "/api/editor/entries/roaming-951", {**entry, "answer": "仍未开通。", "expected_version": 1}),
        ("POST", "/api/editor/entries/roaming-951/transition", {"to": "review"}),
        ("POST", "/api/editor/entries/roaming-951/restore", {"version": 1}),
    ]
    for method, path, body in steps:
        before_audit, before_versions = snapshot()
        response = gw.request(method, path, json=body, headers=editor)
        assert response.status_code in (200, 201), response.text
        after_audit, after_versions = snapshot()
        assert after_audit[:len(before_audit)] == before_audit, f"{method} {path} changed old audit rows"
        assert len(after_audit) == len(before_audit) + 1
        assert after_audit[-1][2] == "sec-editor"  # actor
        assert set(before_versions) <= set(after_versions) and len(after_versions) == len(before_versions) + 1

    history = gw.get("/api/editor/entries/roaming-951/history", headers=editor).json()
    assert [h["version"] for h in history] == [4, 3, 2, 1]
    # no route writes the history or the audit log directly, for any method or role
    admin = bearer(gw.keys["admin"])
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/api/editor/entries/roaming-951/history", "/api/editor/audit", "/api/audit"):
            assert gw.request(method, path, headers=admin, json={}).status_code in (404, 405)
    writes = [p for m, p in app_routes(gw.app) if m in ("PUT", "PATCH", "DELETE") and
              re.search(r"audit|history|events|versions", p)]
    assert writes == []
    # nothing deletes KB entries through the API either (archiving is a new version)
    assert gw.delete("/api/editor/entries/roaming-951", headers=admin).status_code == 405


# ---- credentials are stored hashed --------------------------------------------------------------

def test_api_keys_are_stored_only_as_hashes(gw):
    columns = [c["name"] for c in inspect(get_engine(gw.db_url)).get_columns("api_keys")]
    assert not {"key", "api_key", "secret", "token", "plaintext"} & set(columns)
    stored = rows(gw.db_url, "SELECT * FROM api_keys")
    dump = " ".join(str(v) for row in stored for v in row)
    for role in (*ROLES, "revoked"):
        key = gw.keys[role]
        assert key not in dump and key.split("_", 2)[-1] not in dump
        assert hashlib.sha256(key.encode()).hexdigest() in dump


# ---- PII in stored transcripts and in the JSON logs ---------------------------------------------

PII = {  # raw value -> what the customer writes
    "13812345678": "我的手机13812345678",
    "139 1234 5678": "备用号码 139 1234 5678",
    "+86 13712345678": "或者 +86 13712345678",
    "110101199003074518": "身份证110101199003074518",
    "11010119900307451X": "旧证号11010119900307451X",
    "6222021234567890123": "银行卡6222021234567890123",
    "6222 0212 3456 7890": "另一张卡 6222 0212 3456 7890",
    "4000-1234-5678-9010": "信用卡4000-1234-5678-9010",
}


def _digits(raw: str) -> str:
    return re.sub(r"\D", "", raw)


@pytest.fixture
def json_log():
    """Collects JSON log lines; attach() after the app's start-up (which resets the root handlers)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("gateway"))
    root = logging.getLogger()
    old_level = root.level

    def attach():
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)

    buffer.attach = attach
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_pii_reaches_neither_the_database_nor_the_logs(tmp_path, json_log):
    client, keys, url = open_app(tmp_path)
    json_log.attach()
    try:
        who = new_customer()
        profile = {"name": "王女士", "phone": "13812345678", "city": "杭州"}
        first = say(client, who, "你好，" + "，".join(PII.values()), profile=profile)
        assert first.status_code == 200, first.text
        conv = first.json()["conversation_id"]
        for text in PII.values():
            assert say(client, who, text, conv).status_code == 200
        assert say(client, who, "转人工", conv).json()["state"] == "queued"
        agent = bearer(keys["agent"])
        [record] = [r for r in client.get("/api/handoffs", headers=agent).json() if r["conversation_id"] == conv]
        assert client.post(f"/api/handoffs/{record['id']}/claim", headers=agent).status_code == 200
        assert client.get(f"/api/conversations/{conv}/messages", headers=agent).status_code == 200

        # the customer's own view and the database hold only masked forms
        seen = client.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": who}).json()
        assert "138****5678" in seen[0]["text"] and "1101********4518" not in seen[0]["text"]
        engine = get_engine(url)
        tables = inspect(engine).get_table_names()
        dump = []
        with engine.connect() as conn:
            for table in tables:
                dump += [str(v) for row in conn.execute(sql(f'SELECT * FROM "{table}"')) for v in row]
        stored = "\n".join(dump)
        assert "138****5678" in stored and "110101********4518" in stored  # the masked forms are there
    finally:
        client.__exit__(None, None, None)
    logs = json_log.getvalue()
    assert logs.count("\n") > 5  # the conversation was logged
    flat_stored, flat_logs = re.sub(r"[\s+-]", "", stored), re.sub(r"[\s+-]", "", logs)
    for raw in PII:
        assert _digits(raw) not in flat_stored, f"{raw} stored unmasked"
        assert _digits(raw) not in flat_logs, f"{raw} logged unmasked"


# ---- rate limits --------------------------------------------------------------------------------

def test_token_bucket_refills_and_is_all_or_nothing():
    now = [0.0]
    bucket = TokenBucketLimiter(clock=lambda: now[0])
    limit = [("c", 2, 1.0)]
    assert bucket.acquire(limit) == 0 and bucket.acquire(limit) == 0
    assert bucket.acquire(limit) == pytest.approx(1.0)
    now[0] = 0.5
    assert bucket.acquire(limit) == pytest.approx(0.5)
    now[0] = 1.0
    assert bucket.acquire(limit) == 0
    # two buckets: one empty means neither is charged
    assert bucket.acquire([("d", 5, 1.0), ("c", 2, 1.0)]) > 0
    now[0] = 2.0
    assert bucket.acquire([("d", 5, 1.0)]) == 0
    small = TokenBucketLimiter(max_keys=2, clock=lambda: now[0])
    for key in "abc":
        small.acquire([(key, 1, 0.001)])
    assert small.acquire([("a", 1, 0.001)]) == 0  # forgotten, so full again: never stricter


def _refused(response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["detail"] == REFUSED
    assert int(response.headers["Retry-After"]) >= 1


def test_rate_limit_per_customer_refuses_with_429_and_stores_nothing(tmp_path):
    client, _, url = open_app(tmp_path, rate_limit_customer_burst=3, rate_limit_customer_per_s=0.01)
    try:
        who = new_customer()
        conv = say(client, who, "你好").json()["conversation_id"]
        assert say(client, who, "在吗", conv).status_code == 200
        assert client.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": who}).status_code == 200
        count = rows(url, "SELECT count(*) FROM messages")[0][0]
        refused = say(client, who, "我的手机13812345678 再问一次", conv)
        _refused(refused)
        assert int(refused.headers["Retry-After"]) >= 90  # one token at 0.01/s
        _refused(say(client, who, "换个会话"))  # no conversation id: still the same customer
        _refused(client.get(f"{WEB}/conversations/{conv}/messages", params={"customer_id": who}))
        assert rows(url, "SELECT count(*) FROM messages")[0][0] == count
        assert rows(url, "SELECT count(*) FROM conversations")[0][0] == 1
        assert say(client, new_customer(), "你好").status_code == 200  # others are not affected
    finally:
        client.__exit__(None, None, None)


def test_rate_limit_per_ip_covers_every_customer_endpoint(tmp_path):
    client, _, url = open_app(tmp_path, rate_limit_ip_burst=4, rate_limit_ip_per_s=0.01)
    try:
        first = say(client, new_customer(), "你好")
        conv, token = first.json()["conversation_id"], first.headers["X-Conversation-Token"]
        for _ in range(3):
            assert say(client, new_customer(), "你好").status_code == 200
        count = rows(url, "SELECT count(*) FROM messages")[0][0]
        _refused(say(client, new_customer(), "你好"))
        _refused(client.get(f"{WEB}/conversations/{conv}/events", params={"token": token}))
        _refused(client.post(f"{WEB}/conversations/{conv}/csat", params={"token": token}, json={"score": 5}))
        _refused(client.get(f"{WEB}/conversations/{conv}/events", params={"token": "guess"}))
        assert rows(url, "SELECT count(*) FROM messages")[0][0] == count
        # staff endpoints and the pages are not customer endpoints
        assert client.get("/health").status_code == 200 and client.get("/console").status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_rate_limits_can_be_switched_off(tmp_path):
    client, _, _ = open_app(tmp_path, rate_limit_enabled=False, rate_limit_ip_burst=1, rate_limit_ip_per_s=0.01)
    try:
        assert all(say(client, new_customer(), "你好").status_code == 200 for _ in range(3))
    finally:
        client.__exit__(None, None, None)


def test_default_limits_leave_room_for_the_widget_benchmark():
    s = Settings()
    assert s.rate_limit_enabled
    assert s.rate_limit_customer_burst >= 100  # bench/widget_bench.py: 100 turns from one customer
    assert s.rate_limit_ip_burst >= 5 * s.rate_limit_customer_burst // 2


# ---- security headers ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/console", "/editor", "/reports", "/ui/console.html"])
def test_staff_pages_have_a_csp_and_refuse_framing(gw, path):
    response = gw.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp and "object-src 'none'" in csp
    assert "unsafe-eval" not in csp


def test_the_demo_page_has_a_csp(gw):
    response = gw.get("/demo")
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_widget_script_stays_embeddable(gw):
    response = gw.get("/widget.js")  # redirects to /ui/widget.js
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for header in ("X-Frame-Options", "Content-Security-Policy", "Cross-Origin-Resource-Policy"):
        assert header not in response.headers
    cors = gw.post(f"{WEB}/messages", json={"customer_id": new_customer(), "text": "你好"},
                   headers={"Origin": "https://shop.example.com"})
    assert cors.status_code == 200 and cors.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/health", "/api/kb/entries", "/api/me", "/metrics", "/nowhere"])
def test_api_responses_have_nosniff_and_a_referrer_policy(gw, path):
    response = gw.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_pages_need_no_inline_scripts():
    """The CSP allows scripts only from the gateway: no inline <script>, on…= handlers or javascript: URLs."""
    for page in UI_DIR.glob("*.html"):
        html = page.read_text("utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
            assert "src=" in tag, f"{page.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I), page.name
        assert "javascript:" not in html.lower(), page.name
    for script in UI_DIR.glob("*.js"):
        code = script.read_text("utf-8")
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"']", code), script.name
