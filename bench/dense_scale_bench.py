"""Dense index at scale: build time, memory, search latency and approximate-index recall.

Usage: python bench/dense_scale_bench.py [--sizes 1000 10000 100000 1000000] [--hybrid-max 100000]
                                          [--out bench/results/dense_scale.json]

Synthetic KBs of N entries (one question each) are made by perturbing the demo KB's questions:
words swapped in from other questions, dropped, and suffixed, so the collection has the
near-duplicate clusters of a real FAQ rather than the easy geometry of random vectors. The
queries are the demo test split's 200 customer questions. For each size it reports:
- encoding throughput and index build time (faiss flat up to `dense_exact_max`, HNSW above);
- resident memory added by the dense index (process RSS before/after);
- dense search p50/p95 in process, one query at a time (encode + faiss + per-entry scores);
- for HNSW, recall@10 of the approximate index against exact search on the same vectors;
- up to --hybrid-max entries, the whole hybrid SearchEngine (lexical + dense + ranker) p50/p95.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from config.settings import Settings
from kb.evaluation import read_queries
from kb.interchange import parse_file
from kb.search.dense import DenseRetriever
from kb.search.encoder import load_encoder
from kb.search.engine import SearchEngine
from kb.search.vector_index import HnswParams, VectorIndex
from kb.text.normalize import normalize
from kb.text.tokenize import words

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "kb" / "demo" / "eval" / "test.jsonl"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthesize(n: int, seed: int = 7) -> list[str]:
    """n distinct-ish questions derived from the demo KB's questions."""
    records = parse_file(Settings().demo_kb_file).records
    base = [words(normalize(q)) for r in records for q in [r.question, *r.similar_questions]]
    base = [w for w in base if w]
    vocab = [t for ws in base for t in ws]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tokens = list(rng.choice(base))
        for _ in range(rng.randint(1, 2)):
            op = rng.random()
            pos = rng.randrange(len(tokens) + 1)
            if op < 0.5:
                tokens.insert(pos, rng.choice(vocab))
            elif op < 0.8 and len(tokens) > 2:
                tokens[min(pos, len(tokens) - 1)] = rng.choice(vocab)
            elif len(tokens) > 2:
                del tokens[min(pos, len(tokens) - 1)]
        out.append("".join(tokens) + str(i % 97))
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(samples, 50)), 3), "p95": round(float(np.percentile(samples, 95)), 3)}


def time_calls(fn, queries: list[str], repeats: int) -> dict[str, float]:
    for q in queries[:20]:
        fn(q)
    samples = []
    for _ in range(repeats):
        for q in queries:
            started = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def _dense_search_ms(retriever: DenseRetriever, queries: list[str], repeats: int) -> dict[str, float]:
    return time_calls(lambda q: retriever.search(q, 10), queries, repeats)


class _Entry:
    """The minimum of a KB entry SearchEngine.build reads."""

    def __init__(self, i: int, question: str) -> None:
        self.id = f"syn-{i:07d}"
        self.question = question
        self.similar_questions: list[str] = []
        self.answer = question
        self.category = "other"
        self.channels: dict[str, str] = {}
        self.version = 1


def bench_size(n: int, settings: Settings, queries: list[str], hybrid: bool, repeats: int) -> dict:
    texts = synthesize(n)
    encoder = load_encoder(settings.embedding_model_dir)

    rss_before = rss_mb()
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    encode_s = time.perf_counter() - started
    retriever = DenseRetriever(
        encoder, exact_max=settings.dense_exact_max,
        hnsw=HnswParams(settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search),
    )
    started = time.perf_counter()
    retriever._set_documents(np.arange(n, dtype=np.int32), n, vectors)
    retriever.index = VectorIndex.build(vectors, settings.dense_exact_max, retriever.hnsw)
    build_s = time.perf_counter() - started
    result = {
        "entries": n,
        "index": retriever.index.kind,
        "encode_sentences_per_s": round(n / encode_s),
        "index_build_s": round(build_s, 2),
        "build_total_s": round(encode_s + build_s, 2),
        "dense_rss_mb": round(rss_mb() - rss_before, 1),
        "dense_search_ms": _dense_search_ms(retriever, queries, repeats),
    }
    if retriever.index.kind != "flat":
        exact = VectorIndex.build(vectors, settings.dense_exact_max, kind="flat")
        qv = encoder.encode(queries)
        _, approx_ids = retriever.index.search(qv, 10)
        _, exact_ids = exact.search(qv, 10)
        overlap = [len(set(a) & set(e)) / 10 for a, e in zip(approx_ids.tolist(), exact_ids.tolist(), strict=True)]
        result["recall@10_vs_exact"] = round(float(np.mean(overlap)), 4)
        # What efSearch buys: recall against exact and the dense search latency, same graph.
        sweep = []
        for ef in (64, 128, 256, 512, 1024):
            faiss.downcast_index(retriever.index.index).hnsw.efSearch = ef
            _, ids = retriever.index.search(qv, 10)
            recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ids.tolist(), exact_ids.tolist(), strict=True)])
            sweep.append({"ef_search": ef, "recall@10_vs_exact": round(float(recall), 4),
                          "dense_search_ms": _dense_search_ms(retriever, queries, 1)})
        faiss.downcast_index(retriever.index.index).hnsw.efSearch = settings.hnsw_ef_search
        result["ef_search_sweep"] = sweep
        result["exact_search_ms"] = time_calls(lambda q: exact.search(encoder.encode([q]), 10), queries, 1)
        result["hnsw"] = {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction,
                          "ef_search": settings.hnsw_ef_search}
        del exact
    del retriever, vectors
    if hybrid:
        started = time.perf_counter()
        engine = SearchEngine.build([_Entry(i, t) for i, t in enumerate(texts)], settings)
        result["hybrid_build_s"] = round(time.perf_counter() - started, 2)
        result["hybrid_search_ms"] = time_calls(lambda q: engine.search(q, 5), queries, repeats)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--hybrid-max", type=int, default=100_000,
                        help="largest size at which the whole hybrid engine is built and timed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ef-search", type=int, default=None, help="override CS_HNSW_EF_SEARCH")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dense_scale.json")
    args = parser.parse_args()

    settings = Settings(**({"hnsw_ef_search": args.ef_search} if args.ef_search else {}))
    queries = [q.query for q in read_queries(EVAL_FILE, None)]
    results = []
    for n in args.sizes:
        row = bench_size(n, settings, queries, n <= args.hybrid_max, args.repeats)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        results.append(row)
    report = {
        "benchmark": "dense index at scale (synthetic entries, demo test queries, one query at a time)",
        "model": str(settings.embedding_model_dir.relative_to(ROOT))
        if settings.embedding_model_dir.is_relative_to(ROOT) else str(settings.embedding_model_dir),
        "exact_max": settings.dense_exact_max,
        "results": results,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
