"""The WeChat channel end to end: a gateway with the channel configured (in-process, sharing
the stack's database) in front of the real Rasa server and action server, and the local fake
of WeChat's API server for what goes through the customer-service message API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import xmltodict
from fastapi.testclient import TestClient
from sqlalchemy import update

from assist_api.app import create_app
from config.settings import Settings
from db.base import utcnow
from gateway.handoffs.models import Handoff
from tests.support.wechat_fake import AES_KEY, APP_ID, SECRET, TOKEN, FakeWeChatAPI, WeChatPush, text_xml

pytestmark = pytest.mark.e2e
URL = "/api/channels/wechat"


@pytest.fixture(scope="module")
def wechat(stack, tmp_path_factory):
    api = FakeWeChatAPI().start()
    settings = Settings(
        database_url=stack.settings.database_url, var_dir=tmp_path_factory.mktemp("wechat-gw"),
        rasa_url=stack.settings.rasa_url, business_open="00:00", business_close="24:00",
        dense_search=stack.settings.dense_search,
        wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY,
        wechat_api_base_url=api.base_url, wechat_passive_reply_budget_s=3.0, wechat_delivery_backoff_s=0.1,
    )
    with TestClient(create_app(settings)) as client:
        yield client, api
    api.stop()


def say(client, openid: str, text: str, push: WeChatPush) -> str:
    params, body = push.request(text_xml(openid, text))
    response = client.post(URL, params=params, content=body)
    assert response.status_code == 200, response.text
    plain = push.open_reply(response.text, params)
    return plain if plain == "success" else xmltodict.parse(plain)["xml"]["Content"]


def test_a_wechat_question_is_answered_from_the_kb_by_the_real_bot_in_safe_mode(wechat):
    client, _ = wechat
    who, push = f"o{uuid.uuid4().hex[:27]}", WeChatPush.safe_mode()
    answer = say(client, who, "宽带老是掉线怎么办", push)
    assert "光猫" in answer and "10050报修" in answer  # broadband-006's answer
    assert "1. 有帮助" in answer and "2. 没帮助" in answer
    assert "很高兴" in say(client, who, "1", push)  # the number acts as the button


def test_a_wechat_customer_reaches_an_agent_whose_reply_goes_through_the_api(wechat, stack):
    client, api = wechat
    who, push = f"o{uuid.uuid4().hex[:27]}", WeChatPush()
    say(client, who, "我的宽带连不上", push)
    assert "工单号" in say(client, who, "转人工", push)
    headers = {"Authorization": f"Bearer {stack.agent_key}"}
    record = next(r for r in client.get("/api/handoffs", headers=headers).json() if r["customer_id"] == who)
    assert record["channel"] == "wechat"
    assert client.post(f"/api/handoffs/{record['id']}/claim", headers=headers).status_code == 200
    assert say(client, who, "还要等多久", push) == "success"  # the bot stays quiet
    sent = client.post(f"/api/conversations/{record['conversation_id']}/agent-messages", headers=headers,
                       json={"text": "您好，我是客服小李，正在为您查询宽带故障。"})
    assert sent.status_code == 200
    assert api.wait_for(who) == ["您好，我是客服小李，正在为您查询宽带故障。"]


def test_a_queued_wechat_customer_hears_position_and_wait_and_the_soothing_message_comes_by_api(wechat, stack):
    client, api = wechat
    who, push = f"o{uuid.uuid4().hex[:27]}", WeChatPush()
    say(client, who, "我的宽带连不上", push)
    assert "工单号" in say(client, who, "转人工", push)
    holding = say(client, who, "还要等多久", push)  # the passive reply
    assert "预计等待约" in holding and "前回复您" in holding and "1. 留言" in holding
    assert say(client, who, "快点", push) == "success"  # at most one a minute
    # The deadline nears with nobody answering: the soothing message goes out by itself,
    # through the customer-service message API (the customer sent nothing to reply to).
    headers = {"Authorization": f"Bearer {stack.agent_key}"}
    record = next(r for r in client.get("/api/handoffs", headers=headers).json() if r["customer_id"] == who)
    with client.app.state.sessions.begin() as session:
        session.execute(update(Handoff).where(Handoff.id == record["id"])
                        .values(first_response_due=utcnow() + timedelta(seconds=60)))
    client.app.state.waiting.soothe_due()
    soothing = api.wait_for(who)
    assert len(soothing) == 1 and "久等" in soothing[0] and "1. 留言" in soothing[0]
