"""Typed FastAPI dependencies: the services the application's lifespan keeps on `app.state`, the
calling principal by role, and the customer endpoints' rate limits.

Routes declare what they use as parameters (`handoffs: HandoffsDep`, `agent: CurrentAgent`), so
each handler states its needs and its types, and nothing in `routes/` reads `app.state` itself.
`assist_api/app.py` is the one place that sets these objects."""

# No `from __future__ import annotations`: RateLimited's closures name their dependency in the
# annotation, which FastAPI must see as an object, not a string to look up in module globals.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from assist_api.assist.classifier import TicketClassifier
from assist_api.assist.feedback_service import FeedbackService
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from assist_api.auth.dependencies import require, require_any, require_stream
from assist_api.auth.keys import KeyStore, Principal, Role
from assist_api.security.rate_limit import Limiter, RateGate, client_ip, limiter_for
from config.settings import Settings
from gateway.channels.wechat.service import WeChatService
from gateway.conversations.csat import CsatService
from gateway.conversations.gateway import Gateway
from gateway.conversations.service import ConversationService
from gateway.handoffs.service import HandoffService
from gateway.handoffs.waiting import WaitingRoom
from kb.search.engine import SearchEngine
from kb.search.live import LiveEngine
from kb.store import KBStore

# ---- services on app.state ----------------------------------------------------------------------


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_service_token(request: Request) -> str:
    token: str = request.app.state.service_token
    return token


def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


def get_store(request: Request) -> KBStore:
    store: KBStore = request.app.state.store
    return store


def get_live_search(request: Request) -> LiveEngine:
    live: LiveEngine = request.app.state.search
    return live


def get_search_engine(live: Annotated[LiveEngine, Depends(get_live_search)]) -> SearchEngine:
    """The published index as of this request (a background refresh swaps in newer ones)."""
    return live.get()


def get_conversations(request: Request) -> ConversationService:
    conversations: ConversationService = request.app.state.conversations
    return conversations


def get_handoffs(request: Request) -> HandoffService:
    handoffs: HandoffService = request.app.state.handoffs
    return handoffs


def get_csat(request: Request) -> CsatService:
    csat: CsatService = request.app.state.csat
    return csat


def get_waiting_room(request: Request) -> WaitingRoom:
    waiting: WaitingRoom = request.app.state.waiting
    return waiting


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def get_classifier(request: Request) -> TicketClassifier:
    classifier: TicketClassifier = request.app.state.classifier
    return classifier


def get_templates(request: Request) -> TemplateStore:
    templates: TemplateStore = request.app.state.templates
    return templates


def get_suggester(request: Request) -> Suggester:
    suggester: Suggester = request.app.state.suggester
    return suggester


def get_wechat(request: Request) -> WeChatService:
    """The WeChat channel, or 503 when the account is not configured (no CS_WECHAT_TOKEN)."""
    service: WeChatService | None = getattr(request.app.state, "wechat", None)
    if service is None:
        raise HTTPException(503, "the WeChat channel is not configured (CS_WECHAT_TOKEN)")
    return service


def get_rate_limiter(request: Request) -> Limiter:
    """In-memory buckets, or Redis ones shared by every replica when `redis_url` is set."""
    return limiter_for(request.app)


def get_feedback(request: Request) -> FeedbackService:
    """Suggestion events and label corrections; corrections move deadlines by the handoffs'
    service levels and re-route by the suggester's routing table."""
    return FeedbackService(request.app.state.sessions, request.app.state.handoffs.levels,
                           request.app.state.suggester.config)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
ServiceTokenDep = Annotated[str, Depends(get_service_token)]
KeysDep = Annotated[KeyStore, Depends(get_keys)]
StoreDep = Annotated[KBStore, Depends(get_store)]
LiveSearchDep = Annotated[LiveEngine, Depends(get_live_search)]
SearchEngineDep = Annotated[SearchEngine, Depends(get_search_engine)]
ConversationsDep = Annotated[ConversationService, Depends(get_conversations)]
HandoffsDep = Annotated[HandoffService, Depends(get_handoffs)]
CsatDep = Annotated[CsatService, Depends(get_csat)]
WaitingRoomDep = Annotated[WaitingRoom, Depends(get_waiting_room)]
GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ClassifierDep = Annotated[TicketClassifier, Depends(get_classifier)]
TemplatesDep = Annotated[TemplateStore, Depends(get_templates)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]
FeedbackDep = Annotated[FeedbackService, Depends(get_feedback)]
WeChatDep = Annotated[WeChatService, Depends(get_wechat)]
RateLimiterDep = Annotated[Limiter, Depends(get_rate_limiter)]

# ---- who is calling -------------------------------------------------------------------------------

CurrentAgent = Annotated[Principal, require(Role.agent)]
CurrentEditor = Annotated[Principal, require(Role.editor)]
CurrentSupervisor = Annotated[Principal, require(Role.supervisor)]
CurrentSupervisorOrEditor = Annotated[Principal, require_any(Role.supervisor, Role.editor)]
CurrentAgentOrSupervisor = Annotated[Principal, require_any(Role.agent, Role.supervisor)]
# Event streams: the key in a header, or a stream ticket in the query for a browser's EventSource.
StreamAgent = Annotated[Principal, require_stream(Role.agent)]

# ---- rate limits ----------------------------------------------------------------------------------


def get_rate_gate(request: Request, settings: SettingsDep, limiter: RateLimiterDep) -> RateGate:
    """This request's buckets: its client IP's, and any customer's the route names."""
    return RateGate(settings, limiter, client_ip(request, settings))


RateGateDep = Annotated[RateGate, Depends(get_rate_gate)]


def RateLimited(customer: Callable[..., str] | None = None, *, ip: bool = True) -> Any:
    """A dependency that refuses with 429 (Chinese `detail`, `Retry-After`) when the client IP
    (if `ip`) or the customer is over its rate, before the handler stores anything. `customer` is
    itself a dependency naming the customer (from the body or the query): both buckets are
    charged together or not at all. Use in `dependencies=[...]` or as an `Annotated` parameter."""
    if customer is None:
        def by_ip(gate: RateGateDep) -> None:
            gate.check(ip=ip)
        return Depends(by_ip)

    def by_customer(gate: RateGateDep, customer_id: Annotated[str, Depends(customer)]) -> None:
        gate.check(customer=customer_id, ip=ip)
    return Depends(by_customer)
