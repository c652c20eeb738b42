"""The web widget's live stream: server-sent events of the customer's own conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from assist_api.deps import (
    ConversationsDep,
    CsatDep,
    RateGateDep,
    RateLimited,
    ServiceTokenDep,
    SettingsDep,
    WaitingRoomDep,
)
from assist_api.schemas.conversations import CsatOut
from assist_api.security import rate_limit
from gateway.conversations import stream_token
from gateway.conversations.csat import CsatRefused
from gateway.conversations.live import ConversationWatch, paced
from gateway.conversations.models import Conversation
from gateway.conversations.service import ConversationNotFound

router = APIRouter(prefix="/api/channels/web", tags=["web channel"])


async def own_conversation(
    _per_ip: Annotated[None, RateLimited()],  # first, before the lookup: token guessing
    conversation_id: str,
    token: Annotated[str, Query(min_length=1, max_length=100, description="The conversation's stream token.")],
    conversations: ConversationsDep,
    service_token: ServiceTokenDep,
    gate: RateGateDep,
) -> Conversation:
    """The conversation this token opens; the same 404 for wrong tokens and unknown ids. Its
    customer's bucket is charged once the token has shown who the customer is."""
    try:
        conv: Conversation | None = await run_in_threadpool(conversations.get, conversation_id)
    except ConversationNotFound:
        conv = None
    if conv is None or not stream_token.verify(service_token, conv.id, conv.customer_id, token):
        raise HTTPException(404, "no such conversation for this token")
    gate.check(customer=conv.customer_id, ip=False)
    return conv


OwnConversation = Annotated[Conversation, Depends(own_conversation)]

STREAM_DOC = """Server-sent events for one conversation, for the customer who owns it (the `token` is the
`X-Conversation-Token` header of the gateway's replies to that customer). Events: `message`
(id = the message id; data = `{"id", "sender", "text", "buttons"?, "created_at"}`) for every
message after `after` (or the `Last-Event-ID` a reconnecting browser sends), then for new
ones as they are stored; `state` (`{"state": "bot" | "queued" | "agent" | "closed"}`) when the
conversation's state changes; `queue` (`{"ticket", "position", "ahead", "expected_wait_min", "due",
"in_business_hours", "resume_at", "message_left"}`, or `{"position": null}` once no longer queued)
while the customer waits for an agent, whenever that changes. The stream ends after a few
minutes and the browser reconnects where it stopped. A wrong token, an unknown conversation and
another customer's conversation all get the same 404."""


@router.get("/conversations/{conversation_id}/events", description=STREAM_DOC,
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example":
                'id: 42\nevent: message\ndata: {"id": 42, "sender": "agent", "text": "您好，我是客服小李。", '
                '"buttons": null, "created_at": "2026-11-24T08:00:00+00:00"}\n\n'}}},
                       404: {"description": "no such conversation for this token"}, **rate_limit.RESPONSES})
async def conversation_stream(
    conv: OwnConversation,
    request: Request,
    conversations: ConversationsDep,
    waiting: WaitingRoomDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, description="Send messages with a larger id than this.")] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    watch = ConversationWatch(conversations, conv.id, after, queue_status=waiting.status_json)
    events = paced(watch.step, poll_s=settings.live_poll_interval_s, max_s=settings.live_stream_max_s,
                   heartbeat_s=settings.live_heartbeat_s, disconnected=request.is_disconnected)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


class Csat(BaseModel):
    score: int = Field(ge=1, le=5, examples=[5], description="1 (very dissatisfied) to 5 (very satisfied).")


@router.post("/conversations/{conversation_id}/csat", status_code=201, response_model=CsatOut,
             responses={404: {"description": "no such conversation for this token"},
                        409: {"description": "still open, not served by an agent, or rated already"},
                        **rate_limit.RESPONSES})
async def rate_conversation(body: Csat, conv: OwnConversation, csat: CsatDep) -> CsatOut:
    """The customer's satisfaction score (1–5) for a closed conversation an agent served, once per
    conversation; `token` as for the stream."""
    try:
        rating = await run_in_threadpool(csat.rate, conv.id, body.score)
    except CsatRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return CsatOut(conversation_id=conv.id, score=rating.score, handoff_id=rating.handoff_id)
