"""Agent assist: classify a ticket, suggest replies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool

from assist_api.assist.classifier import TicketClassifier
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from assist_api.auth.keys import Principal
from assist_api.deps import (
    ClassifierDep,
    ConversationsDep,
    CurrentAgent,
    HandoffsDep,
    SearchEngineDep,
    SuggesterDep,
    TemplatesDep,
)
from assist_api.routes.validation import plain_text
from gateway.conversations.service import ConversationService
from gateway.handoffs.replies import local_time
from gateway.handoffs.service import HandoffService
from kb.search.engine import SearchEngine

router = APIRouter(prefix="/api/assist", tags=["agent assist"])


class ClassifyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000,
                      examples=["我的宽带从昨天开始就断了，打了三次电话都没人管，太过分了！"])
    history: list[str] = Field(default_factory=list, max_length=50,
                               description="Earlier customer messages, oldest first.")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return plain_text(v)


class Label(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


class ClassifyResponse(BaseModel):
    category: Label
    priority: Label
    complexity: Label
    emotion: Label
    route: str
    is_complaint: bool
    is_complaint_confidence: float
    keywords: list[str]


@router.post("/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, classifier: ClassifierDep, agent: CurrentAgent) -> dict[str, Any]:
    """Classify a customer message (earlier turns as context): category, priority, complexity,
    emotion with calibrated confidences, route, complaint flag, keywords."""
    return await run_in_threadpool(classifier.classify, body.text, [h for h in body.history if h.strip()])


class SuggestRequest(BaseModel):
    conversation_id: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=2000,
                             examples=["你们到底什么时候来修？我已经等了两天了！"])
    k: int = Field(default=3, ge=1, le=10)
    channel: str = Field(default="web", pattern="^(web|wechat)$")

    @model_validator(mode="after")
    def _one_source(self) -> SuggestRequest:
        if not self.conversation_id and not (self.text and self.text.strip()):
            raise ValueError("give a conversation_id or a non-empty text")
        if self.text is not None:
            plain_text(self.text)
        return self


class SuggestionOut(BaseModel):
    text: str
    source: str
    item_id: str = Field(description="The template id or KB entry id, as suggestion events name it.")
    rank: int = Field(ge=1, description="Position in this list, from 1.")
    template_id: str | None = None
    kb_id: str | None = None
    score: float
    stage: str | None = None


class SuggestResponse(BaseModel):
    impression_id: str = Field(description="Names this list in the suggestion events the console reports "
                                           "(POST /api/assist/events).")
    classification: ClassifyResponse
    suggestions: list[SuggestionOut]


@dataclass(frozen=True)
class SuggestServices:
    """What a suggestion draws on: the case and its messages, the classifier, the template
    library and the published KB."""

    handoffs: HandoffService
    conversations: ConversationService
    classifier: TicketClassifier
    suggester: Suggester
    templates: TemplateStore
    engine: SearchEngine


def suggest_services(handoffs: HandoffsDep, conversations: ConversationsDep, classifier: ClassifierDep,
                     suggester: SuggesterDep, templates: TemplatesDep, engine: SearchEngineDep) -> SuggestServices:
    return SuggestServices(handoffs, conversations, classifier, suggester, templates, engine)


@router.post("/suggest", response_model=SuggestResponse, response_model_exclude_none=True)
async def suggest(body: SuggestRequest, services: Annotated[SuggestServices, Depends(suggest_services)],
                  agent: CurrentAgent) -> dict[str, Any]:
    """Ranked reply suggestions (templates with variables filled, KB answers) for a handed-off
    conversation or a text."""
    return await run_in_threadpool(_suggest, services, body, agent)


def _suggest(services: SuggestServices, body: SuggestRequest, agent: Principal) -> dict[str, Any]:
    variables = {"agent_name": agent.name, "eta": "30分钟"}
    history: list[str] = []
    text = body.text or ""
    agent_has_replied = True
    messages: list[Any] | None = None  # the whole conversation: suggestions follow where it stands
    if body.conversation_id:
        handoff = services.handoffs.for_conversation(body.conversation_id)
        if handoff is None:
            raise HTTPException(404, "no handed-off conversation with this id")
        messages = services.conversations.messages(body.conversation_id)
        customer = [m.text for m in messages if m.sender == "customer" and not m.text.startswith("/")]
        agent_has_replied = any(m.sender == "agent" for m in messages)
        if not text:
            text, history = (customer[-1] if customer else ""), customer[:-1]
        else:
            history = customer
        levels = services.handoffs.levels
        variables.update({
            "ticket_id": str(handoff.id),
            "sla_deadline": local_time(levels, handoff.first_response_due if not handoff.first_response_at
                                   else handoff.resolution_due),
            # "王女士" reads naturally in "您好{customer_name}，"; nothing when unknown.
            "customer_name": (handoff.customer_profile or {}).get("name", ""),
        })
    classification = services.classifier.classify(text, history)
    suggestions = services.suggester.suggest(
        (body.text or "") if messages is not None else "\n".join([*history[-2:], text]),
        services.templates.list(), classification, variables, k=body.k, channel=body.channel,
        agent_has_replied=agent_has_replied, engine=services.engine, conversation=messages,
    )
    out = [{**s.to_json(), "item_id": s.id, "rank": rank} for rank, s in enumerate(suggestions, 1)]
    return {"impression_id": uuid.uuid4().hex, "classification": classification, "suggestions": out}
