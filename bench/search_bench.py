"""Search benchmark: quality on the demo KB's held-out test split and in-process latency.

Usage: python bench/search_bench.py [--split test] [--out bench/results/search.json]

It loads the demo KB into a throwaway SQLite database, builds the index exactly as the product
does, evaluates with the shipped calibration and thresholds (tuned on the dev split only),
then times `SearchEngine.search` over every query several times with the index warm.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from config.settings import Settings
from db.migrate import upgrade
from kb.evaluation import evaluate, read_queries
from kb.interchange import parse_file
from kb.search.indexer import rebuild
from kb.store import KBStore

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "kb" / "demo" / "eval"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--repeats", type=int, default=5, help="latency passes over the queries")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "search.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        settings = Settings(database_url=url, var_dir=Path(tmp) / "var")
        upgrade(url)
        store = KBStore(url)
        store.import_records(parse_file(settings.demo_kb_file).records, actor="bench")
        engine, _ = rebuild(store, settings)

        queries = read_queries(EVAL_DIR / f"{args.split}.jsonl", {e.id for e in engine.entries})
        for q in queries[:20]:  # warm caches (jieba, numpy) before anything is timed
            engine.search(q.query)
        metrics = evaluate(engine, queries)

        timings = []
        for _ in range(args.repeats):
            for q in queries:
                started = time.perf_counter()
                engine.search(q.query, top_k=5)
                timings.append((time.perf_counter() - started) * 1000)
        lat = np.array(timings)

    result = {
        "benchmark": "kb search (hybrid: lexical + dense, as shipped)",
        "split": args.split,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "kb_entries": len(engine.entries),
        "quality": {k: metrics[k] for k in (
            "queries", "in_scope", "out_of_scope", "recall@1", "recall@3", "mrr",
            "oos_precision", "oos_recall", "answer_precision", "decisions",
            "decisions_in_scope", "decisions_out_of_scope", "by_style", "thresholds")},
        "latency_ms": {
            "samples": int(lat.size),
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
            "p99": round(float(np.percentile(lat, 99)), 3),
            "max": round(float(lat.max()), 3),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    q = result["quality"]
    print(
        f"{args.split}: recall@1 {q['recall@1']}  recall@3 {q['recall@3']}  mrr {q['mrr']}  "
        f"oos P/R {q['oos_precision']}/{q['oos_recall']}  p50/p95 {result['latency_ms']['p50']}/"
        f"{result['latency_ms']['p95']} ms  → {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
