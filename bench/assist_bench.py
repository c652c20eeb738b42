"""Agent-assist benchmark: ticket classification on the held-out split, suggestion usefulness
on the labelled single-message set and on the conversation-context set (cold, and after
learning from a replay of simulated agents' events: bench/assist_replay.py), and in-process
latency of classify and suggest.

Usage: python bench/assist_bench.py [--out bench/results/assist.json]
Writes the JSON results and bench/results/assist_category_confusion.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
from assist_replay import Bench, read_cases, run  # beside this script (python bench/assist_bench.py)
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from assist_api.assist.classifier import DATA_DIR, FIELDS, ensure_trained, read_rows
from assist_api.assist.config import load_config
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from config.settings import Settings
from db.engine import session_factory
from db.migrate import upgrade
from kb.interchange import parse_file
from kb.search.indexer import open_engine
from kb.store import KBStore

ROOT = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> dict:
    a = np.array(samples)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2)}


def reliability(confidences: list[float], correct: list[bool], bins: int = 5) -> dict:
    """Expected calibration error and per-bin accuracy: is a confidence of 0.8 right 80 % of the time?"""
    c, ok = np.array(confidences), np.array(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for lo, hi in pairwise(edges):
        mask = (c >= lo) & (c < hi if hi < 1 else c <= hi)
        if mask.any():
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(mask.sum()),
                          "mean_confidence": round(float(c[mask].mean()), 3),
                          "accuracy": round(float(ok[mask].mean()), 3)})
            ece += mask.mean() * abs(c[mask].mean() - ok[mask].mean())
    return {"ece": round(float(ece), 4), "bins": table}


def confident_accuracy(confidences: list[float], correct: list[bool], threshold: float = 0.9) -> dict:
    """How often the predictions an agent would trust (confidence ≥ threshold) are right."""
    c, ok = np.array(confidences), np.array(correct, dtype=float)
    mask = c >= threshold
    return {"threshold": threshold, "share": round(float(mask.mean()), 4),
            "accuracy": round(float(ok[mask].mean()), 4) if mask.any() else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "assist.json")
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/a.sqlite3", var_dir=Path(tmp) / "var",
                            assist_model_file=Path(tmp) / "assist.pkl")  # always trained fresh here
        started = time.perf_counter()
        classifier, _ = ensure_trained(settings.resolved_assist_model_file)
        train_s = time.perf_counter() - started
        model_bytes = settings.resolved_assist_model_file.stat().st_size
        test = read_rows(DATA_DIR / "test.jsonl")
        fields: dict = {}
        predictions = [classifier.predict(r["text"]) for r in test]
        for name in FIELDS:
            truth = [r[name] for r in test]
            pred = [p[name].label for p in predictions]
            fields[name] = {
                "accuracy": round(accuracy_score(truth, pred), 4),
                "macro_f1": round(f1_score(truth, pred, average="macro"), 4),
                "calibration": reliability([p[name].confidence for p in predictions],
                                           [a == b for a, b in zip(truth, pred, strict=True)]),
                "confident": confident_accuracy([p[name].confidence for p in predictions],
                                                [a == b for a, b in zip(truth, pred, strict=True)]),
            }
        labels = config.labels["category"]
        matrix = confusion_matrix([r["category"] for r in test], [p["category"].label for p in predictions],
                                  labels=labels)
        _plot(matrix, labels, args.out.parent / "assist_category_confusion.png")

        lat_classify = []
        for r in test:
            t = time.perf_counter()
            classifier.classify(r["text"])
            lat_classify.append((time.perf_counter() - t) * 1000)

        upgrade(settings.database_url)
        store = KBStore(settings.database_url)
        store.import_records(parse_file(settings.demo_kb_file).records)
        engine = open_engine(store, settings)
        templates = TemplateStore(session_factory(settings.database_url))
        templates.seed(settings.assist_templates_file)
        library = templates.list()
        suggester = Suggester(config)
        cases = read_rows(DATA_DIR / "suggest_eval.jsonl")
        top1 = top3 = 0
        lat_suggest = []
        for case in cases:
            t = time.perf_counter()
            classification = classifier.classify(case["text"])
            out = suggester.suggest(case["text"], library, classification, {"agent_name": "小李"}, k=3, engine=engine)
            lat_suggest.append((time.perf_counter() - t) * 1000)
            ids = [s.id for s in out if s.source == "template"]
            acceptable = set(case["acceptable"])
            top1 += bool(out) and out[0].source == "template" and out[0].id in acceptable
            top3 += bool(acceptable & set(ids[:3]))
        # Whole conversations up to the agent's turn: cold ranker, a replay of simulated agents'
        # events on the replay split, the retrained ranker on the held-out split.
        bench = Bench(settings, classifier, library, engine)
        conversations = read_cases()
        warm = Suggester(config)
        lat_context = []
        for case in conversations:
            t = time.perf_counter()
            bench.suggest(warm, case)  # classify the conversation + rank, as the route does
            lat_context.append((time.perf_counter() - t) * 1000)
        context = run(bench, conversations)
    result = {
        "benchmark": "agent assist",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_examples": len(read_rows(DATA_DIR / "train.jsonl")),
        "test_examples": len(test),
        "train_seconds": round(train_s, 1),
        "model_bytes": model_bytes,
        "classification": fields,
        "suggestions": {"cases": len(cases), "top1": round(top1 / len(cases), 4), "top3": round(top3 / len(cases), 4),
                        "templates": len(library)},
        "context_suggestions": {
            "cases": len(conversations),
            "cold": context["cold"],
            "replay_agents": context["agents"],
            "retrain_seconds": context["retrain_seconds"],
            "model": context["model"],
            "after_learning": context["learned"],
            "bars": {"cold_top3": 0.85, "learned_heldout_top1": 0.60},
        },
        "latency": {"classify": percentiles(lat_classify), "suggest": percentiles(lat_suggest),
                    "suggest_conversation": percentiles(lat_context)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    summary = {k: v["accuracy"] for k, v in fields.items()}
    cold, learned = context["cold"], context["learned"]
    print(f"accuracy {summary}; suggestions top1 {result['suggestions']['top1']} top3 "
          f"{result['suggestions']['top3']}; conversations cold top1 {cold['all']['top1']} top3 "
          f"{cold['all']['top3']} (held-out {cold['heldout']['top1']}/{cold['heldout']['top3']}), after learning "
          f"held-out top1 {learned['heldout']['top1']} top3 {learned['heldout']['top3']}; "
          f"latency {result['latency']} → {args.out}")
    return 0


def _plot(matrix, labels, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("labelled")
    ax.set_title("Ticket category, held-out split")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
