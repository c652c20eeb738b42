"""The real product for end-to-end tests: Rasa server, action server and gateway as separate
processes on free loopback ports, a fresh SQLite database with the demo KB, an agent key."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpx
import pytest

from assist_api.auth.keys import KeyStore, Role
from config.settings import PROJECT_ROOT, Settings
from db.engine import session_factory
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.store import KBStore
from stack.rasa_model import ensure_trained, rasa_bin
from stack.services import project_env, services
from stack.supervisor import Supervisor

DEMO_KB = PROJECT_ROOT / "kb" / "demo" / "telecom_kb.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        pytest.skip("the Rasa virtualenv is missing: run `make setup`")
    var = tmp_path_factory.mktemp("stack")
    api_port, rasa_port, actions_port = _free_port(), _free_port(), _free_port()
    db_url = f"sqlite:///{var / 'app.sqlite3'}"
    env_values = {
        "DATABASE_URL": db_url,
        "CS_VAR_DIR": str(var),
        "CS_API_PORT": str(api_port),
        "CS_GATEWAY_URL": f"http://127.0.0.1:{api_port}",
        "CS_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "CS_ACTION_SERVER_PORT": str(actions_port),
        "CS_RASA_MODEL_DIR": str(PROJECT_ROOT / "var" / "rasa-models"),
        # Always inside business hours, so the flows do not depend on the clock.
        "CS_BUSINESS_OPEN": "00:00",
        "CS_BUSINESS_CLOSE": "24:00",
    }
    settings = Settings(
        database_url=db_url, var_dir=var, api_port=api_port, gateway_url=env_values["CS_GATEWAY_URL"],
        rasa_url=env_values["CS_RASA_URL"], action_server_port=actions_port,
        rasa_model_dir=PROJECT_ROOT / "var" / "rasa-models", business_open="00:00", business_close="24:00",
    )
    ensure_trained(settings)
    upgrade(db_url)
    KBStore(db_url).import_records(parse_file(DEMO_KB).records, actor="e2e")
    agent_key = KeyStore(session_factory(db_url)).create("agent-li", Role.agent)

    supervisor = Supervisor(services(settings, project_env(settings, env_values)), var / "log",
                            restart=False, echo=lambda *_: None)
    try:
        supervisor.start()
    except RuntimeError:
        supervisor.stop()
        raise
    client = httpx.Client(base_url=env_values["CS_GATEWAY_URL"], timeout=30)
    yield Stack(settings, supervisor, client, agent_key, settings.resolved_service_token())
    client.close()
    supervisor.stop()
