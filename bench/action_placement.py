"""Where should the action server run? Cost of one KB search in-process (action server on
Python 3.11 importing `kb`, as shipped) vs over HTTP (an action server in the Rasa 3.10 env,
which cannot import `kb`, calling the gateway's /api/kb/search).

Usage: python bench/action_placement.py [--n 300] [--out bench/results/action_placement.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from config.settings import Settings
from db.migrate import upgrade
from kb.evaluation import read_queries
from kb.interchange import parse_file
from kb.search.indexer import open_engine
from kb.store import KBStore
from stack.local import free_port
from stack.supervisor import healthy

ROOT = Path(__file__).resolve().parent.parent


def stats(samples: list[float]) -> dict:
    a = np.array(samples)
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "action_placement.json")
    args = parser.parse_args()
    queries = [q.query for q in read_queries(ROOT / "kb" / "demo" / "eval" / "dev.jsonl")][: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/a.sqlite3"
        settings = Settings(database_url=url, var_dir=Path(tmp) / "var")
        upgrade(url)
        store = KBStore(url)
        store.import_records(parse_file(settings.demo_kb_file).records)
        engine = open_engine(store, settings)
        for q in queries[:20]:
            engine.search(q)
        local = []
        for q in queries:
            started = time.perf_counter()
            engine.search(q, top_k=3)
            local.append((time.perf_counter() - started) * 1000)

        port = free_port()
        env = {"DATABASE_URL": url, "CS_VAR_DIR": str(Path(tmp) / "var"), "CS_API_PORT": str(port),
               "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        server = subprocess.Popen([sys.executable, "-m", "assist_api"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while not healthy(f"http://127.0.0.1:{port}/health") and time.time() < deadline:
                time.sleep(0.2)
            remote = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                for q in queries[:20]:
                    client.post("/api/kb/search", json={"query": q, "top_k": 3})
                for q in queries:
                    started = time.perf_counter()
                    client.post("/api/kb/search", json={"query": q, "top_k": 3}).raise_for_status()
                    remote.append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait()
    result = {"benchmark": "KB search from an action: in-process vs HTTP to the gateway",
              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "queries": len(queries),
              "in_process": stats(local), "http_to_gateway": stats(remote)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
