"""The WeChat channel's parts on their own: text rendering and choices, the timestamp window,
and the safe XML parser. (The durable stores: tests/integration/test_wechat_stores.py.)"""

from __future__ import annotations

import pytest
import xmltodict

from gateway.channels.wechat import xmlsafe
from gateway.channels.wechat.security import Refused, check_timestamp
from gateway.channels.wechat.text import choose, flatten_markdown, render, split
from tests.support.wechat_fake import text_xml


def test_markdown_is_flattened_and_buttons_numbered_across_the_turn():
    text = render([
        {"text": "## 宽带掉线\n请先**重启光猫**，详见[报修指南](https://example.com/g)。\n- 检查网线"},
        {"text": "您是不是想问：",
         "buttons": [{"title": "宽带报修", "payload": "/a"}, {"title": "转人工", "payload": "/h"}]},
    ])
    assert text.startswith("宽带掉线\n请先重启光猫，详见报修指南（https://example.com/g）。\n• 检查网线")
    assert "1. 宽带报修\n2. 转人工\n（回复数字即可选择）" in text
    assert render([]) is None
    assert flatten_markdown("`10086`") == "10086"


def test_a_choice_by_number_or_title_becomes_the_payload():
    offered = [{"title": "有帮助", "payload": "/yes"}, {"title": "没帮助", "payload": "/no"}]
    assert choose("2", offered) == "/no"
    assert choose(" 有帮助 ", offered) == "/yes"
    assert choose("3", offered) == "3"
    assert choose("1", []) == "1"
    assert choose("宽带", offered) == "宽带"


def test_long_texts_are_split_under_wechats_limit():
    text = "\n".join(f"第{i}段：" + "宽带" * 60 for i in range(40))
    pieces = split(text)
    assert len(pieces) > 1
    assert all(len(p.encode()) <= 2000 for p in pieces)
    assert "".join(p.replace("\n", "") for p in pieces) == text.replace("\n", "")
    assert split("短") == ["短"]


def test_the_timestamp_window():
    assert check_timestamp("1000", 300, now=1200) == 1000
    assert check_timestamp("700", 300, now=1000) == 700  # the edge of the window
    for bad in ("699", "1301", "abc", ""):
        with pytest.raises(Refused):
            check_timestamp(bad, 300, now=1000)


def test_the_xml_parser_refuses_dtds_and_entities_in_any_spelling():
    ok = xmlsafe.parse(text_xml("o1", "你好", msg_id=5))
    assert ok.type == "text" and ok.content == "你好" and ok.id == 5
    for payload in ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml/>',
                    '<!doctype xml><xml><MsgType>text</MsgType></xml>',
                    '<!ENTITY e "x"><xml/>', "<xml>" + "a" * 70_000 + "</xml>",
                    "<xml><FromUserName>o</FromUserName></xml>", "<other/>"):
        with pytest.raises(xmlsafe.BadXML):
            xmlsafe.parse(payload)
    # The second layer on its own: xmltodict (what wechatpy uses) refuses entity declarations.
    with pytest.raises(ValueError):
        xmltodict.parse('<!DOCTYPE x [<!ENTITY e "boom">]><xml>&e;</xml>', disable_entities=True)
