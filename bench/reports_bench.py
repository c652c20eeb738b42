"""Reports benchmark: server time of the reports page for a month of demo conversations.

Usage: python bench/reports_bench.py [--conversations 10000] [--repeats 7] [--out bench/results/reports.json]

A throwaway SQLite database gets the demo KB and `--conversations` seeded demo conversations
in October 2026 (the product's generator, seed 7); then the page's request is served in-process
through the real app (GET /api/reports/view, the month by day) `--repeats` times after one
warm-up, and the same for the JSON summary and the CSV export. Bar: ≤ 1 s server time.
When the shipped embedding model is present it also times clustering the unanswered questions.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from assist_api.app import create_app
from assist_api.auth.keys import KeyStore, Role
from assist_api.reports import demo
from assist_api.reports.period import Period
from config.settings import Settings
from db.engine import session_factory
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.store import KBStore

ROOT = Path(__file__).resolve().parent.parent
MONTH = {"start": "2026-10-01", "end": "2026-10-31", "granularity": "day"}


def _time(client, path, headers, repeats):
    client.get(path, params=MONTH, headers=headers)  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        r = client.get(path, params=MONTH, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1),
            "min_ms": round(min(samples), 1), "bytes": len(r.content)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reports.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = Settings(database_url=url, var_dir=Path(tmp) / "var", log_format="text")
        upgrade(url)
        KBStore(url).import_records(parse_file(settings.demo_kb_file).records)
        started = time.perf_counter()
        counts = demo.generate(session_factory(url), Period.month("2026-10", settings.business_timezone),
                               args.conversations, seed=7)
        seed_s = time.perf_counter() - started
        with TestClient(create_app(settings)) as client:
            key = KeyStore(session_factory(url)).create("bench", Role.supervisor)
            headers = {"Authorization": f"Bearer {key}"}
            results = {
                "page_view": _time(client, "/api/reports/view", headers, args.repeats),
                "summary_json": _time(client, "/api/reports/summary", headers, args.repeats),
                "csv_export": _time(client, "/api/reports/export.csv", headers, args.repeats),
            }
            totals = client.get("/api/reports/summary", params=MONTH, headers=headers).json()["totals"]
            clustering = None
            if (settings.embedding_model_dir / "modules.json").is_file():
                admin = KeyStore(session_factory(url)).create("bench-editor", Role.editor)
                started = time.perf_counter()
                r = client.get("/api/reports/unanswered", headers={"Authorization": f"Bearer {admin}"})
                clustering = {"ms": round((time.perf_counter() - started) * 1000, 1),
                              "clusters": len(r.json()),
                              "top": [(c["volume"], c["draft"]["question"]) for c in r.json()[:5]]}
    out = {
        "conversations": args.conversations,
        "rows": counts,
        "seed_s": round(seed_s, 2),
        "server_time": results,
        "bar_ms": 1000,
        "meets_bar": results["page_view"]["median_ms"] <= 1000,
        "totals": {k: totals[k] for k in ("conversations", "deflection_rate", "handoff_rate", "fcr_rate",
                                          "sla_first_response_compliance", "csat_avg")},
        "unanswered_clustering": clustering,
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
