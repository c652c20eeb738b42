"""The request id and conversation id of the work in progress (context variables), carried
gateway → Rasa (message metadata) → action server → gateway (X-Request-ID header)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
METADATA_KEY = "request_id"
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CONVERSATION_ID: ContextVar[str | None] = ContextVar("conversation_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def accept_or_new(value: str | None) -> str:
    """A caller's request id when well-formed (no log injection), else a fresh one."""
    if value and _VALID.match(value):
        return value
    return uuid.uuid4().hex


def request_id() -> str | None:
    return REQUEST_ID.get()
