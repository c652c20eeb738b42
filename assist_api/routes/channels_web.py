"""The web chat channel: customers send messages and fetch what agents wrote."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from assist_api.deps import ConversationsDep, GatewayDep, RateLimited, ServiceTokenDep
from assist_api.routes.validation import plain_text
from assist_api.security import rate_limit
from gateway.conversations import stream_token
from gateway.conversations.service import ConversationNotFound

router = APIRouter(prefix="/api/channels/web", tags=["web channel"])


class CustomerMessage(BaseModel):
    customer_id: str = Field(min_length=1, max_length=128, examples=["web-user-42"])
    text: str = Field(min_length=1, max_length=2000, examples=["宽带老是掉线怎么办"])
    conversation_id: str | None = Field(default=None, max_length=32)
    profile: dict[str, str] | None = Field(
        default=None, description="What the site knows about the customer (stored PII-masked).",
        examples=[{"name": "王女士", "phone": "13812345678", "level": "星级客户"}])

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return v
        unknown = set(v) - {"name", "phone", "level", "city"}
        if unknown:
            raise ValueError(f"unknown profile field(s): {', '.join(sorted(unknown))} "
                             "(allowed: name, phone, level, city)")
        if any(len(x) > 100 or "\x00" in x for x in v.values()):
            raise ValueError("profile values must be at most 100 characters")
        return v

    @field_validator("text", "customer_id")
    @classmethod
    def _text(cls, v: str) -> str:
        return plain_text(v)


class Button(BaseModel):
    title: str
    payload: str


class Reply(BaseModel):
    text: str
    buttons: list[Button] | None = None


class ChannelReply(BaseModel):
    conversation_id: str
    state: Literal["bot", "queued", "agent", "closed"]
    replies: list[Reply]


def message_customer(body: CustomerMessage) -> str:
    """The customer a message is from (its bucket is charged before anything is stored)."""
    return body.customer_id


def query_customer(customer_id: Annotated[str, Query(min_length=1, max_length=128)]) -> str:
    return customer_id


@router.post("/messages", response_model=ChannelReply, response_model_exclude_none=True,
             responses=rate_limit.RESPONSES, dependencies=[RateLimited(message_customer)])
async def post_message(body: CustomerMessage, response: Response, gateway: GatewayDep,
                       service_token: ServiceTokenDep) -> ChannelReply:
    """A customer message from the web channel. Stored (PII masked), then routed by the
    conversation's state: answered by the bot, or queued for the agent (no replies) after a
    handoff. The `X-Conversation-Token` response header opens this conversation's live stream
    (`GET .../events`)."""
    try:
        result = await gateway.handle(
            "web", body.customer_id, body.text.strip(), body.conversation_id, body.profile)
    except ConversationNotFound:
        raise HTTPException(404, "no such conversation for this customer") from None
    response.headers[stream_token.HEADER] = stream_token.issue(
        service_token, result.conversation_id, body.customer_id)
    return ChannelReply.model_validate(
        {"conversation_id": result.conversation_id, "state": result.state, "replies": result.replies})


class StoredMessageOut(BaseModel):
    id: int
    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    buttons: list[Button] | None = None
    created_at: str


@router.get("/conversations/{conversation_id}/messages", response_model=list[StoredMessageOut],
            responses=rate_limit.RESPONSES, dependencies=[RateLimited(query_customer)])
async def get_messages(
    conversation_id: str,
    conversations: ConversationsDep,
    customer_id: Annotated[str, Query(min_length=1, max_length=128)],
    after: Annotated[int, Query(ge=0, description="Only messages with a larger id (for polling).")] = 0,
) -> list[StoredMessageOut]:
    """The customer's own conversation (poll with `after` for agent replies); 404 for anyone else."""
    try:
        conv = await run_in_threadpool(conversations.get, conversation_id)
    except ConversationNotFound:
        conv = None
    if conv is None or conv.customer_id != customer_id:
        raise HTTPException(404, "no such conversation for this customer")
    rows = await run_in_threadpool(conversations.messages, conversation_id, after)
    return [StoredMessageOut(**row.__dict__) for row in rows]
