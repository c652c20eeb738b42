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
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from assist_api.conversations.service import ConversationNotFound, ConversationService

QUEUE_CHECK_S = 2.0


def event(name: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def conversation_events(
    conversations: ConversationService,
    conversation_id: str,
    after: int,
    *,
    poll_s: float,
    max_s: float,
    heartbeat_s: float,
    disconnected: Callable[[], Awaitable[bool]],
    queue_status: Callable[[str], dict[str, Any] | None] | None = None,
) -> AsyncIterator[str]:
    """`queue_status` (conversation id → position, wait, deadline; None when not queued) adds a
    `queue` event whenever where the customer stands changes, so the widget shows it live."""
    yield "retry: 1000\n\n"  # reconnect after a second when the stream drops
    started = last_beat = time.monotonic()
    state = None
    queue: dict[str, Any] | None = None
    queue_checked = 0.0
    while True:
        rows = await run_in_threadpool(conversations.messages, conversation_id, after)
        for row in rows:
            after = row.id
            yield event("message", row.__dict__, row.id)
        try:
            current = (await run_in_threadpool(conversations.get, conversation_id)).state
        except ConversationNotFound:
            return
        if current != state:
            state = current
            yield event("state", {"state": state})
        # The position moves slowly: looked up every couple of seconds, not every poll.
        if queue_status is not None and (state == "queued" or queue is not None) and (
                time.monotonic() - queue_checked >= QUEUE_CHECK_S or state != "queued"):
            queue_checked = time.monotonic()
            now_queue = await run_in_threadpool(queue_status, conversation_id) if state == "queued" else None
            if now_queue != queue:
                queue = now_queue
                yield event("queue", queue or {"position": None})
        now = time.monotonic()
        if now - started >= max_s or await disconnected():
            return
        if now - last_beat >= heartbeat_s:
            last_beat = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(poll_s)
