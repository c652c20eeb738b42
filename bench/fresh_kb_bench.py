"""Fresh-KB benchmark: answers on knowledge bases that nothing trained, calibrated or tuned on.

Usage: python bench/fresh_kb_bench.py [--split dev|test|both] [--kb isp,shop,bq] [--out FILE]

Each KB is imported with `kb import`'s code into a throwaway SQLite database and indexed as
`kb reindex` does, with the shipped defaults: the shipped model, the calibration the index
build fits to that KB, no labelled queries. Queries go through the gateway's PII masking first,
as the bot sees them. For each KB and split it reports recall@1/3, how answerable questions
ended (answered, clarified, handed to a human), direct answers right, out-of-scope handed off
and **resolved without a human** (answered right, or clarified with the right entry among the
buttons), for the queries as written and, for the written KBs, the same queries wrapped in
customer noise (greetings, phone / ID / order numbers, 急 / 在线等 tails). The demo KB's split
of the same name (dev or test) is measured in the same run, beside them.

KBs:
- `isp`: 蓝海宽带, a cable/broadband ISP, written separately for this benchmark
  (bench/fresh_kb/isp/, 85 entries with 1–2 similar questions, queries in customers' voice);
- `shop`: 优选商城 e-commerce after-sales, written the same way (bench/fresh_kb/shop/);
- `bq`: a bank FAQ from real customer questions, clusters of BQ test positive pairs, built
  from ../shared/datasets at run time (bench/fresh_kb/bq_kb.py).
Variants are chosen on the dev halves; the test halves are only reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bench.fresh_kb import bq_kb
from bench.fresh_kb.split import split_half
from config.settings import Settings
from db.migrate import upgrade
from gateway.conversations.pii import mask_pii
from kb.evaluation import EvalQuery, evaluate, read_queries
from kb.interchange import parse_file
from kb.search.indexer import rebuild
from kb.store import KBStore

ROOT = Path(__file__).resolve().parent.parent
FRESH = ROOT / "bench" / "fresh_kb"
DATASETS = ROOT.parent / "shared" / "datasets"
WRITTEN = ("isp", "shop")
FIGURES = ("recall@1", "recall@3", "resolved", "in_scope_handoff_rate", "answer_precision", "oos_handoff_rate")


def load_written(name: str, split: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records = yaml.safe_load((FRESH / name / "kb.yaml").read_text("utf-8"))
    lines = (FRESH / name / f"{split}.jsonl").read_text("utf-8").splitlines()
    return records, [json.loads(line) for line in lines if line.strip()]


@cache
def _bq() -> tuple[list[dict[str, Any]], tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Built once per run: both halves come from the same clusters."""
    records, queries = bq_kb.build(DATASETS)
    return records, split_half(queries)


def load_bq(split: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records, (dev, test) = _bq()
    return records, dev if split == "dev" else test


def engine_for(records: list[dict[str, Any]], tmp: Path, settings_overrides: dict[str, Any]):
    url = f"sqlite:///{tmp}/kb.sqlite3"
    settings = Settings(database_url=url, var_dir=tmp / "var", **settings_overrides)
    upgrade(url)
    store = KBStore(url)
    path = tmp / "kb.yaml"
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), "utf-8")
    store.import_records(parse_file(path).records, actor="bench")
    started = time.perf_counter()
    engine, _ = rebuild(store, settings)
    return engine, time.perf_counter() - started


def measure(engine, queries: list[dict[str, Any]], field: str = "query", details: bool = False) -> dict[str, Any]:
    items = [EvalQuery(i + 1, q.get(field) or q["query"], q["expected_id"], q.get("style"))
             for i, q in enumerate(queries)]
    m = evaluate(engine, items, details=details, prepare=mask_pii)
    out = {k: m[k] for k in FIGURES}
    out.update(queries=m["queries"], in_scope=m["in_scope"], out_of_scope=m["out_of_scope"],
               decisions_in_scope=m["decisions_in_scope"], decisions_out_of_scope=m["decisions_out_of_scope"],
               by_style=m["by_style"], latency_ms=m["latency_ms"])
    if details:
        out["details"] = m["details"]
    return out


def run_kb(name: str, split: str, overrides: dict[str, Any], details: bool) -> dict[str, Any]:
    records, queries = load_bq(split) if name == "bq" else load_written(name, split)
    with tempfile.TemporaryDirectory() as tmp:
        engine, build_s = engine_for(records, Path(tmp), overrides)
        result: dict[str, Any] = {"entries": len(records), "index_build_s": round(build_s, 2),
                                  "thresholds": vars(engine.thresholds),
                                  "calibration": engine.calibrator.provenance.get("tuned_on")}
        result["clean"] = measure(engine, queries, "query", details)
        if name in WRITTEN:
            result["noisy"] = measure(engine, queries, "noisy", details)
    return result


def run_demo(overrides: dict[str, Any], split: str = "test") -> dict[str, Any]:
    """The demo KB's labelled split (dev for choosing variants, test for reporting), with the
    calibration the index build fits (no labelled query)."""
    records = yaml.safe_load(Settings().demo_kb_file.read_text("utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        engine, _ = engine_for(records, Path(tmp), overrides)
        queries = read_queries(ROOT / "kb" / "demo" / "eval" / f"{split}.jsonl")
        m = evaluate(engine, queries)
        return {"entries": len(engine.entries), "calibration": engine.calibrator.provenance.get("tuned_on"),
                "clean": {k: m[k] for k in FIGURES}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="both", choices=["dev", "test", "both"])
    parser.add_argument("--kb", default="isp,shop,bq", help="comma-separated: isp, shop, bq")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo KB's splits")
    parser.add_argument("--details", action="store_true", help="one row per query in the JSON")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a settings override for a variant, e.g. --set embedding_model_dir=DIR")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fresh_kb.json")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    splits = ["dev", "test"] if args.split == "both" else [args.split]

    result: dict[str, Any] = {
        "benchmark": "fresh KBs: shipped defaults, no labelled tuning",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "settings_overrides": overrides,
        "kbs": {},
    }
    for name in args.kb.split(","):
        for split in splits:
            r = run_kb(name, split, overrides, args.details)
            result["kbs"].setdefault(name, {})[split] = r
            for kind in ("clean", "noisy"):
                if kind in r:
                    figures = "  ".join(f"{k} {r[kind][k]}" for k in FIGURES)
                    print(f"{name:5s} {split:4s} {kind:5s} {figures}", flush=True)
    for split in [] if args.no_demo else splits:
        demo = result[f"demo_{split}"] = run_demo(overrides, split)
        print(f"demo  {split:4s} clean " + "  ".join(f"{k} {demo['clean'][k]}" for k in FIGURES))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
