"""Load test of the web channel: simulated customers through the balancer, one replica of each
service vs two, on PostgreSQL + Redis + nginx (stack/cluster.py), all on this machine.

Usage: python bench/load_bench.py [--customers 200] [--duration 120] [--topologies embedded 1 2]
                                  [--scenarios customers saturation] [--out bench/results/load.json]

Topologies: "embedded" is what `make run` starts (SQLite, one process each, no balancer); "1"
and "2" are one and two replicas of each service on PostgreSQL + Redis behind nginx.

Each simulated customer (stack/customers.py) opens a conversation, asks 2-6 questions with a
think time between them (every tenth asks for a human twice in a row), and starts over as a
new customer. Two scenarios: "customers" thinks 5-15 s like people typing; "saturation" only
0.5-1.5 s, which keeps every CPU busy and so measures capacity (where two replicas on one
2-core machine cannot do more than one: the CPU bound, shown by cpu_percent_mean and
cpu_seconds). The run is bounded by --duration; requests still in
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

from stack.cluster import Cluster, start_cluster
from stack.customers import Customers, latency_summary
from stack.local import start_local_stack

ROOT = Path(__file__).resolve().parent.parent
SELF = "load generator"  # this process: its children are the services, counted on their own
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
    def _tree(pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root] if pid == os.getpid() else [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _rss_mb(self, pid: int) -> float:
        total = 0
        for p in self._tree(pid):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _cpu_s(self, pid: int) -> float:
        total = 0.0
        for p in self._tree(pid):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        psutil.cpu_percent(None)
        while not self._stop.wait(1.0):
            self.cpu.append(psutil.cpu_percent(None))
            for name, pid in self.processes.items():
                self.peak_mb[name] = max(self.peak_mb[name], self._rss_mb(pid))

    def start(self) -> Sampler:
        self._cpu_start = {name: self._cpu_s(pid) for name, pid in self.processes.items()}
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        # CPU seconds each process used during the run: where the machine's two cores went.
        self.cpu_s = {name: round(self._cpu_s(pid) - self._cpu_start[name], 1)
                      for name, pid in self.processes.items()}


def processes_of(cluster: Cluster) -> dict[str, int]:
    pids = {name: run.process.pid for name, run in cluster.supervisor.running.items()}
    pids["nginx"] = cluster.balancer.process.pid
    pids["redis"] = cluster.redis.process.pid
    pid_file = cluster.postgres.data / "postmaster.pid"
    pids["postgresql"] = int(pid_file.read_text().split()[0])
    return pids


def start(topology: str, var: Path):
    """(stack, base URL, processes to watch) of "embedded" (what `make run` starts: SQLite,
    one process each, no balancer) or "1" / "2" (replicas on PostgreSQL + Redis + nginx)."""
    if topology == "embedded":
        local = start_local_stack(var, extra_env=LOAD_ENV)
        pids = {name: run.process.pid for name, run in local.supervisor.running.items()}
        return local, local.gateway_url, pids
    cluster = start_cluster(var, int(topology), extra_env=LOAD_ENV)
    return cluster, cluster.gateway_url, processes_of(cluster)


def run(topology: str, customers: int, duration_s: float, think: tuple[float, float]) -> dict:
    var = Path(tempfile.mkdtemp(prefix=f"cs-load-{topology}-"))
    print(f"[load] starting the {topology} topology", flush=True)
    cluster, base_url, pids = start(topology, var)
    try:
        pids = {**pids, SELF: os.getpid()}
        sampler = Sampler(pids).start()
        load = Customers(base_url, customers, think_s=think, max_s=duration_s + 5, seed=1).start()
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
        "topology": topology,
        "replicas": 1 if topology == "embedded" else int(topology),
        "database": "sqlite" if topology == "embedded" else "postgresql",
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
        "cpu_seconds": dict(sorted(sampler.cpu_s.items())),
    }
    print(json.dumps({k: result[k] for k in ("topology", "throughput_rps", "latency_ms", "error_rate",
                                            "apologies", "cpu_percent_mean")}), flush=True)
    return result


SCENARIOS = {
    # People type: a Chinese sentence or two between answers takes 5-15 s.
    "customers": (5.0, 15.0),
    # Far faster than people: every replica's CPU is kept busy, which measures capacity.
    "saturation": (0.5, 1.5),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--topologies", nargs="+", choices=["embedded", "1", "2"], default=["embedded", "1", "2"])
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    if args.duration > 600 or args.customers > 1000:
        parser.error("bounded: at most 600 s and 1000 customers")
    # Runs of other topologies or scenarios already in the file are kept: one can be re-run alone.
    report = json.loads(args.out.read_text("utf-8")) if args.out.exists() else {}
    report.update({
        "benchmark": "web-channel load: simulated customers, embedded default vs 1 vs 2 replicas behind nginx",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    })
    report.setdefault("scenarios", {})
    order = {"embedded": 0, "1": 1, "2": 2}
    for scenario in args.scenarios:
        think = SCENARIOS[scenario]
        entry = report["scenarios"].setdefault(scenario, {"runs": []})
        entry["think_s"] = list(think)
        for topology in args.topologies:
            result = run(topology, args.customers, args.duration, think)
            entry["runs"] = [r for r in entry["runs"] if r.get("topology", str(r["replicas"])) != topology]
            entry["runs"].append(result)
            entry["runs"].sort(key=lambda r: order[r.get("topology", str(r["replicas"]))])
            by = {r.get("topology", str(r["replicas"])): r for r in entry["runs"]}
            if "1" in by and "2" in by:
                entry["two_vs_one_throughput"] = round(by["2"]["throughput_rps"] / by["1"]["throughput_rps"], 3)
            # Written after every run: a later run that fails does not take the earlier ones with it.
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"[load] wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
