"""`python -m stack run` starts everything; `python -m stack train` trains the bot if needed;
`python -m stack cluster [N]` runs the N-replica topology on loopback (stack/cluster.py)."""

from __future__ import annotations

import signal
import sys

from config.settings import get_settings
from stack.rasa_model import ensure_trained
from stack.services import project_env, services
from stack.supervisor import Supervisor


def run() -> int:
    settings = get_settings()
    ensure_trained(settings)
    supervisor = Supervisor(services(settings, project_env(settings)), settings.var_dir / "log")

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        supervisor.start()
        print(f"[stack] ready: chat API http://{settings.api_host}:{settings.api_port} "
              f"(logs in {settings.var_dir / 'log'}; Ctrl-C stops)", flush=True)
        supervisor.watch()
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"[stack] error: {exc}", file=sys.stderr)
        supervisor.stop()
        return 1
    supervisor.stop()
    return 0


def train() -> int:
    path, trained = ensure_trained(get_settings())
    print(f"[stack] rasa model {'trained' if trained else 'up to date'}: {path}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "cluster":
        from stack.cluster import main as cluster

        sys.exit(cluster())
    commands = {"run": run, "train": train}
    if command not in commands:
        print("usage: python -m stack run|train|cluster [N]")
        sys.exit(2)
    sys.exit(commands[command]())
