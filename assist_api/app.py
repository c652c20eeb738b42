"""FastAPI application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from assist_api.routes import health, kb
from config.settings import Settings, get_settings
from db.migrate import upgrade
from kb.search.live import LiveEngine
from kb.store import KBStore
from kb.text.tokenize import warm_up


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade(settings.database_url)
        store = KBStore(settings.database_url)
        app.state.settings = settings
        app.state.store = store
        app.state.search = LiveEngine(store, settings)
        warm_up()  # the first customer should not pay for loading jieba's dictionary
        yield

    app = FastAPI(
        title="星联通信 customer-service platform",
        version="0.1.0",
        description="Gateway, knowledge-base search and (later) agent assist.",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(kb.router)
    return app
