"""The agents' handoff queue: list escalation records and move them through their lifecycle."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from assist_api.auth.dependencies import require
from assist_api.auth.keys import Principal, Role
from assist_api.routes.validation import plain_text
from gateway.handoffs.replies import resolution_check
from gateway.handoffs.service import HandoffConflict, HandoffNotFound

router = APIRouter(prefix="/api", tags=["handoffs"])

Status = Literal["queued", "assigned", "in_progress", "resolved", "closed"]


@router.get("/handoffs")
def list_handoffs(
    request: Request,
    status: Status | None = None,
    priority: Literal["urgent", "high", "normal"] | None = None,
    sla: Literal["breached", "at_risk", "ok"] | None = None,
    owner: str | None = None,
    agent: Principal = require(Role.agent),
) -> list[dict]:
    """The queue, most urgent and oldest first; `sla` filters on the deadline that applies now."""
    service = request.app.state.handoffs
    return [service.json(h) for h in service.list(status, priority, sla, owner)]


@router.get("/handoffs/{handoff_id}")
def get_handoff(handoff_id: int, request: Request, agent: Principal = require(Role.agent)) -> dict:
    """One escalation record with its audited status events."""
    try:
        return request.app.state.handoffs.record(handoff_id)
    except HandoffNotFound:
        raise HTTPException(404, f"no handoff {handoff_id}") from None


def _transition(action: str):
    def endpoint(handoff_id: int, request: Request, agent: Principal = require(Role.agent)) -> dict:
        try:
            service = request.app.state.handoffs
            handoff = service.transition(handoff_id, action, agent.name)
            if action == "resolve":
                # Ask the customer to confirm; their 已解决 closes the case, 还没解决 reopens it.
                check = resolution_check()
                request.app.state.conversations.add_message(
                    handoff.conversation_id, "system", check["text"], check["buttons"])
            return service.json(handoff)
        except HandoffNotFound:
            raise HTTPException(404, f"no handoff {handoff_id}") from None
        except HandoffConflict as exc:
            raise HTTPException(409, str(exc)) from None

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
                         summary=f"{_action.capitalize()} a handoff", description=_doc)


class Transfer(BaseModel):
    to: str = Field(min_length=1, max_length=128, examples=["agent-wang"])
    note: str | None = Field(default=None, max_length=500, examples=["宽带故障需要二线技术支持"])


@router.post("/handoffs/{handoff_id}/transfer")
def transfer_handoff(handoff_id: int, body: Transfer, request: Request,
                     agent: Principal = require(Role.agent)) -> dict:
    """Hand a claimed case to another agent (owner only); audited."""
    try:
        service = request.app.state.handoffs
        return service.json(service.transfer(handoff_id, agent.name, body.to, body.note))
    except HandoffNotFound:
        raise HTTPException(404, f"no handoff {handoff_id}") from None
    except HandoffConflict as exc:
        raise HTTPException(409, str(exc)) from None


class AgentMessage(BaseModel):
    text: str = Field(min_length=1, max_length=2000, examples=["您好，我是客服小李，马上为您查询。"])

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return plain_text(v)


@router.get("/conversations/{conversation_id}/messages")
def conversation_messages(conversation_id: str, request: Request, after: int = 0,
                          agent: Principal = require(Role.agent)) -> list[dict]:
    """Everything said in a handed-off conversation, including what the customer wrote after
    the handoff (the record's transcript is the snapshot taken at handoff time)."""
    if request.app.state.handoffs.for_conversation(conversation_id) is None:
        raise HTTPException(404, "no handed-off conversation with this id")
    return [m.__dict__ for m in request.app.state.conversations.messages(conversation_id, after)]


@router.post("/conversations/{conversation_id}/agent-messages")
def agent_message(conversation_id: str, body: AgentMessage, request: Request,
                  agent: Principal = require(Role.agent)) -> dict:
    """Send a reply to the customer as the owning agent; the first one starts the case and stamps the first response time."""
    handoffs = request.app.state.handoffs
    handoff = handoffs.for_conversation(conversation_id)
    if handoff is None:
        raise HTTPException(404, "no handed-off conversation with this id")
    if handoff.status == "closed":
        raise HTTPException(409, "the conversation is closed; reopen the handoff first")
    try:
        handoffs.record_agent_reply(handoff.id, agent.name)
    except HandoffConflict as exc:
        raise HTTPException(409, str(exc)) from None
    message = request.app.state.conversations.add_message(
        conversation_id, "agent", body.text.strip(), agent_id=agent.name)
    return {"id": message.id, "conversation_id": conversation_id, "sender": "agent", "text": message.text}
