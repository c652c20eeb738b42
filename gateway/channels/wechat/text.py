"""Bot replies as WeChat plain text, and the customer's typed choice back to a button payload.

WeChat text messages have no buttons and no Markdown: the answer's Markdown is flattened and a
turn's buttons become a numbered list; the customer answers with the number (or the title),
which is sent on as the button's payload, the way the web widget sends a click."""

from __future__ import annotations

import re
from typing import Any

# WeChat refuses text messages longer than 2048 bytes; longer answers are split.
MAX_TEXT_BYTES = 2000
CHOICE_HINT = "（回复数字即可选择）"

_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(.+?)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)


def flatten_markdown(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)}（{m.group(2)}）" if m.group(1) else m.group(2), text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub(r"\1• ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render(replies: list[dict[str, Any]]) -> str | None:
    """One turn's replies as one WeChat text (None when there is nothing to say)."""
    parts: list[str] = []
    number = 0
    options: list[str] = []
    for reply in replies:
        if reply.get("text"):
            parts.append(flatten_markdown(reply["text"]))
        for button in reply.get("buttons") or []:
            number += 1
            options.append(f"{number}. {button['title']}")
    if options:
        parts.append("\n".join(options) + "\n" + CHOICE_HINT)
    text = "\n\n".join(p for p in parts if p)
    return text or None


def choose(text: str, offered: list[dict[str, str]]) -> str:
    """The payload the customer picked by number or by title, else their text unchanged."""
    typed = text.strip()
    if not offered:
        return text
    if typed.isdigit() and 1 <= int(typed) <= len(offered):
        return offered[int(typed) - 1]["payload"]
    for button in offered:
        if typed == button["title"]:
            return button["payload"]
    return text


def split(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces under WeChat's size limit, cut at paragraph or line ends where possible."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:  # one enormous line: cut by characters
            head = line[: limit // 4]
            if current:
                pieces.append(current.rstrip())
                current = ""
            pieces.append(head)
            line = line[len(head):]
        if len((current + line).encode("utf-8")) > limit:
            pieces.append(current.rstrip())
            current = ""
        current += line
    if current.strip():
        pieces.append(current.rstrip())
    return [p for p in pieces if p]
