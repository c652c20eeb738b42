"""The WeChat official-account channel through the gateway's HTTP endpoint, with a fake bot
(fast or slow on demand), a real SQLite database and a local fake of WeChat's API server on
loopback: URL verification, plain and safe mode, passive replies, the customer-service API for
late answers and agent replies, MsgId deduplication, replay and XXE refusal."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest
import xmltodict
from fastapi.testclient import TestClient
from sqlalchemy import text as sql
from starlette.concurrency import run_in_threadpool

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import get_engine, session_factory
from gateway.channels.wechat.channel import TEXT_ONLY, WELCOME
from gateway.handoffs.models import HandoffReason
from tests.support.wechat_fake import (
    AES_KEY,
    APP_ID,
    SECRET,
    TOKEN,
    FakeWeChatAPI,
    WeChatPush,
    event_xml,
    image_xml,
    sign,
    text_xml,
)

URL = "/api/channels/wechat"
BUDGET_S = 1.0
KB_ANSWER = "宽带频繁掉线，请先重启**光猫**；仍不行请拨打10050报修。"
HELPFUL = "/feedback_helpful{\"entry_id\": \"broadband-006\"}"


class FakeBot:
    """Stands in for the Rasa client: canned answers, an optional delay per text, and a log
    of every turn (to count bot turns)."""

    def __init__(self, app) -> None:
        self.app = app
        self.turns: list[tuple[str, str]] = []
        self.delays: dict[str, float] = {}

    async def send(self, sender: str, text: str, metadata=None):
        self.turns.append((sender, text))
        await asyncio.sleep(self.delays.get(text, 0.0))
        if text in ("转人工", "/request_human"):
            outcome = await run_in_threadpool(self.app.state.handoffs.create, sender, HandoffReason.user_request)
            return [{"text": f"已为您转接人工客服（工单号 {outcome.handoff.id}）。"}]
        if text == "回显":
            return [{"text": "a]]><MsgType>news</MsgType>b"}]
        if text.startswith("/feedback_helpful"):
            return [{"text": "很高兴能帮到您！"}]
        return [{"text": KB_ANSWER, "buttons": [{"title": "有帮助", "payload": HELPFUL},
                                                 {"title": "没帮助", "payload": "/feedback_unhelpful"}]}]

    def turns_of(self, conversation_id: str) -> list[str]:
        return [t for s, t in self.turns if s == conversation_id]

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def fake_api():
    api = FakeWeChatAPI().start()
    yield api
    api.stop()


def wechat_settings(url: str, var: Path, api: FakeWeChatAPI, **overrides) -> Settings:
    values = dict(
        database_url=url, var_dir=var, rasa_url="http://127.0.0.1:9",
        business_open="00:00", business_close="24:00", dense_search=False,
        wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_token=TOKEN,
        wechat_encoding_aes_key=AES_KEY, wechat_api_base_url=api.base_url,
        wechat_passive_reply_budget_s=BUDGET_S, wechat_delivery_backoff_s=0.05,
        wechat_delivery_attempts=3,
    )
    values.update(overrides)
    return Settings(**values)


class WeChat:
    """The gateway as WeChat's servers see it, plus what the test needs to look inside."""

    def __init__(self, client: TestClient, url: str, api: FakeWeChatAPI) -> None:
        self.client = client
        self.url = url
        self.api = api
        self.bot = FakeBot(client.app)
        client.app.state.gateway.rasa = self.bot
        store = KeyStore(session_factory(url))
        self.agent_key = store.create(f"agent-{uuid.uuid4().hex[:6]}", Role.agent)

    def push(self, xml: str, wechat: WeChatPush | None = None, **kw):
        wechat = wechat or WeChatPush()
        params, body = wechat.request(xml, **kw)
        return self.client.post(URL, params=params, content=body,
                                headers={"content-type": "text/xml"}), params, wechat

    def say(self, openid: str, text: str, msg_id: int | None = None, wechat: WeChatPush | None = None) -> str:
        """The passive reply's text ("success" when none)."""
        response, params, wechat = self.push(text_xml(openid, text, msg_id), wechat)
        assert response.status_code == 200, response.text
        plain = wechat.open_reply(response.text, params)
        if plain == "success":
            return plain
        reply = xmltodict.parse(plain)["xml"]
        assert reply["ToUserName"] == openid and reply["MsgType"] == "text"
        return reply["Content"]

    def agent(self, method: str, path: str, **kwargs):
        return self.client.request(method, path, headers={"Authorization": f"Bearer {self.agent_key}"}, **kwargs)

    def rows(self, query: str, **params) -> list:
        with get_engine(self.url).connect() as conn:
            return list(conn.execute(sql(query), params))

    def conversation_of(self, openid: str) -> str:
        return self.rows("select id from conversations where channel='wechat' and customer_id=:o "
                         "order by created_at desc", o=openid)[0][0]


@pytest.fixture(scope="module")
def wx(tmp_path_factory, fake_api):
    var = tmp_path_factory.mktemp("wechat")
    url = f"sqlite:///{var / 'app.sqlite3'}"
    client = TestClient(create_app(wechat_settings(url, var / "var", fake_api)), raise_server_exceptions=False)
    client.__enter__()
    yield WeChat(client, url, fake_api)
    client.__exit__(None, None, None)


def openid() -> str:
    return f"o{uuid.uuid4().hex[:27]}"


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


# ---- URL verification and request authenticity -------------------------------------------------

def test_url_verification_answers_echostr_with_a_good_signature(wx):
    params = WeChatPush().query()
    response = wx.client.get(URL, params={**params, "echostr": "5936263937124810571"})
    assert response.status_code == 200
    assert response.text == "5936263937124810571"


@pytest.mark.parametrize("tamper", ["signature", "timestamp", "nonce", "missing"])
def test_url_verification_refuses_a_bad_signature(wx, tamper):
    params = {**WeChatPush().query(), "echostr": "42"}
    if tamper == "missing":
        del params["signature"]
    else:
        params[tamper] = params[tamper][:-1] + ("0" if params[tamper][-1] != "0" else "1")
    response = wx.client.get(URL, params=params)
    assert response.status_code == 403
    assert response.text != "42"


def test_a_message_signed_with_another_token_is_refused_and_not_stored(wx):
    who = openid()
    response, _, _ = wx.push(text_xml(who, "宽带老是掉线怎么办"), WeChatPush(token="not-the-token"))
    assert response.status_code == 403
    assert wx.rows("select * from conversations where customer_id=:o", o=who) == []
    assert wx.bot.turns_of(who) == []


def test_an_old_timestamp_is_refused_as_a_replay(wx):
    who = openid()
    old = int(time.time()) - 3600
    response, _, _ = wx.push(text_xml(who, "宽带老是掉线怎么办"), timestamp=old)
    assert response.status_code == 403
    assert "timestamp" in response.json()["detail"]
    future = int(time.time()) + 3600
    assert wx.push(text_xml(who, "宽带老是掉线怎么办"), timestamp=future)[0].status_code == 403
    assert wx.rows("select * from conversations where customer_id=:o", o=who) == []


def test_a_reused_nonce_with_another_body_is_refused(wx):
    victim, attacker = openid(), openid()
    nonce = uuid.uuid4().hex[:10]
    ts = int(time.time())
    assert wx.push(text_xml(victim, "怎么查话费"), timestamp=ts, nonce=nonce)[0].status_code == 200
    # Same signature, timestamp and nonce (they do not cover the body in plain mode), new body.
    response, _, _ = wx.push(text_xml(attacker, "转人工"), timestamp=ts, nonce=nonce)
    assert response.status_code == 403
    assert "nonce" in response.json()["detail"]
    assert wx.rows("select * from conversations where customer_id=:o", o=attacker) == []


def test_the_identical_request_again_is_one_bot_turn_with_the_same_reply(wx):
    who = openid()
    params, body = WeChatPush().request(text_xml(who, "宽带老是掉线怎么办", msg_id=771001))
    first = wx.client.post(URL, params=params, content=body)
    again = wx.client.post(URL, params=params, content=body)  # WeChat's retry, or a verbatim replay
    assert first.status_code == again.status_code == 200
    assert xmltodict.parse(first.text)["xml"]["Content"] == xmltodict.parse(again.text)["xml"]["Content"]
    assert len(wx.bot.turns_of(wx.conversation_of(who))) == 1


# ---- text messages ----------------------------------------------------------------------------

def test_a_text_message_gets_the_kb_answer_as_a_passive_reply(wx):
    who = openid()
    started = time.monotonic()
    answer = wx.say(who, "宽带老是掉线怎么办")
    assert time.monotonic() - started < BUDGET_S
    assert "光猫" in answer and "10050报修" in answer
    assert "**" not in answer  # Markdown flattened for WeChat
    assert "1. 有帮助" in answer and "2. 没帮助" in answer and "回复数字" in answer
    # Routed like the web channel: a conversation of channel "wechat" for this OpenID.
    conv = wx.conversation_of(who)
    stored = wx.rows("select sender, text from messages where conversation_id=:c order by id", c=conv)
    assert [s for s, _ in stored] == ["customer", "bot"]
    # Recorded right after the reply went out.
    inbound = wait_until(
        lambda: wx.rows("select status, delivery from wechat_inbound where conversation_id=:c", c=conv))
    assert inbound == [("answered", "passive")]
    assert wx.api.texts_to(who) == []  # nothing through the API


def test_the_customer_picks_a_button_by_its_number(wx):
    who = openid()
    wx.say(who, "宽带老是掉线怎么办")
    assert wx.say(who, "1") == "很高兴能帮到您！"
    assert wx.bot.turns_of(wx.conversation_of(who))[-1] == HELPFUL
    # A number with nothing offered stays a number.
    wx.say(who, "1")
    assert wx.bot.turns_of(wx.conversation_of(who))[-1] == "1"


def test_an_answer_cannot_inject_xml_into_the_passive_reply(wx):
    assert wx.say(openid(), "回显") == "a]]><MsgType>news</MsgType>b"


def test_safe_mode_round_trip(wx):
    who = openid()
    wechat = WeChatPush.safe_mode()
    params, body = wechat.request(text_xml(who, "宽带老是掉线怎么办"))
    assert b"Content" not in body  # only the cipher text travels
    response = wx.client.post(URL, params=params, content=body)
    assert response.status_code == 200
    envelope = xmltodict.parse(response.text)["xml"]
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert envelope["MsgSignature"] == sign(TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
    reply = xmltodict.parse(wechat.open_reply(response.text, params))["xml"]
    assert reply["ToUserName"] == who and "光猫" in reply["Content"]


def test_safe_mode_with_a_bad_msg_signature_is_refused(wx):
    who = openid()
    params, body = WeChatPush.safe_mode().request(text_xml(who, "宽带老是掉线怎么办"))
    params["msg_signature"] = "0" * 40
    assert wx.client.post(URL, params=params, content=body).status_code == 403
    assert wx.rows("select * from conversations where customer_id=:o", o=who) == []


def test_a_slow_answer_gets_success_at_once_and_then_arrives_through_the_api(wx):
    who = openid()
    wx.bot.delays["我的流量怎么用得这么快"] = BUDGET_S + 1.0
    started = time.monotonic()
    assert wx.say(who, "我的流量怎么用得这么快") == "success"
    elapsed = time.monotonic() - started
    assert BUDGET_S - 0.05 <= elapsed < BUDGET_S + 1.5  # well under WeChat's 5 s
    texts = wx.api.wait_for(who)
    assert len(texts) == 1 and "光猫" in texts[0] and "1. 有帮助" in texts[0]
    conv = wx.conversation_of(who)
    assert wx.rows("select delivery from wechat_inbound where conversation_id=:c", c=conv) == [("custom",)]
    assert wx.rows("select status from wechat_inbound where conversation_id=:c", c=conv) == [("answered",)]
    sent = wait_until(
        lambda: wx.rows("select status, source, attempts from wechat_outbox where conversation_id=:c", c=conv)
        if wx.rows("select status from wechat_outbox where conversation_id=:c and status='sent'", c=conv) else None)
    assert sent == [("sent", "bot", 1)]


def test_three_retries_of_one_msgid_make_one_bot_turn_and_one_answer(wx):
    who = openid()
    text = "套餐怎么改"
    wx.bot.delays[text] = BUDGET_S + 0.3
    msg_id = int(uuid.uuid4().int % 10**17)
    results: list[tuple[float, str]] = []
    started = time.monotonic()

    def attempt(delay: float):
        time.sleep(delay)
        # Each retry is a new request (new nonce and timestamp), same MsgId.
        results.append((delay, wx.say(who, text, msg_id=msg_id)))

    threads = [threading.Thread(target=attempt, args=(d,)) for d in (0.0, 0.6, BUDGET_S + 1.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 5
    replies = dict(results)
    assert replies[0.0] == "success"  # the first timed out
    assert "光猫" in replies[0.6]  # the retry waiting when the answer came got it passively
    assert replies[BUDGET_S + 1.0] == replies[0.6]  # a later retry gets the same reply
    conv = wx.conversation_of(who)
    assert wx.bot.turns_of(conv) == [text]  # one bot turn
    senders = [s for (s,) in wx.rows("select sender from messages where conversation_id=:c", c=conv)]
    assert senders == ["customer", "bot"]
    time.sleep(0.3)
    assert wx.api.texts_to(who) == []  # answered passively, so nothing through the API


def test_retries_while_nobody_waits_get_success_and_one_api_message(wx):
    who = openid()
    text = "国际漫游怎么开"
    wx.bot.delays[text] = BUDGET_S + 0.5
    msg_id = int(uuid.uuid4().int % 10**17)
    assert wx.say(who, text, msg_id=msg_id) == "success"
    assert wx.api.wait_for(who)  # delivered through the API once the bot answered
    assert wx.say(who, text, msg_id=msg_id) == "success"  # a late retry does not repeat it
    time.sleep(0.3)
    assert len(wx.api.texts_to(who)) == 1
    assert len(wx.bot.turns_of(wx.conversation_of(who))) == 1


# ---- other message types ------------------------------------------------------------------------

def test_subscribe_gets_the_welcome_and_media_get_a_request_for_text(wx):
    who = openid()
    response, _, _ = wx.push(event_xml(who, "subscribe"))
    assert xmltodict.parse(response.text)["xml"]["Content"] == WELCOME
    response, _, _ = wx.push(image_xml(who))
    assert xmltodict.parse(response.text)["xml"]["Content"] == TEXT_ONLY
    response, _, _ = wx.push(event_xml(who, "unsubscribe"))
    assert response.text == "success"
    assert wx.bot.turns == [t for t in wx.bot.turns if t[0] != who]


# ---- unsafe XML ---------------------------------------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>{who}</FromUserName>
<CreateTime>1732418400</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY a "lol">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>{who}</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&c;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS, "<xml><Content>unclosed</xml>", "not xml at all"])
def test_unsafe_or_malformed_xml_is_refused_and_nothing_is_stored(wx, payload):
    who = openid()
    before = wx.rows("select count(*) from wechat_nonces")[0][0]
    response, _, _ = wx.push(payload.format(who=who))
    assert response.status_code == 400
    assert "root:" not in response.text
    assert wx.rows("select * from conversations where customer_id=:o", o=who) == []
    assert wx.rows("select * from wechat_inbound where openid=:o", o=who) == []
    assert wx.rows("select count(*) from wechat_nonces")[0][0] == before


def test_xxe_inside_the_safe_mode_envelope_is_refused_too(wx):
    who = openid()
    response, _, _ = wx.push(XXE.format(who=who), WeChatPush.safe_mode())
    assert response.status_code == 400
    assert wx.rows("select * from conversations where customer_id=:o", o=who) == []


def test_an_oversized_body_is_refused(wx):
    who = openid()
    response, _, _ = wx.push(text_xml(who, "长" * 40_000))
    assert response.status_code == 413


# ---- agents' replies through the customer-service API ----------------------------------------------

def handed_off(wx, who: str) -> tuple[str, int]:
    wx.say(who, "宽带老是掉线怎么办")
    confirmation = wx.say(who, "转人工")
    if confirmation == "success":  # creating the record (classifier, triage) took over the budget
        confirmation = wx.api.wait_for(who)[-1]
        wx.api.sent[:] = [m for m in wx.api.sent if m["touser"] != who]
    assert "转接人工" in confirmation
    conv = wx.conversation_of(who)
    handoff = next(h for h in wx.agent("GET", "/api/handoffs").json() if h["conversation_id"] == conv)
    assert wx.agent("POST", f"/api/handoffs/{handoff['id']}/claim").status_code == 200
    return conv, handoff["id"]


def test_an_agent_reply_reaches_the_customer_through_the_api(wx):
    who = openid()
    conv, _ = handed_off(wx, who)
    # While an agent has the conversation the bot stays silent: "success", no bot turn.
    turns = len(wx.bot.turns_of(conv))
    assert wx.say(who, "还在吗") == "success"
    assert len(wx.bot.turns_of(conv)) == turns
    tokens_before = len(wx.api.token_requests)
    response = wx.agent("POST", f"/api/conversations/{conv}/agent-messages",
                        json={"text": "您好，我是客服小李，马上为您查询。"})
    assert response.status_code == 200
    assert wx.api.wait_for(who) == ["您好，我是客服小李，马上为您查询。"]
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "请稍等两分钟。"})
    assert wx.api.wait_for(who, 2)[-1] == "请稍等两分钟。"
    assert len(wx.api.token_requests) - tokens_before <= 1  # the token is cached
    deliveries = wx.agent("GET", f"{URL}/deliveries", params={"conversation_id": conv}).json()
    assert [(d["text"], d["status"]) for d in deliveries if d["source"] == "agent"] == [
        ("请稍等两分钟。", "sent"), ("您好，我是客服小李，马上为您查询。", "sent")]


def test_an_expired_token_is_refreshed_and_the_message_still_delivered(wx):
    who = openid()
    conv, _ = handed_off(wx, who)
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "第一条"})
    assert wx.api.wait_for(who) == ["第一条"]
    tokens_before = len(wx.api.token_requests)
    wx.api.expire_tokens()  # WeChat answers 40001 until a new token is fetched
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "第二条"})
    assert wx.api.wait_for(who, 2) == ["第一条", "第二条"]
    assert len(wx.api.token_requests) == tokens_before + 1


def test_failed_sends_are_retried_a_bounded_number_of_times_and_recorded(wx, caplog):
    who = openid()
    conv, _ = handed_off(wx, who)
    wx.api.fail_next_sends[:] = [(500, {}), (200, {"errcode": -1, "errmsg": "system error"})]
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "重试后送达"})
    assert wx.api.wait_for(who) == ["重试后送达"]
    row = wait_until(lambda: wx.rows("select status, attempts, last_error from wechat_outbox "
                                     "where conversation_id=:c and status='sent'", c=conv))
    assert row[0][0] == "sent" and row[0][1] == 3 and "system error" in row[0][2]

    # A permanent error (the customer has not written for 48 h) is not retried; it is recorded
    # and logged, and the agent can see it.
    wx.api.fail_next_sends[:] = [(200, {"errcode": 45015, "errmsg": "response out of time limit"})]
    with caplog.at_level("ERROR", logger="wechat.delivery"):
        wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "超时了"})
        failed = wait_until(lambda: wx.agent("GET", f"{URL}/deliveries",
                                             params={"conversation_id": conv, "status": "failed"}).json())
    assert [(d["text"], d["attempts"]) for d in failed] == [("超时了", 1)]
    assert "45015" in failed[0]["last_error"]
    assert any("45015" in r.getMessage() for r in caplog.records)

    # Retries run out: failed after the configured 3 attempts, never silently dropped.
    wx.api.fail_next_sends[:] = [(502, {})] * 3
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "一直失败"})
    failed = wait_until(lambda: [d for d in wx.agent("GET", f"{URL}/deliveries", params={
        "conversation_id": conv, "status": "failed"}).json() if d["text"] == "一直失败"])
    assert failed and failed[0]["attempts"] == 3


def test_the_resolution_check_goes_out_and_the_customer_confirms_by_number(wx):
    who = openid()
    conv, handoff_id = handed_off(wx, who)
    wx.agent("POST", f"/api/conversations/{conv}/agent-messages", json={"text": "已为您重置宽带账号。"})
    assert wx.agent("POST", f"/api/handoffs/{handoff_id}/resolve").status_code == 200
    texts = wx.api.wait_for(who, 2)
    assert "请确认问题是否已经解决" in texts[-1] and "1. 已解决" in texts[-1] and "2. 还没解决" in texts[-1]
    assert "已办结" in wx.say(who, "1")
    assert wx.agent("GET", f"/api/handoffs/{handoff_id}").json()["status"] == "closed"


def test_deliveries_need_agent_credentials(wx):
    assert wx.client.get(f"{URL}/deliveries").status_code == 401


def test_the_channel_answers_503_when_not_configured(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'n.sqlite3'}", var_dir=tmp_path / "var",
                              dense_search=False))
    with TestClient(app) as client:
        response = client.get(URL, params={**WeChatPush().query(), "echostr": "1"})
    assert response.status_code == 503
