"""The fault suite as a report: recovery times and the no-loss checks, as JSON.

Usage: python bench/fault_bench.py [--customers 20] [--out bench/results/faults.json]

Starts the two-replica topology (stack/cluster.py), runs simulated customers through nginx and
injects, 6 s apart: kill -9 of a Rasa replica, of an action server, of a gateway replica, and
a PostgreSQL restart (stack/faults.py). Per fault: recovery_s (until the last request it
failed or made the bot apologise finished), replica_back_s (until the killed process answered
its health check again after being restarted 3 s later; for PostgreSQL, the restart itself),
failed requests and apologies. Then, after the recovery sweep's grace time: lost messages,
duplicate escalation records and stuck conversations, which must all be 0. The same suite runs
as tests/cluster/test_faults.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from stack.cluster import start_cluster
from stack.faults import FAULT_SUITE_ENV, run_fault_suite

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults.json")
    args = parser.parse_args()
    cluster = start_cluster(Path(tempfile.mkdtemp(prefix="cs-faults-")), 2, extra_env=FAULT_SUITE_ENV)
    try:
        report = run_fault_suite(cluster, customers=args.customers, recovery_wait_s=20)
    finally:
        cluster.stop()
    out = {"benchmark": "fault injection under load on the two-replica topology",
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
           **{k: v for k, v in report.items() if not k.startswith("_")}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(out["faults"], ensure_ascii=False))
    print(json.dumps(out["invariants"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
