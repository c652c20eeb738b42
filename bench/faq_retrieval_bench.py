"""FAQ retrieval on the demo KB: lexical-only vs dense-only vs hybrid, with the shipped model
(adapted to the demo KB by the `kb train` step) and with the general model before that step.

Usage: python bench/faq_retrieval_bench.py [--out bench/results/faq_retrieval.json]

Every configuration is treated the same way the product is: the index is built from the
demo KB, the ranker, confidence model and thresholds are fitted on the dev split by
`kb.tuning.tune` (the procedure behind `kb tune`), and the held-out test split is scored
once with them. Nothing is fitted on the test split.
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

from config.settings import Settings
from db.migrate import upgrade
from kb.embedding import GENERAL_MODEL_DIR
from kb.evaluation import evaluate, read_queries
from kb.interchange import parse_file
from kb.search.indexer import open_engine
from kb.store import KBStore
from kb.tuning import tune

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "kb" / "demo" / "eval"
REPORTED = ("recall@1", "recall@3", "mrr", "oos_recall", "oos_precision", "answer_precision",
            "decisions", "decisions_in_scope", "latency_ms", "thresholds")


def run_config(name: str, store: KBStore, work: Path, **overrides) -> dict:
    base = Settings(database_url=store.database_url, var_dir=work / name, **overrides)
    engine = open_engine(store, base)
    known = {e.id for e in engine.entries}
    calibrator = tune(engine, read_queries(EVAL_DIR / "dev.jsonl", known), base.tune_answer_precision,
                      base.tune_oos_recall, source="dev.jsonl")
    calibration = work / name / "calibration.json"
    calibrator.save(calibration)
    engine = open_engine(store, base.model_copy(update={"calibration_file": calibration}))
    test = read_queries(EVAL_DIR / "test.jsonl", known)
    for q in test[:20]:
        engine.search(q.query)  # warm caches before latency counts
    metrics = evaluate(engine, test)
    result = {"config": name, "retrievers": [r.name for r in engine.retrievers],
              **{k: metrics[k] for k in REPORTED}}
    print(json.dumps({k: result[k] for k in ("config", "recall@1", "recall@3", "mrr", "oos_recall")}), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faq_retrieval.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work}/bench.sqlite3"
        upgrade(url)
        store = KBStore(url)
        store.import_records(parse_file(Settings().demo_kb_file).records, actor="bench")

        results = [
            run_config("lexical", store, work, dense_search=False),
            run_config("dense", store, work, lexical_search=False),
            run_config("hybrid", store, work),
        ]
        # The shipped model is the general model after the demo-KB stage (`kb train`'s code);
        # the general model alone shows what that stage contributes.
        results.append(run_config("dense_general", store, work, embedding_model_dir=GENERAL_MODEL_DIR,
                                  lexical_search=False))
        results.append(run_config("hybrid_general", store, work, embedding_model_dir=GENERAL_MODEL_DIR))

    by_name = {r["config"]: r for r in results}
    report = {
        "benchmark": "FAQ retrieval on the demo KB's held-out test split (calibration fitted on dev per config)",
        "results": results,
        "hybrid_minus_lexical_recall@1": round(by_name["hybrid"]["recall@1"] - by_name["lexical"]["recall@1"], 4),
        "hybrid_minus_hybrid_general_recall@1": round(
            by_name["hybrid"]["recall@1"] - by_name["hybrid_general"]["recall@1"], 4),
        "kb_stage": json.loads((Settings().embedding_model_dir / "training_stats.json")
                               .read_text("utf-8")).get("kb_stage"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
