"""Process-wide resources of the action server: settings, the live KB engine, the gateway."""

from __future__ import annotations

from functools import lru_cache

from actions.gateway_client import GatewayClient
from config.settings import Settings, get_settings
from db.migrate import upgrade
from kb.search.live import LiveEngine
from kb.store import KBStore


@lru_cache(maxsize=1)
def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def search() -> LiveEngine:
    upgrade(settings().database_url)
    return LiveEngine(KBStore(settings().database_url), settings())


@lru_cache(maxsize=1)
def gateway() -> GatewayClient:
    s = settings()
    return GatewayClient(s.gateway_url, s.resolved_service_token())
