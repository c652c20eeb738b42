"""Retriever comparison on the demo KB's dev split, out-of-fold: how ideas are chosen without
looking at the test split.

Usage: python bench/faq_dev_crossval.py [--model DIR] [--out bench/results/faq_dev_crossval.json]

For lexical-only, dense-only and hybrid search, every dev query's top candidates are ranked by
a ranker fitted on the other four fifths of the dev queries, with the folds and the
regularisation grid of `kb tune` (kb/tuning.py). Recall@1 is then a fair estimate for a change
(a new model, a new feature) that `faq_retrieval_bench.py` would otherwise only show on the
held-out test split. Misses are listed so a change can be read query by query.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from kb.evaluation import read_queries  # noqa: E402
from kb.interchange import parse_file  # noqa: E402
from kb.search.calibration import LinearModel  # noqa: E402
from kb.search.indexer import open_engine  # noqa: E402
from kb.store import KBStore  # noqa: E402
from kb.tuning import C_GRID, CANDIDATES_PER_QUERY, FOLDS  # noqa: E402

DEV = ROOT / "kb" / "demo" / "eval" / "dev.jsonl"
CONFIGS = {"lexical": {"dense_search": False}, "dense": {"lexical_search": False}, "hybrid": {}}


def candidates(engine, queries):
    rows = []
    for q in queries:
        found = engine.candidates(q.query, CANDIDATES_PER_QUERY)
        ids = [engine.entries[c.entry_index].id for c in found]
        rows.append((q, [dict(c.features) for c in found], ids))
    return rows


def out_of_fold(rows, names, c, folds):
    """Each query's top entry under a ranker fitted without that query's fold."""
    top = [None] * len(rows)
    for held in folds:
        train = [r for i, r in enumerate(rows) if i not in held]
        model = LinearModel.fit(names, [f for _, feats, _ in train for f in feats],
                                [int(i == q.expected_id) for q, _, ids in train for i in ids], c=c)
        for i in held:
            _, feats, ids = rows[i]
            top[i] = ids[int(np.argmax([model.predict(f) for f in feats]))] if feats else None
    return top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="embedding model directory (default: the shipped one)")
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
            rows = candidates(engine, queries)
            names = sorted({n for _, feats, _ in rows for f in feats for n in f})
            order = list(range(len(rows)))
            random.Random(13).shuffle(order)  # the folds of kb tune
            folds = [set(order[k::FOLDS]) for k in range(FOLDS)]
            best = max(((c, out_of_fold(rows, names, c, folds)) for c in C_GRID),
                       key=lambda item: sum(t == q.expected_id for (q, _, _), t in zip(rows, item[1])))
            c, top = best
            hits = [t == q.expected_id for (q, _, _), t in zip(rows, top)]
            by_style = defaultdict(list)
            for (q, _, _), ok in zip(rows, hits):
                by_style[q.style].append(ok)
            result = {
                "config": name,
                "recall@1": round(float(np.mean(hits)), 4),
                "queries": len(rows),
                "ranker_c": c,
                "by_style": {s: round(float(np.mean(v)), 3) for s, v in sorted(by_style.items())},
                "misses": [{"query": q.query, "style": q.style, "expected": q.expected_id, "got": t}
                           for (q, _, _), t, ok in zip(rows, top, hits) if not ok],
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
