"""A gateway over TestClient with Rasa down for real (port 9: nothing listens), a real database
and real API keys for each role, as the gateway and agent-assist tests drive it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from config.settings import Settings
from db.engine import get_engine, session_factory

WEB = "/api/channels/web"


def make_settings(url: str, var: Path) -> Settings:
    return Settings(database_url=url, var_dir=var, rasa_url="http://127.0.0.1:9",
                    business_open="00:00", business_close="24:00")


@dataclass
class Gateway:
    client: TestClient
    url: str
    keys: dict[str, str]

    @property
    def token(self) -> str:
        return self.client.app.state.service_token

    def say(self, customer: str, text: str, conversation_id: str | None = None) -> dict:
        body = {"customer_id": customer, "text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = self.client.post(f"{WEB}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def seen(self, customer: str, conversation_id: str, after: int = 0):
        return self.client.get(f"{WEB}/conversations/{conversation_id}/messages",
                               params={"customer_id": customer, "after": after})

    def as_(self, who: str, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def record_of(self, conversation_id: str) -> dict:
        records = self.as_("alice", "GET", "/api/handoffs").json()
        return next(r for r in records if r["conversation_id"] == conversation_id)

    def handed_off(self, customer: str, first: str = "我的宽带连不上") -> tuple[str, dict]:
        conv = self.say(customer, first)["conversation_id"]
        assert self.say(customer, "转人工", conv)["state"] == "queued"
        return conv, self.record_of(conv)

    def rows(self, query: str, **params) -> list:
        with get_engine(self.url).connect() as conn:
            return list(conn.execute(sql(query), params))


def open_gateway(url: str, var: Path):
    client = TestClient(create_app(make_settings(url, var)), raise_server_exceptions=False)
    client.__enter__()  # runs the lifespan: migrations, services, service token
    store = KeyStore(session_factory(url))
    keys = {
        "alice": store.create("alice", Role.agent),
        "bob": store.create("bob", Role.agent),
        "root": store.create("root", Role.admin),
        "editor": store.create("ed", Role.editor),
        "revoked": store.create("gone", Role.agent),
    }
    assert store.revoke("gone") == 1
    return client, Gateway(client, url, keys)


def customer() -> str:
    return f"web-{uuid.uuid4().hex[:10]}"
