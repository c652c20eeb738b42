"""The open issue of a handed-off conversation: what the agent must pick up, apart from the
questions the bot already settled.

The conversation is read as turns: one customer message and the bot replies that follow it.
Each turn's bot decision (answer / clarify / no_answer / none) is the one the action server sent
and the gateway stored with the turn's bot message (`turns.decisions_of_messages`), and the KB
entries a turn offered (the answered entry, the "您是不是想问" options) are read off its buttons.

The rule. Turns are grouped into issues, oldest first. An issue is **resolved** when the bot
answered it and the customer did not come back on it:
- the customer clicked 有帮助 or said only thanks / OK (谢谢, 好的, 明白了…): resolved, and the
  next issue starts after that turn;
- the customer asked something new: resolved, and the new message starts the next issue. A
  message that says the answer did not work (没用, 还是不行, 没解决…) is not new, and neither is
  a rephrase: the bot's reply to it offers a KB entry already offered for the issue, or it
  shares at least `REPHRASE_MIN_SHARED` content bigrams, and at least `REPHRASE_MIN_SHARE` of the
  shorter message's, with one of the issue's messages (question fillers such as 怎么 left out).
  A message that thanks the bot (谢谢…) and goes on to ask is always new.
An issue the bot has not answered (clarify, no answer, no bot reply) or whose answer the customer
disputed (没帮助, 没用) stays open, whatever comes next: its messages and the following ones are
one issue. The **open issue** is the last one; when it holds none of the customer's own words
(e.g. "谢谢" then "转人工"), the last issue that does stands in for it.

The customer's own words leave out button payloads, human requests, greetings and bare thanks.
What the bot tried for the open issue: the entries it offered there, plus those the action
server reports that the transcript does not show; entries shown only for resolved issues drop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.bot_protocol import ANSWER, HELPFUL_PAYLOAD, UNHELPFUL_PAYLOAD, entry_of, intent_of
from gateway.handoffs.replies import HUMAN_REQUEST_TEXTS

# The customer says the answer did not work: the issue stays open.
NOT_SOLVED = ("没用", "没有用", "不管用", "没帮助", "没有帮助", "没效果", "没有效果", "不行", "没解决",
              "没有解决", "不是这个", "不是我问的", "答非所问", "看不懂", "没看懂", "还是不",
              "还是没", "还是一样", "依然", "仍然")
# Thanks / OK: closes an answered issue. A message that is nothing else carries no question.
THANKS = ("谢谢", "感谢", "多谢", "谢啦", "好的", "好滴", "知道了", "明白了", "懂了", "解决了", "可以了",
          "好了", "ok", "OK", "嗯")
THANKS_WORDS = ("谢谢", "感谢", "多谢", "谢啦")  # in a longer message: the customer moves on
GREETINGS = ("你好", "您好", "在吗", "在不在", "有人吗", "hi", "hello", "哈喽")
# Question fillers ignored when comparing two messages' content.
FILLERS = ("怎么办", "怎么回事", "怎么", "为什么", "什么", "如何", "请问", "一下", "能不能", "可不可以",
           "是不是", "可以", "我的", "我家", "你们", "我们", "老是", "总是", "一直", "还是", "这个", "那个")
PARTICLES = re.compile(r"[了吗呢啊呀吧的么嘛哦我你他她是，。！？、,.!?~～\s]")
REPHRASE_MIN_SHARED = 2  # content bigrams a rephrase shares with the issue…
REPHRASE_MIN_SHARE = 0.5  # …and the share of the shorter message's bigrams that is
BACKGROUND_LINES = 6  # the latest lines of the open issue the background keeps


class MessageLike(Protocol):
    id: int
    sender: str
    text: str
    buttons: list[dict[str, str]] | None


@dataclass
class Issue:
    start: int  # index in the conversation's messages (= the record's transcript) of its first one
    words: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)  # KB entry ids, first shown first
    resolved: bool = False


@dataclass
class OpenIssue:
    background: str  # the customer's own words about the open issue, one message a line
    start: int  # where it starts in the transcript
    offered: list[str]  # KB entries the bot showed for it
    settled: set[str]  # KB entries shown only for resolved issues

    def tried(self, reported: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The action server's `bot_tried` list kept to the open issue."""
        return [t for t in reported if t.get("id") not in self.settled]


def _offered(replies: Sequence[dict[str, Any]]) -> list[str]:
    ids = (entry_of(b.get("payload") or "") for r in replies for b in r.get("buttons") or [])
    return list(dict.fromkeys(i for i in ids if i))


def _bare(text: str, phrases: Iterable[str]) -> str:
    for phrase in phrases:
        text = text.replace(phrase, "")
    return PARTICLES.sub("", text)


def _bigrams(text: str) -> set[str]:
    content = _bare(text, FILLERS)
    return {content[i:i + 2] for i in range(len(content) - 1)}


def similar(a: str, b: str) -> bool:
    """Whether two customer messages ask about the same thing (content bigram overlap)."""
    x, y = _bigrams(a), _bigrams(b)
    shared = len(x & y)
    return bool(x and y) and shared >= REPHRASE_MIN_SHARED and shared >= REPHRASE_MIN_SHARE * min(len(x), len(y))


def _kind(text: str) -> str:
    """payload | helpful | unhelpful | thanks | not_solved | question, for a customer message."""
    t = text.strip()
    if intent_of(t) == HELPFUL_PAYLOAD:
        return "helpful"
    if intent_of(t) == UNHELPFUL_PAYLOAD:
        return "unhelpful"
    if not t or t.startswith("/") or t in HUMAN_REQUEST_TEXTS or not _bare(t, GREETINGS):
        return "payload"
    if any(cue in t.replace("行不行", "") for cue in NOT_SOLVED):
        return "not_solved"
    if len(_bare(t, THANKS)) <= 1:
        return "thanks"
    return "question"


@dataclass
class _Turn:
    start: int  # index of the customer message
    end: int  # index after the turn
    text: str
    replies: list[dict[str, Any]] = field(default_factory=list)
    decision: str | None = None  # the bot's stored decision, None when it made none


def _turns(messages: Sequence[MessageLike], decisions: Mapping[int, str]) -> list[_Turn]:
    """The customer's messages, each with the bot replies that follow it and their decision."""
    turns: list[_Turn] = []
    for i, m in enumerate(messages):
        if m.sender == "customer":
            turns.append(_Turn(i, i + 1, m.text))
        elif m.sender == "bot" and turns:
            turn = turns[-1]
            turn.replies.append({"text": m.text, "buttons": m.buttons})
            turn.end = i + 1
            turn.decision = decisions.get(m.id, turn.decision)
    return turns


def _moved_on(text: str, offered: list[str], current: Issue) -> bool:
    """Whether a new question after an answer leaves the current issue (not a rephrase of it)."""
    if any(word in text for word in THANKS_WORDS):
        return True
    same_entry = bool(set(offered) & set(current.offered))
    return not same_entry and not any(similar(text, w) for w in current.words)


def issues(messages: Sequence[MessageLike], decisions: Mapping[int, str]) -> list[Issue]:
    """The conversation's issues, oldest first, by the rule in the module docstring;
    `decisions` are the stored bot decisions by bot message id."""
    found = [Issue(start=0)]
    answered = False  # the current issue has an answer the customer has not disputed
    for turn in _turns(messages, decisions):
        start, end, text = turn.start, turn.end, turn.text
        kind, current = _kind(text), found[-1]
        offered = _offered(turn.replies)
        if kind in ("helpful", "thanks"):
            if answered:
                current.resolved = True
                found.append(Issue(start=end))
                answered = False
            continue
        if kind == "question" and answered and _moved_on(text, offered, current):
            current.resolved = True
            current = Issue(start=start)
            found.append(current)
        if kind in ("question", "not_solved"):
            current.words.append(text)
        if kind in ("unhelpful", "not_solved"):
            answered = False
        current.offered += [e for e in offered if e not in current.offered]
        if turn.decision == ANSWER:
            answered = True
        elif turn.decision is not None:
            answered = False
    return found


def open_issue(messages: Sequence[MessageLike], decisions: Mapping[int, str]) -> OpenIssue:
    """The open issue of a conversation (its messages in order, the stored bot decisions by
    message id), by the rule in the docstring."""
    found = issues(messages, decisions)
    current = next((i for i in reversed(found) if i.words), found[-1])
    settled = {e for i in found if i is not current for e in i.offered} - set(current.offered)
    return OpenIssue("\n".join(current.words[-BACKGROUND_LINES:]), current.start,
                     current.offered, settled)
