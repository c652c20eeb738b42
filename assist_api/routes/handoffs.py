"""The agents' handoff queue: list escalation records and move them through their lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator

from assist_api.deps import ConversationsDep, CurrentAgent, FeedbackDep, HandoffsDep
from assist_api.routes.validation import plain_text
from assist_api.schemas.conversations import AgentMessageOut, MessageOut
from assist_api.schemas.handoffs import HandoffOut, HandoffRecordOut, HandoffStatus
from gateway.handoffs.replies import resolution_check

router = APIRouter(prefix="/api", tags=["handoffs"])


@router.get("/handoffs", response_model=list[HandoffOut])
def list_handoffs(
    service: HandoffsDep,
    agent: CurrentAgent,
    status: HandoffStatus | None = None,
    priority: Literal["urgent", "high", "normal"] | None = None,
    sla: Literal["breached", "at_risk", "ok"] | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """The queue, most urgent and oldest first; `sla` filters on the deadline that applies now."""
    return [service.json(h) for h in service.list(status, priority, sla, owner)]


@router.get("/handoffs/{handoff_id}", response_model=HandoffRecordOut)
def get_handoff(handoff_id: int, service: HandoffsDep, feedback: FeedbackDep, agent: CurrentAgent) -> dict[str, Any]:
    """One escalation record with its audited status events and label corrections."""
    record = service.record(handoff_id)
    record["corrections"] = feedback.corrections(handoff_id)
    return record


def _transition(action: str) -> Callable[..., dict[str, Any]]:
    def endpoint(handoff_id: int, service: HandoffsDep, conversations: ConversationsDep,
                 agent: CurrentAgent) -> dict[str, Any]:
        handoff = service.transition(handoff_id, action, agent.name)
        if action == "resolve":
            # Ask the customer to confirm; their 已解决 closes the case, 还没解决 reopens it.
            check = resolution_check()
            conversations.add_message(handoff.conversation_id, "system", check["text"], check["buttons"])
        return service.json(handoff)

    endpoint.__name__ = f"{action}_handoff"
    return endpoint


TRANSITION_DOCS = {
    "claim": "Take a queued case; the claiming agent becomes its first-contact owner.",
    "resolve": "Mark the owner's case resolved and ask the customer to confirm (已解决 closes it, "
               "还没解决 reopens it).",
    "close": "Close the case; the conversation closes and the customer's next message goes to the bot.",
    "reopen": "Reopen a resolved or closed case for its owner.",
}
for _action, _doc in TRANSITION_DOCS.items():
    router.add_api_route(f"/handoffs/{{handoff_id}}/{_action}", _transition(_action), methods=["POST"],
                         summary=f"{_action.capitalize()} a handoff", description=_doc,
                         response_model=HandoffOut)


class Transfer(BaseModel):
    to: str = Field(min_length=1, max_length=128, examples=["agent-wang"])
    note: str | None = Field(default=None, max_length=500, examples=["宽带故障需要二线技术支持"])


@router.post("/handoffs/{handoff_id}/transfer", response_model=HandoffOut)
def transfer_handoff(handoff_id: int, body: Transfer, service: HandoffsDep, agent: CurrentAgent) -> dict[str, Any]:
    """Hand a claimed case to another agent (owner only); audited."""
    return service.json(service.transfer(handoff_id, agent.name, body.to, body.note))


class AgentMessage(BaseModel):
    text: str = Field(min_length=1, max_length=2000, examples=["您好，我是客服小李，马上为您查询。"])

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return plain_text(v)


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
def conversation_messages(conversation_id: str, handoffs: HandoffsDep, conversations: ConversationsDep,
                          agent: CurrentAgent, after: int = 0) -> list[dict[str, Any]]:
    """Everything said in a handed-off conversation, including what the customer wrote after
    the handoff (the record's transcript is the snapshot taken at handoff time)."""
    if handoffs.for_conversation(conversation_id) is None:
        raise HTTPException(404, "no handed-off conversation with this id")
    return [m.__dict__ for m in conversations.messages(conversation_id, after)]


@router.post("/conversations/{conversation_id}/agent-messages", response_model=AgentMessageOut)
def agent_message(conversation_id: str, body: AgentMessage, handoffs: HandoffsDep,
                  conversations: ConversationsDep, agent: CurrentAgent) -> dict[str, Any]:
    """Send a reply to the customer as the owning agent; the first one starts the case and stamps
    the first response time."""
    handoff = handoffs.for_conversation(conversation_id)
    if handoff is None:
        raise HTTPException(404, "no handed-off conversation with this id")
    if handoff.status == "closed":
        raise HTTPException(409, "the conversation is closed; reopen the handoff first")
    handoffs.record_agent_reply(handoff.id, agent.name)
    message = conversations.add_message(conversation_id, "agent", body.text.strip(), agent_id=agent.name)
    return {"id": message.id, "conversation_id": conversation_id, "sender": "agent", "text": message.text}
