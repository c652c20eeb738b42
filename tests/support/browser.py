"""Helpers for the browser tests' live stack (the `live` fixture in tests/browser/conftest.py)."""

from __future__ import annotations

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
