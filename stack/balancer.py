"""nginx (Debian's) as the local load balancer of the multi-replica topology: renders
deploy/nginx/loopback.conf.template for the replicas' ports and runs nginx in the foreground."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from string import Template

import httpx

from config.settings import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "loopback.conf.template"


class BalancerUnavailable(RuntimeError):
    pass


def _servers(ports: list[int]) -> str:
    # Passive health checks: one refused connection takes a replica out for 3 s.
    return " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in ports)


class Balancer:
    def __init__(self, prefix: Path, gateway_port: int, rasa_port: int, actions_port: int) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(self.binary).exists():
            raise BalancerUnavailable("nginx not found (apt-get install nginx-light)")
        self.prefix = prefix
        self.gateway_port, self.rasa_port, self.actions_port = gateway_port, rasa_port, actions_port
        self.process: subprocess.Popen | None = None

    def render(self, gateway: list[int], rasa: list[int], actions: list[int]) -> Path:
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        conf = Template(TEMPLATE.read_text("utf-8")).safe_substitute(
            prefix=str(self.prefix),
            # As root nginx would hand its workers to `nobody`, who cannot write our temp dirs.
            user="user root;" if os.geteuid() == 0 else "",
            gateway_servers=_servers(gateway), rasa_servers=_servers(rasa),
            actions_servers=_servers(actions), gateway_port=self.gateway_port,
            rasa_port=self.rasa_port, actions_port=self.actions_port)
        path = self.prefix / "nginx.conf"
        path.write_text(conf, "utf-8")
        return path

    def start(self, gateway: list[int], rasa: list[int], actions: list[int], timeout_s: float = 20) -> None:
        conf = self.render(gateway, rasa, actions)
        log = open(self.prefix / "nginx.out", "ab")
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log"),
             "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.gateway_port}/health", timeout=2)
                return
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise BalancerUnavailable(f"nginx did not start; see {self.prefix / 'error.log'}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
