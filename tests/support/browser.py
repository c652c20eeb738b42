"""Helpers for the browser tests' live stack (the `live` fixture in tests/browser/conftest.py)."""

from __future__ import annotations

import time
import uuid
from typing import Any


def hand_off(live: Any, text: str, prefix: str = "web") -> tuple[str, str]:
    """A customer writes and asks for a human through the gateway API: (customer, conversation)."""
    who = f"{prefix}-{uuid.uuid4().hex[:8]}"
    reply = live.api.post("/api/channels/web/messages", json={"customer_id": who, "text": text}).json()
    conv = reply["conversation_id"]
    if reply["state"] != "queued":
        reply = live.api.post("/api/channels/web/messages",
                              json={"customer_id": who, "text": "转人工", "conversation_id": conv}).json()
    assert reply["state"] == "queued"
    return who, conv


def wait_for_bot_index(live: Any, within_s: float = 15.0) -> None:
    """Wait until the action server's search index holds the KB's latest revision (it follows
    the store every couple of seconds, recalibrating as it rebuilds), so the bot answers from it."""
    deadline = time.monotonic() + within_s
    while True:
        state = live.api.get(f"{live.actions_url}/health/index").json()
        if state["index_revision"] >= state["kb_revision"]:
            return
        assert time.monotonic() < deadline, f"the bot's index is still behind the KB after {within_s} s: {state}"
        time.sleep(0.1)
