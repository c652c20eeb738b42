"""The API behind the browser UIs, over HTTP with a real SQLite database and Rasa down for real:
the widget's live stream and its per-conversation token, CSAT, `/api/me`, the KB editor's
endpoints and their role checks, the unanswered-questions list, and the pages themselves."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from actions import replies as bot_replies
from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from common import bot_protocol
from config.settings import Settings
from db.engine import session_factory
from kb.interchange import parse_file
from tests.support.sse import events

WEB = "/api/channels/web"
DRAFT = {
    "question": "星联卡在南极科考站能用吗？",
    "similar_questions": ["去南极手机有信号吗", "南极能不能打电话"],
    "answer": "南极科考站暂未开通星联漫游服务，可使用站内卫星电话。",
    "category": "roaming",
    "tags": ["漫游"],
}


class UI:
    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client, self.keys = client, keys

    def as_(self, who: str | None, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def say(self, customer: str, text: str, conversation_id: str | None = None):
        body = {"customer_id": customer, "text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = self.client.post(f"{WEB}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json(), response.headers["X-Conversation-Token"]

    def stream(self, conversation_id: str, token: str, after: int = 0, **headers):
        return self.client.get(f"{WEB}/conversations/{conversation_id}/events",
                               params={"token": token, "after": after}, headers=headers)


@pytest.fixture(scope="module")
def ui(tmp_path_factory, demo_records):
    var = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{var / 'app.sqlite3'}"
    settings = Settings(database_url=url, var_dir=var / "var", rasa_url="http://127.0.0.1:9",
                        business_open="00:00", business_close="24:00",
                        live_stream_max_s=0.4, live_poll_interval_s=0.05)
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    client.__enter__()
    client.app.state.store.import_records(demo_records[:40], actor="test")
    store = KeyStore(session_factory(url))
    keys = {"agent": store.create("agent-li", Role.agent), "editor": store.create("ed-wang", Role.editor),
            "admin": store.create("root", Role.admin)}
    yield UI(client, keys)
    client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def demo_records():
    from tests.support.demo_kb import DEMO_KB
    return parse_file(DEMO_KB).records


def customer() -> str:
    return f"web-{uuid.uuid4().hex[:10]}"


# ---- pages -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "marker"), [("/demo", "widget.js"), ("/console", "console.js"),
                                              ("/editor", "editor.js")])
def test_pages_are_served(ui, path, marker):
    response = ui.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert marker in response.text and 'lang="zh-CN"' in response.text


def test_staff_pages_load_es_modules_that_resolve_without_a_build_step(ui):
    """Each staff page loads one module; every `import … from "./x.js"` names a file the gateway
    serves as JavaScript (browsers refuse modules of another type)."""
    for page, entry in (("/console", "console.js"), ("/editor", "editor.js"), ("/reports", "reports.js")):
        scripts = re.findall(r"<script\b[^>]*>", ui.client.get(page).text)
        assert scripts == [f'<script type="module" src="/ui/{entry}">'], page
    seen, todo = set(), ["console.js", "editor.js", "reports.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        response = ui.client.get(f"/ui/{name}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"], name
        todo += re.findall(r'^import [^;]+ from "\./([\w-]+\.js)";$', response.text, flags=re.M)
    assert {"api.js", "common.js", "labels.js", "live.js", "alerts.js"} <= seen


def test_widget_script_is_served_and_never_parses_message_html(ui):
    response = ui.client.get("/ui/widget.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    assert "innerHTML" not in response.text
    assert ui.client.get("/widget.js", follow_redirects=False).headers["location"] == "/ui/widget.js"


# ---- the widget's live stream ------------------------------------------------------------------

def test_the_stream_sends_the_conversation_then_agent_replies_and_state(ui):
    who = customer()
    reply, token = ui.say(who, "我的宽带连不上")
    conv = reply["conversation_id"]
    queued, token2 = ui.say(who, "转人工", conv)
    assert queued["state"] == "queued" and token2 == token
    [record] = [r for r in ui.as_("agent", "GET", "/api/handoffs").json() if r["conversation_id"] == conv]
    assert ui.as_("agent", "POST", f"/api/handoffs/{record['id']}/claim").status_code == 200
    sent = ui.as_("agent", "POST", f"/api/conversations/{conv}/agent-messages", json={"text": "您好，我是客服小李。"})
    assert sent.status_code == 200

    response = ui.stream(conv, token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    messages = [d for name, d, _ in got if name == "message"]
    assert [m["sender"] for m in messages][:2] == ["customer", "bot"]
    assert messages[-1]["sender"] == "agent" and messages[-1]["text"] == "您好，我是客服小李。"
    assert [int(i) for n, _, i in got if n == "message"] == [m["id"] for m in messages]
    assert ("state", {"state": "agent"}) in [(n, d) for n, d, _ in got]

    # Resuming: only what came after the last id seen (query or the browser's Last-Event-ID).
    last = messages[-1]["id"]
    assert [d for n, d, _ in events(ui.stream(conv, token, after=last).text) if n == "message"] == []
    resumed = events(ui.stream(conv, token, **{"Last-Event-ID": str(messages[-2]["id"])}).text)
    assert [d["id"] for n, d, _ in resumed if n == "message"] == [last]


def test_a_customer_cannot_open_another_conversations_stream(ui):
    alice, mallory = customer(), customer()
    conv_a = ui.say(alice, "我的身份证110101199003071234")[0]["conversation_id"]
    conv_m, token_m = ui.say(mallory, "你好")
    for conv, token in [(conv_a, token_m), (conv_a, "0" * 40), (conv_a, ""), (uuid.uuid4().hex, token_m)]:
        response = ui.client.get(f"{WEB}/conversations/{conv}/events", params={"token": token})
        assert response.status_code in (404, 422)
        assert "110101" not in response.text
    wrong = ui.stream(conv_a, token_m)
    unknown = ui.stream(uuid.uuid4().hex, token_m)
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    assert ui.stream(conv_m["conversation_id"], token_m).status_code == 200


def test_csat_only_for_a_closed_agent_conversation_once(ui):
    who = customer()
    conv, token = ui.say(who, "宽带坏了")
    conv = conv["conversation_id"]
    def rate(score, tok=token):
        return ui.client.post(f"{WEB}/conversations/{conv}/csat", params={"token": tok}, json={"score": score})

    assert rate(5).status_code == 409  # still with the bot
    ui.say(who, "转人工", conv)
    [record] = [r for r in ui.as_("agent", "GET", "/api/handoffs").json() if r["conversation_id"] == conv]
    ui.as_("agent", "POST", f"/api/handoffs/{record['id']}/claim")
    assert rate(5).status_code == 409  # not closed yet
    assert ui.as_("agent", "POST", f"/api/handoffs/{record['id']}/close").status_code == 200
    assert rate(0).status_code == 422 and rate(6).status_code == 422
    assert rate(4, "0" * 40).status_code == 404
    done = rate(4)
    assert done.status_code == 201 and done.json() == {"conversation_id": conv, "score": 4, "handoff_id": record["id"]}
    assert rate(5).status_code == 409


# ---- /api/me ----------------------------------------------------------------------------------

def test_me_names_the_key_holder(ui):
    assert ui.as_(None, "GET", "/api/me").status_code == 401
    assert ui.client.get("/api/me", headers={"X-API-Key": "nope"}).status_code == 401
    assert ui.as_("agent", "GET", "/api/me").json() == {"name": "agent-li", "role": "agent"}
    assert ui.as_("editor", "GET", "/api/me").json() == {"name": "ed-wang", "role": "editor"}


# ---- the KB editor ----------------------------------------------------------------------------

EDITOR_CALLS = [
    ("GET", "/api/editor/entries", None),
    ("GET", "/api/editor/entries/x", None),
    ("POST", "/api/editor/entries", DRAFT),
    ("PUT", "/api/editor/entries/x", DRAFT),
    ("POST", "/api/editor/entries/x/transition", {"to": "review"}),
    ("GET", "/api/editor/entries/x/history", None),
    ("POST", "/api/editor/entries/x/restore", {"version": 1}),
    ("POST", "/api/editor/test", {"query": "宽带"}),
    ("GET", "/api/editor/unanswered", None),
]


@pytest.mark.parametrize(("method", "path", "body"), EDITOR_CALLS)
def test_editor_endpoints_need_the_editor_role(ui, method, path, body):
    assert ui.as_(None, method, path, json=body).status_code == 401
    assert ui.client.request(method, path, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert ui.as_("agent", method, path, json=body).status_code == 403
    assert ui.as_("editor", method, path, json=body).status_code not in (401, 403)
    assert ui.as_("admin", method, path, json=body).status_code not in (401, 403)


def test_draft_review_publish_with_history_diff_and_restore(ui):
    def ed(method, path, **kw):
        return ui.as_("editor", method, path, **kw)

    created = ed("POST", "/api/editor/entries", json=DRAFT)
    assert created.status_code == 201, created.text
    entry = created.json()
    eid = entry["id"]
    assert eid.startswith("roaming-") and entry["status"] == "draft" and entry["version"] == 1
    # A draft is not searchable, but the trial search can count it as published.
    found = ui.client.post("/api/kb/search", json={"query": "南极能打电话吗"}).json()["results"]
    assert all(r["id"] != eid for r in found)
    trial = ed("POST", "/api/editor/test", json={"query": "南极能不能打电话", "draft_id": eid}).json()
    assert trial["results"][0]["id"] == eid and trial["results"][0]["is_draft"]
    assert trial["decision"] in ("answer", "clarify") and set(trial["thresholds"]) == {"answer", "clarify", "margin"}
    assert all(0 <= r["confidence"] <= 1 for r in trial["results"])
    published_only = ed("POST", "/api/editor/test", json={"query": "南极能不能打电话"}).json()
    assert all(r["id"] != eid for r in published_only["results"])
    unsaved = ed("POST", "/api/editor/test", json={"query": "南极能不能打电话", "draft": DRAFT}).json()
    assert unsaved["results"][0]["is_draft"]
    # The pane says what was searched once the greeting, the number and the 急 were set aside.
    noisy = ed("POST", "/api/editor/test", json={"query": "你好，我的手机号13812345678，南极能不能打电话？急",
                                                 "draft_id": eid}).json()
    assert noisy["searched_as"] == "南极能不能打电话" and noisy["results"][0]["id"] == eid

    edited = ed("PUT", f"/api/editor/entries/{eid}",
                json={**DRAFT, "similar_questions": [*DRAFT["similar_questions"], "南极科考站手机能用吗"],
                      "expected_version": 1})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = ed("PUT", f"/api/editor/entries/{eid}", json={**DRAFT, "expected_version": 1})
    assert stale.status_code == 409 and "changed meanwhile" in stale.json()["detail"]
    assert ed("POST", f"/api/editor/entries/{eid}/transition", json={"to": "published"}).status_code == 409
    assert ed("POST", f"/api/editor/entries/{eid}/transition", json={"to": "review"}).json()["status"] == "review"
    published = ed("POST", f"/api/editor/entries/{eid}/transition", json={"to": "published"}).json()
    assert published["status"] == "published" and published["version"] == 4
    assert ui.client.get(f"/api/kb/entries/{eid}").status_code == 200

    history = ed("GET", f"/api/editor/entries/{eid}/history").json()
    assert [h["version"] for h in history] == [4, 3, 2, 1]
    assert [h["action"] for h in history] == ["transition", "transition", "update", "create"]
    assert all(h["actor"] == "ed-wang" for h in history)
    [change] = history[2]["changes"]
    assert change["field"] == "similar_questions" and change["added"] == ["南极科考站手机能用吗"]
    assert history[0]["changes"] == [{"field": "status", "before": "review", "after": "published"}]

    restored = ed("POST", f"/api/editor/entries/{eid}/restore", json={"version": 1}).json()
    assert restored["version"] == 5 and restored["status"] == "published"
    assert restored["similar_questions"] == DRAFT["similar_questions"]
    assert ed("POST", f"/api/editor/entries/{eid}/restore", json={"version": 99}).status_code == 404

    listed = ed("GET", "/api/editor/entries", params={"q": "南极科考站"}).json()
    assert listed[0]["id"] == eid  # the latest change first
    published = ed("GET", "/api/editor/entries", params={"status": "published"}).json()
    assert all(e["status"] == "published" for e in published)


@pytest.mark.parametrize(("body", "reason"), [
    ({**DRAFT, "category": "weather"}, "unknown category"),
    ({**DRAFT, "similar_questions": ["一样", "一样"]}, "duplicates"),
    ({**DRAFT, "id": "bad id!"}, "pattern"),
    ({**DRAFT, "question": "   "}, "question"),
])
def test_bad_entries_are_refused_with_a_reason_and_store_nothing(ui, body, reason):
    before = len(ui.as_("editor", "GET", "/api/editor/entries").json())
    response = ui.as_("editor", "POST", "/api/editor/entries", json=body)
    assert response.status_code == 422 and reason in response.text
    assert len(ui.as_("editor", "GET", "/api/editor/entries").json()) == before


def test_an_existing_id_is_a_conflict_and_unknown_ids_404(ui):
    first = ui.as_("editor", "GET", "/api/editor/entries").json()[0]["id"]
    assert ui.as_("editor", "POST", "/api/editor/entries", json={**DRAFT, "id": first}).status_code == 409
    assert ui.as_("editor", "GET", "/api/editor/entries/nope-404").status_code == 404
    assert ui.as_("editor", "GET", "/api/editor/entries/nope-404/history").status_code == 404


def test_unanswered_questions_come_from_clarify_no_answer_unhelpful_and_handoffs(ui):
    conversations = ui.client.app.state.conversations
    a, b, c = customer(), customer(), customer()
    conv_a = ui.say(a, "我家猫把光纤咬断了怎么办")[0]["conversation_id"]
    # The bot's decision is data stored with its reply; the wording plays no part.
    clarify = {"text": bot_replies.CLARIFY_PROMPT, "buttons": [{"title": "x", "payload": "/choose_entry"}]}
    conversations.reply(conv_a, [clarify], bot_protocol.clarified(["broadband-006"], 0.5))
    conv_b = ui.say(b, "我家猫把光纤咬断了怎么办 ")[0]["conversation_id"]
    conversations.reply(conv_b, [{"text": "换个说法试试？"}], bot_protocol.missed(0.1))
    conv_c = ui.say(c, "积分能换火车票吗")[0]["conversation_id"]
    conversations.add_message(conv_c, "bot", "积分可以兑换话费。")
    ui.say(c, '/feedback_unhelpful{"entry_id": "billing-001"}', conv_c)
    ui.say(c, "转人工", conv_c)

    found = {i["text"]: i for i in ui.as_("editor", "GET", "/api/editor/unanswered").json()}
    cat = found["我家猫把光纤咬断了怎么办"]
    assert cat["count"] == 2 and cat["kinds"] == {"clarify": 1, "no_answer": 1}
    points = found["积分能换火车票吗"]
    assert points["kinds"] == {"unhelpful": 1, "handoff": 1} and points["entry_ids"] == ["billing-001"]
    assert points["conversation_id"] == conv_c
    assert "转人工" not in found and not any(t.startswith("/") for t in found)
    only = ui.as_("editor", "GET", "/api/editor/unanswered", params={"kind": "unhelpful"}).json()
    assert [i["text"] for i in only] == ["积分能换火车票吗"]


def test_the_unhelpful_button_the_bot_sends_is_what_the_unanswered_list_reads():
    payload = bot_replies.feedback_buttons("e")[1]["payload"]
    assert bot_protocol.intent_of(payload) == bot_protocol.UNHELPFUL_PAYLOAD
    assert bot_protocol.entry_of(payload) == "e"
