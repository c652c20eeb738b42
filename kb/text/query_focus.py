"""Find the question inside a message as customers type it.

Customers wrap their question in greetings, their phone / ID / order numbers (raw or masked by
the gateway: 138****5678), urgency and frustration tails (急！在线等，已经问了好几次了) and
politeness. None of that says which entry answers them, yet it dilutes both retrievers: BM25's
coverage of the query and the mean of the embedding's character vectors. `focus` strips it
before search; the KB's own text is never touched. When nothing is left (the message was only
a greeting), the message is searched as it is, so the decision stays with the calibration.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A label naming the number that follows ("我的手机号是", "订单号:", "身份证"), then the
# number itself: digits, masked digits, letters + digits (LH20240512889, YX1234567890).
_LABEL = (r"(?:我的|我|本人|我家|我们家|机主|户主)?(?:的)?"
          r"(?:手机号码?|电话号码?|联系电话|号码|手机|电话|身份证号?码?|证件号码?|订单编?号|订单|运单号?|快递单号?|"
          r"物流单号?|单号|工单号?|账号|帐号|宽带账号|用户号|户号|会员号|卡号|银行卡号?|编号|客户编号)"
          r"(?:是|为|:|：|\s)*")
_NUMBER = r"(?:\+?86[ -]?)?[A-Za-z]{0,4}[0-9][0-9*＊xX\- ]{5,}[0-9xX*＊]"
_LABELLED_NUMBER = re.compile(_LABEL + _NUMBER)
_BARE_NUMBER = re.compile(r"(?<![0-9A-Za-z])" + _NUMBER + r"(?![0-9A-Za-z])")
_GREETING = re.compile(
    r"^(?:\s|[,，.。!！~～、…]|你好+|您好+|你们好|哈喽|嗨|hello|hi|在吗|在不在|在么|有人吗|有没有人|亲+|"
    r"客服(?:客服)*|人工客服(?=[,，。!！\s])|小姐姐|美女|帅哥|老师|师傅|打扰(?:一下|了)?|麻烦(?:问)?一下|"
    r"请问一下|请问|问一下|问下|咨询一下|想咨询一下|我想问一下|我想问下|想问一下|那个|嗯+|额+|呃+|唉+)+",
    re.IGNORECASE)
_TAIL = re.compile(
    r"(?:\s|[,，.。!！?？~～、…]|急+|急急急|很急|着急|挺急的|比较急|十万火急|在线等|在线急等|等回复|等你回复|"
    r"快点回复?|快回复|请尽快回复?|尽快|速回|回复一下|麻烦了|麻烦你们了|麻烦您了|谢谢(?:啦|了|你|您)?|多谢|感谢|"
    r"拜托了|求助|求解答|已经问了(?:好)?几次了?|问了好几次了?|怎么没人回(?:复)?|有人管吗|没人管吗|"
    r"[\U0001F300-\U0001FAFF\u2600-\u27BF])+$",
    re.IGNORECASE)
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SEPARATORS = re.compile(r"[,，;；。!！?？\n]+")
MIN_CHARS = 2


@lru_cache(maxsize=20_000)
def focus(text: str) -> str:
    """The message without numbers, greetings, urgency tails and emoji; the message itself
    when that would leave fewer than two characters of content."""
    stripped = _LABELLED_NUMBER.sub(" ", text)
    stripped = _BARE_NUMBER.sub(" ", stripped)
    stripped = _EMOJI.sub(" ", stripped)
    clauses = []
    for clause in _SEPARATORS.split(stripped):
        clause = _TAIL.sub("", _GREETING.sub("", clause.strip())).strip()
        if clause:
            clauses.append(clause)
    result = "，".join(clauses)
    content = re.sub(r"[\s,，]", "", result)
    return result if len(content) >= MIN_CHARS else text
