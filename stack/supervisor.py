"""Start the services, wait until each answers its health check, restart any that dies, and
stop them all cleanly on Ctrl-C / SIGTERM. Every service logs to var/log/<name>.log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from config.settings import PROJECT_ROOT
from stack.services import Service


@dataclass
class Running:
    service: Service
    process: subprocess.Popen
    started_at: float
    restarts: int = 0


class Supervisor:
    def __init__(self, services: list[Service], log_dir: Path, restart: bool = True,
                 echo=print) -> None:
        self.services = services
        self.log_dir = log_dir
        self.restart = restart
        self.echo = echo
        self.running: dict[str, Running] = {}

    def _spawn(self, service: Service) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{service.name}.log", "ab")
        # Own process group, so stopping a service also stops whatever it forked.
        return subprocess.Popen(service.command, cwd=PROJECT_ROOT, env=service.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        for service in self.services:
            self.running[service.name] = Running(service, self._spawn(service), time.monotonic())
            self.echo(f"[stack] started {service.name} (pid {self.running[service.name].process.pid})")
        self.wait_ready()

    def wait_ready(self, names: list[str] | None = None) -> None:
        pending = {n: self.running[n] for n in (names or list(self.running))}
        deadline = {n: time.monotonic() + r.service.ready_timeout_s for n, r in pending.items()}
        while pending:
            for name, run in list(pending.items()):
                if run.process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {run.process.returncode} while starting; "
                                       f"see {self.log_dir / (name + '.log')}")
                if healthy(run.service.health_url):
                    self.echo(f"[stack] {name} ready ({time.monotonic() - run.started_at:.1f}s)")
                    del pending[name]
                elif time.monotonic() > deadline[name]:
                    raise RuntimeError(f"{name} not ready within {run.service.ready_timeout_s:.0f}s; "
                                       f"see {self.log_dir / (name + '.log')}")
            time.sleep(0.25)

    def watch(self) -> None:
        """Until stopped: restart a service that died (at most once every 5 s)."""
        while True:
            for name, run in self.running.items():
                if run.process.poll() is not None and self.restart:
                    if time.monotonic() - run.started_at < 5:
                        continue
                    self.echo(f"[stack] {name} exited ({run.process.returncode}); restarting")
                    run.process = self._spawn(run.service)
                    run.started_at = time.monotonic()
                    run.restarts += 1
            time.sleep(0.5)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Fault injection for tests: signal one service's whole process group."""
        os.killpg(self.running[name].process.pid, sig)
        self.running[name].process.wait(timeout=30)

    def respawn(self, name: str) -> None:
        run = self.running[name]
        run.process = self._spawn(run.service)
        run.started_at = time.monotonic()
        self.wait_ready([name])

    def stop(self, timeout_s: float = 15.0) -> None:
        for run in self.running.values():
            if run.process.poll() is None:
                try:
                    os.killpg(run.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout_s
        for name, run in self.running.items():
            try:
                run.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()
            self.echo(f"[stack] stopped {name}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
