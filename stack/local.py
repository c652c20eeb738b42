"""A complete throwaway deployment on free loopback ports, for end-to-end tests and benchmarks:
fresh SQLite database with the demo KB, its own var/ directory, the shared trained model."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from config.settings import PROJECT_ROOT, Settings, get_settings
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.store import KBStore
from stack.rasa_model import ensure_trained
from stack.services import project_env, services
from stack.supervisor import Supervisor

# Listening ports are picked below the kernel's ephemeral range (32768-60999 on Linux): a port
# the kernel hands out (bind to 0) can be taken, before our server binds it, as the local end of
# some outgoing connection (Rasa to PostgreSQL, say), and the server then fails with "Address
# already in use". Seen with nginx in the two-replica load benchmark.
_PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on, never handed out twice by this process."""
    with _port_lock:
        for _ in range(200):
            port = random.randrange(*_PORT_RANGE)
            if port in _handed_out:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free loopback port in {_PORT_RANGE}")


@dataclass
class LocalStack:
    settings: Settings
    supervisor: Supervisor
    env: dict[str, str]

    @property
    def gateway_url(self) -> str:
        return self.settings.gateway_url

    def stop(self) -> None:
        self.supervisor.stop()


def start_local_stack(var: Path, always_open: bool = True, extra_env: dict[str, str] | None = None) -> LocalStack:
    api_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    db_url = f"sqlite:///{var / 'app.sqlite3'}"
    model_dir = PROJECT_ROOT / "var" / "rasa-models"
    env_values = {
        "DATABASE_URL": db_url,
        "CS_VAR_DIR": str(var),
        "CS_API_PORT": str(api_port),
        "CS_GATEWAY_URL": f"http://127.0.0.1:{api_port}",
        "CS_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "CS_ACTION_SERVER_PORT": str(actions_port),
        "CS_RASA_MODEL_DIR": str(model_dir),
    }
    hours = {}
    if always_open:  # flows that must not depend on the clock
        env_values.update({"CS_BUSINESS_OPEN": "00:00", "CS_BUSINESS_CLOSE": "24:00"})
        hours = {"business_open": "00:00", "business_close": "24:00"}
    env_values.update(extra_env or {})
    settings = Settings(
        database_url=db_url, var_dir=var, api_port=api_port,
        gateway_url=env_values["CS_GATEWAY_URL"], rasa_url=env_values["CS_RASA_URL"],
        action_server_port=actions_port, rasa_model_dir=model_dir, **hours,
    )
    # The model is the project's own (trained by setup from the project database).
    ensure_trained(get_settings())
    upgrade(db_url)
    KBStore(db_url).import_records(parse_file(settings.demo_kb_file).records, actor="local-stack")
    supervisor = Supervisor(services(settings, project_env(settings, env_values)), var / "log",
                            restart=False, echo=lambda *_: None)
    try:
        supervisor.start()
    except RuntimeError:
        supervisor.stop()
        raise
    return LocalStack(settings, supervisor, env_values)
