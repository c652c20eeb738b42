"""Server-sent events of one conversation: every stored message after a given id, then new
ones as they are stored, plus the conversation's state when it changes.

Messages are read from the database (not from process memory), so a customer connected to one
gateway replica sees what an agent wrote through another. A stream ends after a while; the
browser's EventSource reconnects with `Last-Event-ID` and continues where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from gateway.conversations.service import ConversationNotFound, ConversationService
from gateway.threads import run_in_threadpool

QUEUE_CHECK_S = 2.0


def event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def paced(
    step: Callable[[], list[str] | None],
    *,
    poll_s: float,
    max_s: float,
    heartbeat_s: float,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Run `step` (blocking, database reads) every `poll_s` and send what it returns, with a
    keep-alive comment every `heartbeat_s`, until `max_s` passed, the client left or `step`
    returned None. Every event stream (the widget's, the agent console's) is one of these."""
    yield "retry: 1000\n\n"  # reconnect after a second when the stream drops
    started = last_beat = time.monotonic()
    while True:
        chunks = await run_in_threadpool(step)
        if chunks is None:
            return
        for chunk in chunks:
            yield chunk
        now = time.monotonic()
        if now - started >= max_s or await disconnected():
            return
        if now - last_beat >= heartbeat_s:
            last_beat = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(poll_s)


class ConversationWatch:
    """One customer stream: `message` for every message after `after`, `state` when the
    conversation's state changes and, with `queue_status` (conversation id → position, wait,
    deadline; None when not queued), `queue` whenever where a waiting customer stands changes,
    so the widget shows it live."""

    def __init__(self, conversations: ConversationService, conversation_id: str, after: int,
                 queue_status: Callable[[str], dict[str, Any] | None] | None = None) -> None:
        self.conversations = conversations
        self.conversation_id = conversation_id
        self.after = after
        self.queue_status = queue_status
        self.state: str | None = None
        self.queue: dict[str, Any] | None = None
        self.queue_checked = 0.0

    def step(self) -> list[str] | None:
        chunks = []
        for row in self.conversations.messages(self.conversation_id, self.after):
            self.after = row.id
            chunks.append(event("message", row.__dict__, row.id))
        try:
            current = self.conversations.get(self.conversation_id).state
        except ConversationNotFound:
            return None
        if current != self.state:
            self.state = current
            chunks.append(event("state", {"state": current}))
        if self.queue_status is not None:
            chunks.extend(self._queue_change())
        return chunks

    def _queue_change(self) -> list[str]:
        # The position moves slowly: looked up every couple of seconds, not every poll.
        queued = self.state == "queued"
        if queued and time.monotonic() - self.queue_checked < QUEUE_CHECK_S:
            return []
        self.queue_checked = time.monotonic()
        now = self.queue_status(self.conversation_id) if queued and self.queue_status else None
        if now == self.queue:
            return []
        self.queue = now
        return [event("queue", now or {"position": None})]
