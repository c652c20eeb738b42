"""Retriever comparison on the demo KB's dev split, out-of-fold: how ideas are chosen without
looking at the test split.

Usage: python bench/faq_dev_crossval.py [--model DIR] [--out bench/results/faq_dev_crossval.json]

For lexical-only, dense-only and hybrid search, every dev query's top candidates are ranked by
a ranker fitted on the other four fifths of the dev queries, with the folds and the
regularisation grid of `kb tune` (kb/tuning.py, whose out-of-fold ranking it calls). Recall@1
is then a fair estimate for a change (a new model, a new feature) that `faq_retrieval_bench.py`
would otherwise only show on the held-out test split. Misses are listed so a change can be read query by query.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from config.settings import Settings
from db.migrate import upgrade
from kb.evaluation import read_queries
from kb.interchange import parse_file
from kb.search.indexer import open_engine
from kb.store import KBStore
from kb.tuning import C_GRID, CANDIDATES_PER_QUERY, out_of_fold_ranked, query_folds

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "kb" / "demo" / "eval" / "dev.jsonl"
CONFIGS = {"lexical": {"dense_search": False}, "dense": {"lexical_search": False}, "hybrid": {}}


def _tops(c: float, features: list[list[dict[str, float]]], labels: list[list[int]], names: list[str],
          folds: list[set[int]], ids: list[list[str]]) -> list[str | None]:
    """Each query's top candidate by the ranker fitted, with regularisation c, on the other folds."""
    ranked = out_of_fold_ranked(features, labels, names, c, folds)
    return [entry_ids[max(range(len(rows)), key=lambda j: rows[j]["rank_p"])] if rows else None
            for rows, entry_ids in zip(ranked, ids, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="embedding model directory (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faq_dev_crossval.json")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work}/dev.sqlite3"
        upgrade(url)
        store = KBStore(url)
        store.import_records(parse_file(Settings().demo_kb_file).records, actor="bench")
        model = {"embedding_model_dir": args.model} if args.model else {}
        for name, overrides in CONFIGS.items():
            engine = open_engine(store, Settings(database_url=url, var_dir=work / name, **overrides, **model))
            queries = [q for q in read_queries(DEV, {e.id for e in engine.entries}) if q.expected_id]
            found = [engine.candidates(q.query, CANDIDATES_PER_QUERY) for q in queries]
            ids = [[engine.entries[c.entry_index].id for c in cands] for cands in found]
            features = [[dict(c.features) for c in cands] for cands in found]
            labels = [[int(i == q.expected_id) for i in row] for q, row in zip(queries, ids, strict=True)]
            names = sorted({n for rows in features for f in rows for n in f})
            folds = query_folds(len(queries))
            c, top = max(((c, _tops(c, features, labels, names, folds, ids)) for c in C_GRID),
                         key=lambda item: sum(t == q.expected_id for q, t in zip(queries, item[1], strict=True)))
            hits = [t == q.expected_id for q, t in zip(queries, top, strict=True)]
            by_style = defaultdict(list)
            for q, ok in zip(queries, hits, strict=True):
                by_style[q.style].append(ok)
            result = {
                "config": name,
                "recall@1": round(float(np.mean(hits)), 4),
                "queries": len(queries),
                "ranker_c": c,
                "by_style": {s: round(float(np.mean(v)), 3) for s, v in sorted(by_style.items())},
                "misses": [{"query": q.query, "style": q.style, "expected": q.expected_id, "got": t}
                           for q, t, ok in zip(queries, top, hits, strict=True) if not ok],
            }
            print(json.dumps({k: result[k] for k in ("config", "recall@1", "queries", "ranker_c")}), flush=True)
            results.append(result)

    by_name = {r["config"]: r for r in results}
    report = {
        "benchmark": "FAQ retrieval on the demo KB's dev split, ranker fitted out-of-fold (kb tune's folds)",
        "model": str(args.model or Settings().embedding_model_dir.relative_to(ROOT)),
        "results": results,
        "hybrid_minus_lexical_recall@1": round(by_name["hybrid"]["recall@1"] - by_name["lexical"]["recall@1"], 4),
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
