"""Load test of the web channel: simulated customers through the balancer, one replica of each
service vs two, on PostgreSQL + Redis + nginx (stack/cluster.py), all on this machine.

Usage: python bench/load_bench.py [--customers 200] [--duration 120] [--replicas 1 2]
                                  [--think 1 3] [--out bench/results/load.json]

Each simulated customer (stack/customers.py) opens a conversation, asks 2-6 questions with a
think time drawn from --think seconds between them (every tenth asks for a human twice in a
row), and starts over as a new customer. The run is bounded by --duration; requests still in
flight then finish. Reported per topology: throughput (answered requests/s), latency
p50/p95/p99 of answered requests, error rate (any non-200 or no response), apologies (the bot
was unavailable and offered a human), CPU use of the machine, and peak resident memory per
process (each process with its children; PostgreSQL's figure counts its shared buffers once
per backend, so it overstates).

All simulated customers send from 127.0.0.1, so the per-IP limit is lifted for the run (the
per-customer limit stays on). Load goes to loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.cluster import Cluster, start_cluster  # noqa: E402
from stack.customers import Customers, latency_summary  # noqa: E402

LOAD_ENV = {"CS_RATE_LIMIT_IP_BURST": "1000000", "CS_RATE_LIMIT_IP_PER_S": "1000000"}


class Sampler:
    """Once a second: the machine's CPU use and each process's resident memory (with children)."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes
        self.peak_mb: dict[str, float] = {name: 0.0 for name in processes}
        self.cpu: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_mb(pid: int) -> float:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _run(self) -> None:
        psutil.cpu_percent(None)
        while not self._stop.wait(1.0):
            self.cpu.append(psutil.cpu_percent(None))
            for name, pid in self.processes.items():
                self.peak_mb[name] = max(self.peak_mb[name], self._rss_mb(pid))

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def processes_of(cluster: Cluster) -> dict[str, int]:
    pids = {name: run.process.pid for name, run in cluster.supervisor.running.items()}
    pids["nginx"] = cluster.balancer.process.pid
    pids["redis"] = cluster.redis.process.pid
    pid_file = cluster.postgres.data / "postmaster.pid"
    pids["postgresql"] = int(pid_file.read_text().split()[0])
    return pids


def run(replicas: int, customers: int, duration_s: float, think: tuple[float, float]) -> dict:
    var = Path(tempfile.mkdtemp(prefix=f"cs-load-{replicas}-"))
    print(f"[load] starting the {replicas}-replica topology", flush=True)
    cluster = start_cluster(var, replicas, extra_env=LOAD_ENV)
    try:
        sampler = Sampler(processes_of(cluster)).start()
        load = Customers(cluster.gateway_url, customers, think_s=think, max_s=duration_s + 5, seed=1).start()
        started = time.monotonic()
        time.sleep(duration_s)
        sends = load.stop()
        elapsed = time.monotonic() - started
        sampler.stop()
    finally:
        cluster.stop()
    ok = [s for s in sends if s.ok]
    errors: dict[str, int] = {}
    for s in sends:
        if not s.ok:
            errors[str(s.status)] = errors.get(str(s.status), 0) + 1
    result = {
        "replicas": replicas,
        "customers": customers,
        "duration_s": round(elapsed, 1),
        "requests": len(sends),
        "answered": len(ok),
        "throughput_rps": round(len(ok) / elapsed, 2),
        "latency_ms": latency_summary(sends),
        "error_rate": round((len(sends) - len(ok)) / max(1, len(sends)), 5),
        "errors": errors,
        "apologies": sum(s.apology for s in ok),
        "driver_errors": load.crashed,
        "cpu_percent_mean": round(sum(sampler.cpu) / max(1, len(sampler.cpu)), 1),
        "peak_rss_mb": {k: round(v, 1) for k, v in sorted(sampler.peak_mb.items())},
    }
    print(json.dumps({k: result[k] for k in ("replicas", "throughput_rps", "latency_ms", "error_rate",
                                            "apologies", "cpu_percent_mean")}), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    if args.duration > 600 or args.customers > 1000:
        parser.error("bounded: at most 600 s and 1000 customers")
    runs = [run(r, args.customers, args.duration, tuple(args.think)) for r in args.replicas]
    report = {
        "benchmark": "web-channel load: simulated customers through nginx, 1 vs 2 replicas",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "think_s": args.think,
        "runs": runs,
    }
    by = {r["replicas"]: r for r in runs}
    if 1 in by and 2 in by:
        report["two_vs_one_throughput"] = round(by[2]["throughput_rps"] / by[1]["throughput_rps"], 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"[load] wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
