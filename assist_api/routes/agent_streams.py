"""The agent console's live updates: server-sent events of the handoff queue and of the open
case, and the stream tickets a browser opens them with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assist_api.auth import stream_ticket
from assist_api.deps import ConversationsDep, CurrentAgent, HandoffsDep, ServiceTokenDep, SettingsDep, StreamAgent
from config.settings import Settings
from gateway.conversations.live import paced
from gateway.handoffs.live import CaseWatch, QueueWatch

router = APIRouter(prefix="/api", tags=["handoffs"])

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
AUTH_DOC = """Credentials: the agent's API key in the `Authorization` header, or (a browser's
EventSource cannot send headers) a `ticket` from `POST /api/stream-tickets` in the query; a
ticket opens streams for a minute after it is issued, and only while its key is not revoked.
The stream ends after a few minutes; the browser reconnects (with a fresh ticket once the old
one has expired)."""

QUEUE_STREAM_DOC = """Server-sent events of the handoff queue, for the agent console. `status` and
`owner` filter like `GET /api/handoffs`. Events: `snapshot` (`{"records": [record, ...]}`, the
listed cases, most urgent and oldest first) when the stream opens; then `case`
(`{"change": "added" | "changed" | "sla", "record": record}`) when a case starts to match the
filter, changes (status, owner, first response) or its SLA state moves as time passes
(`ok` → `at_risk` → `breached`); `gone` (`{"id"}`) when a listed case no longer matches; and
`new` (a record) for every case created, listed or not, so the console can alert on it. A
record is what `GET /api/handoffs` returns; `sla.at_risk_from` says when the deadline that
applies now turns at risk. Everything is read from the database, so streams on every gateway
replica see every change within a fraction of a second.

""" + AUTH_DOC

CASE_STREAM_DOC = """Server-sent events of one handed-off conversation, for the agent console's
open case. Events: `record` (the escalation record with its `events`, as `GET
/api/handoffs/{id}` returns it) first and whenever it changes; `message` (id = the message id;
data = `{"id", "sender", "text", "buttons"?, "created_at"}`) for every message after `after`
(or the `Last-Event-ID` a reconnecting browser sends), then for new ones as they are stored
(the customer's, the bot's, agents' and system messages); `ready` (`{"after"}`) once the
messages stored before the stream opened are sent: later messages are new. 404 when the
conversation was never handed off.

""" + AUTH_DOC


def _stream(request: Request, settings: Settings, step: Callable[[], Any]) -> StreamingResponse:
    events = paced(step, poll_s=settings.live_poll_interval_s, max_s=settings.live_stream_max_s,
                   heartbeat_s=settings.live_heartbeat_s, disconnected=request.is_disconnected)
    return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)


class Ticket(BaseModel):
    ticket: str = Field(description="Pass as the `ticket` query parameter of an agent event stream.")
    expires_in: int = Field(examples=[60], description="Seconds during which it opens streams.")


@router.post("/stream-tickets", response_model=Ticket, tags=["auth"])
def issue_stream_ticket(agent: CurrentAgent, settings: SettingsDep, service_token: ServiceTokenDep) -> Ticket:
    """A short-lived ticket that opens the agent event streams (`GET /api/handoffs/events`,
    `GET /api/conversations/{id}/events`) from a browser's EventSource, which cannot send the
    API key as a header; it keeps the key itself out of URLs."""
    ttl = settings.console_stream_ticket_ttl_s
    return Ticket(ticket=stream_ticket.issue(service_token, agent, ttl), expires_in=ttl)


@router.get("/handoffs/events", description=QUEUE_STREAM_DOC, response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example":
                'event: new\ndata: {"id": 7, "conversation_id": "3f2a…", "status": "queued", '
                '"priority": "high", "sla": {"state": "ok", "at_risk_from": "2026-11-24T08:08:00+00:00"}}\n\n'}}},
                       401: {"description": "no valid API key or stream ticket"}})
async def queue_stream(
    request: Request,
    agent: StreamAgent,
    handoffs: HandoffsDep,
    settings: SettingsDep,
    status: Literal["queued", "assigned", "in_progress", "resolved", "closed"] | None = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
) -> StreamingResponse:
    return _stream(request, settings, QueueWatch(handoffs, status, owner).step)


@router.get("/conversations/{conversation_id}/events", description=CASE_STREAM_DOC,
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example":
                'id: 42\nevent: message\ndata: {"id": 42, "sender": "customer", "text": "还没好吗？", '
                '"buttons": null, "created_at": "2026-11-24T08:03:00+00:00"}\n\n'}}},
                       401: {"description": "no valid API key or stream ticket"},
                       404: {"description": "no handed-off conversation with this id"}})
async def case_stream(
    conversation_id: str,
    request: Request,
    agent: StreamAgent,
    handoffs: HandoffsDep,
    conversations: ConversationsDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, description="Send messages with a larger id than this.")] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    if await run_in_threadpool(handoffs.for_conversation, conversation_id) is None:
        raise HTTPException(404, "no handed-off conversation with this id")
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    watch = CaseWatch(handoffs, conversations, conversation_id, after)
    return _stream(request, settings, watch.step)
