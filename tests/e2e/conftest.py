"""The real product for end-to-end tests: Rasa server, action server and gateway as separate
processes on free loopback ports (stack.local), plus an agent key."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import session_factory
from stack.local import start_local_stack
from stack.rasa_model import rasa_bin
from stack.supervisor import Supervisor


@dataclass
class Stack:
    settings: Settings
    supervisor: Supervisor
    gateway: httpx.Client
    agent_key: str
    service_token: str

    def say(self, customer_id: str, text: str, conversation_id: str | None = None) -> dict:
        body = {"customer_id": customer_id, "text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = self.gateway.post("/api/channels/web/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def agent(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.gateway.request(method, path, headers={"Authorization": f"Bearer {self.agent_key}"}, **kwargs)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not rasa_bin().exists():
        pytest.fail("the Rasa virtualenv is missing: run `make setup`")
    local = start_local_stack(tmp_path_factory.mktemp("stack"))
    settings = local.settings
    agent_key = KeyStore(session_factory(settings.database_url)).create("agent-li", Role.agent)
    client = httpx.Client(base_url=settings.gateway_url, timeout=30)
    yield Stack(settings, local.supervisor, client, agent_key, settings.resolved_service_token())
    client.close()
    local.stop()
