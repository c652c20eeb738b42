"""The multi-replica topology on loopback: PostgreSQL (app database and Rasa's tracker store),
Redis (Rasa's lock store, shared rate limits), N Rasa servers, N action servers and N gateways,
with nginx balancing each group. Used by the fault tests, the load benchmark and
`python -m stack cluster`; deploy/README.md describes the production version of it.

Each gateway and action server has its own var/ directory (its own search index, built from the
shared database when a publish is seen), as replicas on separate machines would.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import PROJECT_ROOT, Settings, get_settings
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.store import KBStore
from stack.balancer import Balancer
from stack.local import free_port
from stack.postgres import PostgresServer
from stack.rasa_model import ensure_trained, model_path
from stack.redis_server import RedisServer
from stack.services import Service, project_env, write_rasa_endpoints
from stack.services import services as stack_services
from stack.supervisor import Supervisor


@dataclass
class Cluster:
    replicas: int
    var: Path
    postgres: PostgresServer
    redis: RedisServer
    balancer: Balancer
    supervisor: Supervisor
    database_url: str
    service_token: str
    ports: dict[str, int] = field(default_factory=dict)  # service name -> its own port

    @property
    def gateway_url(self) -> str:
        """The public entry point: the balancer in front of the gateways."""
        return f"http://127.0.0.1:{self.balancer.gateway_port}"

    def replica_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def names(self, kind: str) -> list[str]:
        return [f"{kind}-{i}" for i in range(1, self.replicas + 1)]

    def stop(self) -> None:
        for part in (self.balancer.stop, self.supervisor.stop, self.redis.stop, self.postgres.stop):
            try:
                part()
            except Exception:  # noqa: BLE001 - stop the rest whatever one of them does
                pass


def start_cluster(var: Path, replicas: int = 2, extra_env: dict[str, str] | None = None,
                  echo=lambda *_: None) -> Cluster:
    var.mkdir(parents=True, exist_ok=True)
    postgres = PostgresServer().start()
    redis = RedisServer().start()
    balancer = None
    supervisor = None
    try:
        database_url = postgres.create_database("app")
        # Rasa's tracker store gets its own database; Rasa would fall back to an in-memory
        # store (per replica!) if it were missing, so it is created here, not left to Rasa.
        tracker_url = postgres.create_database("rasa")
        upgrade(database_url)
        settings0 = Settings(database_url=database_url, var_dir=var)
        KBStore(database_url).import_records(parse_file(settings0.demo_kb_file).records, actor="cluster")

        lb_gateway, lb_rasa, lb_actions = free_port(), free_port(), free_port()
        token = secrets.token_urlsafe(32)  # every replica must sign and check the same tokens
        ensure_trained(get_settings())
        rasa_model = model_path(get_settings())
        common = {
            "DATABASE_URL": database_url,
            "CS_REDIS_URL": redis.url,
            "CS_SERVICE_TOKEN": token,
            "CS_GATEWAY_URL": f"http://127.0.0.1:{lb_gateway}",
            "CS_RASA_URL": f"http://127.0.0.1:{lb_rasa}",
            "CS_RASA_MODEL_DIR": str(rasa_model.parent),
            "CS_RATE_LIMIT_TRUST_FORWARDED_FOR": "true",  # nginx is the trusted proxy
            "CS_BUSINESS_OPEN": "00:00", "CS_BUSINESS_CLOSE": "24:00",
            **(extra_env or {}),
        }
        rasa_settings = Settings(database_url=database_url, var_dir=var / "rasa",
                                 action_server_port=lb_actions, redis_url=redis.url,
                                 rasa_tracker_postgres_url=tracker_url)
        endpoints = write_rasa_endpoints(rasa_settings)
        services: list[Service] = []
        ports: dict[str, int] = {}
        for i in range(1, replicas + 1):
            rasa_port, actions_port, api_port = free_port(), free_port(), free_port()
            ports.update({f"rasa-{i}": rasa_port, f"actions-{i}": actions_port, f"gateway-{i}": api_port})
            replica = Settings(database_url=database_url, var_dir=var / f"replica-{i}", api_port=api_port,
                               action_server_port=actions_port, rasa_model_dir=rasa_model.parent)
            replica_env = project_env(settings0, {**common, "CS_VAR_DIR": str(replica.var_dir),
                                                  "CS_API_PORT": str(api_port),
                                                  "CS_ACTION_SERVER_PORT": str(actions_port)})
            services += stack_services(replica, replica_env, suffix=f"-{i}", rasa_port=rasa_port,
                                       endpoints=endpoints)
        supervisor = Supervisor(services, var / "log", restart=False, echo=echo)
        supervisor.start()
        balancer = Balancer(var / "nginx", lb_gateway, lb_rasa, lb_actions)
        balancer.start([ports[f"gateway-{i}"] for i in range(1, replicas + 1)],
                       [ports[f"rasa-{i}"] for i in range(1, replicas + 1)],
                       [ports[f"actions-{i}"] for i in range(1, replicas + 1)])
    except BaseException:
        for part in (balancer, supervisor, redis, postgres):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - cleaning up after a failed start: stop every part, then re-raise
                    pass
        raise
    return Cluster(replicas, var, postgres, redis, balancer, supervisor, database_url, token, ports)


def main() -> int:
    """`python -m stack cluster [N]`: run the N-replica topology on loopback until Ctrl-C."""
    import signal
    import tempfile
    import time

    replicas = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    var = Path(tempfile.mkdtemp(prefix="cs-cluster-", dir=PROJECT_ROOT / "var"))
    print(f"[cluster] starting {replicas} replicas of rasa, actions and gateway (logs in {var / 'log'})",
          flush=True)
    cluster = start_cluster(var, replicas, echo=print)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"[cluster] ready: chat API {cluster.gateway_url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    cluster.stop()
    return 0
