"""Find the question inside a message as customers type it.

Customers wrap their question in greetings, their phone / ID / order numbers (raw or masked by
the gateway: 138****5678), their address, urgency and frustration tails (急！在线等，已经问了好几次
了) and politeness. None of that says which entry answers them, yet it dilutes both retrievers:
BM25's coverage of the query and the mean of the embedding's character vectors. `focus` sets it
aside before search; the KB's own text is never touched. When nothing is left (the message was
only a greeting), the message is searched as it is, so the decision stays with the calibration.
"""

from __future__ import annotations

import re
from functools import lru_cache

# What a number is called ("我的手机号是", "订单号:", "身份证", "宽带账号"); Traditional forms too.
_LABEL = (r"(?:我的|我|本人|我家|我们家|机主|户主|戶主)?(?:的)?"
          r"(?:手机号码?|手機號碼?|电话号码?|電話號碼?|联系电话|聯繫電話|号码|號碼|手机|手機|电话|電話|"
          r"身份证号?码?|身份證號?碼?|证件号码?|證件號碼?|订单编?号|訂單編?號|订单|訂單|运单号?|運單號?|"
          r"快递单号?|快遞單號?|物流单号?|单号|單號|工单号?|工單號?|宽带账号|寬帶賬號|寬頻帳號|宽带号|寬帶號|"
          r"账号|帳號|賬號|帐号|用户号|户号|會員號|会员号|卡号|卡號|银行卡号?|编号|編號|客户编号)")
_NUMBER = r"(?:\+?86[ -]?)?[A-Za-z]{0,4}[0-9][0-9*＊xX\- ]{5,}[0-9xX*＊]"
_LABELLED_NUMBER = re.compile(_LABEL + r"(?:是|为|為|:|：|\s)*" + _NUMBER)
_BARE_NUMBER = re.compile(r"(?<![0-9A-Za-z])" + _NUMBER + r"(?![0-9A-Za-z])")
_LABEL_ONLY = re.compile(r"^(?:" + _LABEL + r"(?:是|为|為|:|：|\s)*)+$")
# A street address: 我家在江北区滨江路88号锦绣花园3栋1单元502, 住高新区科技二路7号云海公寓B座1803:
# a place word (路, 街, 小区, 花园…) right before a house number, then more units.
_UNIT = r"(?:[A-Za-z]?\d+(?:号|號|栋|棟|幢|座|单元|單元|室|楼|樓|层|層|弄)|[A-Za-z]座|\d{3,4}(?![0-9]))"
_PLACE = r"(?:路|街|道|巷|里|村|区|區|镇|鎮|小区|小區|花园|花園|公寓|大厦|大廈|苑|园|園|湾|灣|城|庭|府|坊)"
_ADDRESS = re.compile(r"(?:装机地址|裝機地址|家庭住址|住址|地址|我家在|我家住在?|我住在?|住在|住)?[:：]?"
                      r"[\u4e00-\u9fff]{0,12}" + _PLACE + r"[A-Za-z]?\d+(?:号|號|栋|棟|幢|座|弄|-)"
                      r"(?:[\u4e00-\u9fff]{0,8}(?:" + _UNIT + r"|\d+-|\*+))*")
_MASKED = re.compile(r"\*{2,}(?:[\s*]*\*)?")
_ADDRESS_CLAUSE = re.compile(r"^(?:装机地址|裝機地址|家庭住址|住址|地址)[:：]?.*$")
# Said before or after the question, never part of it: phrases, and words that only count
# as filler when they stand alone (亲 but not 亲情号, 额 but not 余额, 客服 but not 客服电话).
_PHRASES = (
    r"你好+|您好+|你们好|你們好|哈喽|哈囉|hello|hi|早上好|上午好|中午好|下午好|晚上好|在吗|在嗎|在不在|在么|"
    r"有人吗|有人嗎|有人在吗|有人在嗎|有没有人|不好意思|打扰(?:一下|了)|打擾(?:一下|了)|麻烦(?:问)?一下|"
    r"麻煩(?:問)?一下|请问一下|请问|請問|问一下|問一下|问下|咨询一下|咨询个问题|諮詢一下|諮詢個問題|想咨询一下|"
    r"我想问(?:一下|下|个事)|我想問(?:一下|個事)|想问(?:一下|个事)|有个事想问|有個事想問|问个问题|問個問題|问个事|"
    r"是这样的|是這樣的|我再问一遍|我再問一遍|再问一遍|刚才没说清楚|剛才沒說清楚|帮我看看|幫我看看|帮忙看看|"
    r"急急+|很急|着急|著急|挺急的|比较急|十万火急|在线等|在線等|在线急等|线上等|線上等|等回复|等你回复|"
    r"快点回复?|快點回覆?|搞快点|搞快點|快回复|请尽快回复?|速回|回复一下|"
    r"麻烦(?:了|你们了|您了|你了)|麻煩(?:了|你們了|您了)|谢谢(?:啦|了|你|您|啊)?|謝謝(?:啦|了|你|您|啊)?|多谢|"
    r"拜托了|求助|求解答|已经问了(?:好)?几次了?|已經問了(?:好)?幾次了?|问了好几次了?|等了半天了?|等了好久了?|"
    r"怎么没人回(?:复|啊)?|怎麼沒人回(?:覆|啊)?|没人回|有人管吗|没人管吗|人呢|求回复|求回覆|到底行不行|"
    r"真的很烦|真的很煩|我是老用户了|我是老用戶了|呵呵")
_ALONE = (r"亲+|親+|嗨|客服(?:客服)*|小姐姐|美女|帅哥|老师|师傅|那个|那個|嗯+|额+|呃+|唉+|喂+|哈+|急+|快点|快點|"
          r"麻烦|麻煩|咨询|諮詢|服了|无语|無語|尽快|感谢|打扰|打擾")
_PUNCT = r"\s|[,，.。!！?？~～、…:：]"
_LEADING = re.compile(r"^(?:" + _PUNCT + r"|" + _PHRASES + r"|(?:" + _ALONE + r")(?=" + _PUNCT + r"|$))+",
                      re.IGNORECASE)
_TRAILING = re.compile(r"(?:" + _PUNCT + r"|" + _PHRASES + r"|(?:(?<=" + _PUNCT + r")|^)(?:" + _ALONE + r"))+$",
                       re.IGNORECASE)
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SEPARATORS = re.compile(r"[,，;；。!！?？\n…]+|\s{2,}")
MIN_CHARS = 2


def _clause(text: str) -> str:
    text = text.strip()
    if _ADDRESS_CLAUSE.match(text) or _LABEL_ONLY.match(text):
        return ""
    return _TRAILING.sub("", _LEADING.sub("", text)).strip()


@lru_cache(maxsize=20_000)
def focus(text: str) -> str:
    """The message without numbers, addresses, greetings, urgency tails and emoji; the
    message itself when that would leave fewer than two characters of content."""
    stripped = _ADDRESS.sub(" ", text)
    stripped = _LABELLED_NUMBER.sub(" ", stripped)
    stripped = _BARE_NUMBER.sub(" ", stripped)
    stripped = _MASKED.sub(" ", stripped)
    stripped = _EMOJI.sub("  ", stripped)
    clauses = [c for c in (_clause(part) for part in _SEPARATORS.split(stripped)) if c]
    result = "，".join(clauses)
    content = re.sub(r"[\s,，]", "", result)
    return result if len(content) >= MIN_CHARS else text
