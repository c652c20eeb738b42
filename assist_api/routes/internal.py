"""Internal API for the action server (shared service token): handoffs and answer feedback."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from assist_api.auth.dependencies import require_service
from assist_api.deps import ConversationsDep, HandoffsDep
from assist_api.schemas.common import Stored
from assist_api.schemas.handoffs import HandoffCreatedOut, HandoffStatusOut
from gateway.conversations.service import ConversationNotFound
from gateway.handoffs.models import HandoffReason
from gateway.handoffs.replies import handoff_confirmation

router = APIRouter(prefix="/api/internal", tags=["internal"], dependencies=[Depends(require_service)])


class TriedEntry(BaseModel):
    id: str
    question: str
    confidence: float


class HandoffRequest(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "conversation_id": "65a076baec1e4891bdb14c15d95f4223", "reason": "no_answer",
        "bot_tried": [{"id": "broadband-006", "question": "宽带经常掉线怎么办？", "confidence": 0.42}],
        "category": "broadband", "category_confidence": 0.42}]}}

    conversation_id: str
    reason: Literal["user_request", "no_answer", "unhelpful", "emotion", "urgent", "complaint"]
    bot_tried: list[TriedEntry] = Field(default_factory=list)
    category: str | None = None
    category_confidence: float = 0.0


@router.post("/handoffs", response_model=HandoffCreatedOut)
def create_handoff(body: HandoffRequest, service: HandoffsDep) -> dict[str, Any]:
    """Action server only: create (or, when retried, return) the conversation's escalation record
    and the text to tell the customer."""
    try:
        outcome = service.create(
            body.conversation_id, HandoffReason(body.reason),
            [t.model_dump() for t in body.bot_tried], body.category, body.category_confidence,
        )
    except ConversationNotFound:
        raise HTTPException(404, "no such conversation") from None
    return {
        "handoff_id": outcome.handoff.id,
        "created": outcome.created,
        "status": outcome.handoff.status,
        "priority": outcome.handoff.priority,
        "queue_position": outcome.queue_position,
        "in_business_hours": outcome.in_business_hours,
        "first_response_due": outcome.handoff.first_response_due.isoformat(),
        "message": handoff_confirmation(outcome, service.levels),
    }


@router.get("/conversations/{conversation_id}/handoff", response_model=HandoffStatusOut)
def handoff_status(conversation_id: str, service: HandoffsDep) -> dict[str, Any]:
    """Action server only: the conversation's (or else the customer's latest) handoff status."""
    # This conversation's record, else the customer's latest one (they may ask in a new chat).
    handoff = service.for_conversation(conversation_id) or service.latest_for_customer_of(conversation_id)
    if handoff is None:
        raise HTTPException(404, "no handoff for this conversation or customer")
    return {
        "handoff_id": handoff.id,
        "status": handoff.status,
        "queue_position": service.queue_position(handoff.id),
        "first_response_due": handoff.first_response_due.isoformat(),
    }


class Feedback(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "conversation_id": "65a076baec1e4891bdb14c15d95f4223", "entry_id": "broadband-006", "helpful": False}]}}

    conversation_id: str
    entry_id: str
    helpful: bool


@router.post("/feedback", response_model=Stored)
def feedback(body: Feedback, conversations: ConversationsDep) -> Stored:
    """Action server only: store a 有帮助 / 没帮助 mark on a KB answer."""
    try:
        conversations.record_feedback(body.conversation_id, body.entry_id, body.helpful)
    except ConversationNotFound:
        raise HTTPException(404, "no such conversation") from None
    return Stored(ok=True)
