"""The three processes of the product and how to tell that each is ready."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from config.settings import PROJECT_ROOT, Settings
from stack.rasa_model import BOT_DIR, model_path, rasa_bin, rasa_env


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 120.0


def _port(url: str) -> int:
    return urlparse(url).port or 80


def write_rasa_endpoints(settings: Settings) -> Path:
    """Endpoints for this run: the action server URL and an SQL tracker store in var/."""
    path = settings.var_dir / "rasa-endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    endpoints: dict = {
        "action_endpoint": {"url": f"http://127.0.0.1:{settings.action_server_port}/webhook"},
    }
    if settings.rasa_tracker_store == "sql":
        endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite",
                                      "db": str(settings.var_dir / "rasa_tracker.sqlite3")}
        if settings.rasa_tracker_postgres_url:
            endpoints["tracker_store"] = _postgres_tracker_store(settings.rasa_tracker_postgres_url)
    if settings.redis_url:
        # Replicas: a conversation's messages are processed one at a time across all of them.
        endpoints["lock_store"] = _redis_lock_store(settings.redis_url)
    path.write_text(yaml.safe_dump(endpoints), "utf-8")
    return path


def _postgres_tracker_store(url: str) -> dict:
    u = urlparse(url)
    store = {"type": "SQL", "dialect": "postgresql", "url": u.hostname or "127.0.0.1",
             "port": u.port or 5432, "db": (u.path or "/rasa").lstrip("/") or "rasa"}
    if u.username:
        store["username"] = u.username
    if u.password:
        store["password"] = u.password
    return store


def _redis_lock_store(url: str) -> dict:
    u = urlparse(url)
    store = {"type": "redis", "url": u.hostname or "127.0.0.1", "port": u.port or 6379,
             "db": int((u.path or "/0").lstrip("/") or 0), "key_prefix": "cs"}
    if u.password:
        store["password"] = u.password
    return store


def services(settings: Settings, base_env: dict[str, str], *, suffix: str = "",
             rasa_port: int | None = None, endpoints: Path | None = None) -> list[Service]:
    """Rasa, action server and gateway. A replica (stack/cluster.py) names them with a suffix,
    gives Rasa its own port (settings.rasa_url then points at the balancer) and shares one
    endpoints file."""
    rasa_port = rasa_port or _port(settings.rasa_url)
    endpoints = endpoints or write_rasa_endpoints(settings)
    python = sys.executable
    return [
        Service(
            name=f"rasa{suffix}",
            command=[str(rasa_bin()), "run", "--model", str(model_path(settings)),
                     "--endpoints", str(endpoints),
                     "--credentials", str(BOT_DIR / "credentials.yml"),
                     "--interface", "127.0.0.1", "--port", str(rasa_port)],
            health_url=f"http://127.0.0.1:{rasa_port}/",
            env={**rasa_env(), **{k: v for k, v in base_env.items() if k.startswith("CS_")},
                 "TICKET_LOCK_LIFETIME": str(settings.rasa_lock_lifetime_s)},
            ready_timeout_s=180.0,
        ),
        Service(
            name=f"actions{suffix}",
            # rasa-sdk's server with /metrics and JSON logs (actions/server.py)
            command=[python, "-m", "actions.server", "--actions", "actions",
                     "--port", str(settings.action_server_port)],
            health_url=f"http://127.0.0.1:{settings.action_server_port}/health",
            env=base_env,
        ),
        Service(
            name=f"gateway{suffix}",
            command=[python, "-m", "assist_api"],
            health_url=f"http://127.0.0.1:{settings.api_port}/health",
            env=base_env,
        ),
    ]


def project_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env
