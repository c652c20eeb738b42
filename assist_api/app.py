"""FastAPI application factory: the gateway, KB search, handoff queue and internal API."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assist_api import db_unavailable, handoff_errors
from assist_api.assist.classifier import ensure_trained
from assist_api.assist.config import load_config
from assist_api.assist.cues import analyse
from assist_api.assist.ranker import RankerFile
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from assist_api.auth.keys import KeyStore
from assist_api.body_limit import BodySizeLimit
from assist_api.observability.middleware import RequestObserver
from assist_api.routes import (
    agent_streams,
    assist,
    channels_web,
    channels_web_stream,
    channels_wechat,
    feedback,
    handoffs,
    health,
    internal,
    kb,
    kb_editor,
    labels,
    me,
    reports,
    templates,
    ui,
)
from assist_api.routes import metrics as metrics_route
from assist_api.security.headers import SecurityHeaders
from common.observability.logs import configure_logging
from config.settings import Settings, get_settings
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations import stream_token
from gateway.conversations.csat import CsatService
from gateway.conversations.gateway import Gateway
from gateway.conversations.rasa_client import RasaClient
from gateway.conversations.recovery import UnansweredRecovery
from gateway.conversations.service import ConversationService
from gateway.handoffs.service import HandoffService
from gateway.handoffs.waiting import WaitingRoom
from kb.search.live import LiveEngine
from kb.store import KBStore
from kb.text.tokenize import warm_up


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging("gateway", settings.log_format)
        upgrade(settings.database_url)
        sessions = session_factory(settings.database_url)
        store = KBStore(settings.database_url)
        conversations = ConversationService(sessions)
        classifier, _ = ensure_trained(settings.resolved_assist_model_file)
        handoff_service = HandoffService(sessions, settings, conversations, classifier)
        template_store = TemplateStore(sessions)
        template_store.seed(settings.assist_templates_file)
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
        app.state.settings = settings
        app.state.sessions = sessions
        app.state.csat = CsatService(sessions)
        app.state.store = store
        app.state.search = LiveEngine(store, settings)
        app.state.search.start_background_refresh()  # follow publishes while idle too
        app.state.conversations = conversations
        app.state.handoffs = handoff_service
        app.state.keys = KeyStore(sessions)
        app.state.service_token = settings.resolved_service_token()
        waiting = WaitingRoom(sessions, settings, handoff_service, conversations)
        app.state.waiting = waiting
        app.state.gateway = Gateway(conversations, handoff_service, rasa, settings.reply_store_retry_s,
                                    waiting)
        app.state.classifier = classifier
        app.state.templates = template_store
        # The retrained ranker when there is one, re-read when retraining replaces the file.
        app.state.suggester = Suggester(load_config(), RankerFile(settings.resolved_suggest_ranker_file))
        warm_up()  # the first customer should not pay for loading jieba's dictionary
        analyse("转人工")  # nor the first handoff for building the spaCy cue pipeline (~2 s)
        recovery = asyncio.create_task(UnansweredRecovery(sessions, settings.unanswered_recovery_after_s)
                                       .run_forever(settings.unanswered_recovery_interval_s))
        soothing = asyncio.create_task(waiting.run_forever(settings.waiting_sweep_interval_s))
        yield
        recovery.cancel()
        soothing.cancel()
        app.state.search.stop_background_refresh()
        for task in (recovery, soothing):
            with suppress(asyncio.CancelledError):
                await task
        await rasa.close()

    app = FastAPI(
        title="星联通信 customer-service platform",
        version="0.2.0",
        description="Conversation gateway, knowledge-base search, the agents' handoff queue, "
                    "agent assist (classification and reply suggestions) and the template library.",
        lifespan=lifespan,
    )
    app.include_router(agent_streams.router)  # first: /api/handoffs/events is no handoff id
    for module in (health, kb, channels_web, channels_web_stream, handoffs, assist, feedback, templates,
                   internal, me, kb_editor, labels, ui):
        app.include_router(module.router)
    app.include_router(channels_wechat.router)  # WeChat official account (own lifespan)
    app.include_router(reports.router)  # supervisor reports, unanswered-question mining
    app.include_router(reports.page_router)
    app.include_router(metrics_route.router)  # Prometheus
    ui.mount_static(app)
    db_unavailable.install(app)  # database away: 503 + Retry-After, not 500
    handoff_errors.install(app)  # unknown case 404, refused transition 409, refused feedback 422
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)  # 413 over the limit
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.widget_allowed_origins), allow_methods=["GET", "POST"],
        allow_headers=["content-type", "last-event-id"], expose_headers=[stream_token.HEADER], max_age=600)
    app.add_middleware(RequestObserver, service="gateway")  # request ids, metrics, access log
    app.add_middleware(SecurityHeaders)  # nosniff, referrer policy, CSP and no framing on the pages
    return app
