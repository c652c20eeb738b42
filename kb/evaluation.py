"""Evaluation of search on a labelled query file: ranking quality, decisions, latency."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.search.engine import SearchEngine, SearchResponse


class EvalFileError(Exception):
    pass


@dataclass
class EvalQuery:
    line: int
    query: str
    expected_id: str | None
    style: str | None = None


def read_queries(path: Path | str, known_ids: set[str] | None = None) -> list[EvalQuery]:
    """Parse an eval JSONL file; every bad line is reported, then the whole file refused."""
    path = Path(path)
    if not path.is_file():
        raise EvalFileError(f"{path}: no such file")
    queries: list[EvalQuery] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_text("utf-8-sig").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("query"), str) or not obj["query"].strip():
            problems.append(f"line {number}: needs a non-empty \"query\" string")
            continue
        expected = obj.get("expected_id")
        if expected is not None and not isinstance(expected, str):
            problems.append(f"line {number}: \"expected_id\" must be a string or null")
            continue
        if expected is not None and known_ids is not None and expected not in known_ids:
            problems.append(f"line {number}: unknown id {expected!r} (not a published entry)")
            continue
        queries.append(EvalQuery(number, obj["query"], expected, obj.get("style")))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise EvalFileError(f"{path}: {len(problems)} bad line(s): {shown}")
    if not queries:
        raise EvalFileError(f"{path}: no queries")
    return queries


def evaluate(
    engine: SearchEngine,
    queries: list[EvalQuery],
    progress: Callable[[], None] | None = None,
    details: bool = False,
    prepare: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Ranking quality, decisions and latency on labelled queries.

    `resolved` is what a customer feels: the share of answerable queries the bot settles
    without a human, answered right outright or clarified with the right entry among the
    "您是不是想问" buttons. `details` adds one row per query (query, expected id, decision,
    top-3 ids with confidences); `prepare` maps each query before search (the gateway's PII
    masking, when measuring what the bot sees)."""
    buttons = engine.settings.clarify_top_k
    resolved = 0
    rows: list[dict[str, Any]] = []
    ranks: list[int | None] = []  # rank of the expected entry for in-scope queries
    latencies: list[float] = []
    decisions: Counter[str] = Counter()
    by_scope: dict[str, Counter[str]] = {"in_scope": Counter(), "out_of_scope": Counter()}
    answered_correct = answered = 0
    style_hits: dict[str, list[int]] = defaultdict(list)

    for q in queries:
        response: SearchResponse = engine.search(prepare(q.query) if prepare else q.query, top_k=10)
        latencies.append(response.took_ms)
        decision = response.decision.value
        decisions[decision] += 1
        ids = [h.id for h in response.hits]
        scope = "in_scope" if q.expected_id else "out_of_scope"
        by_scope[scope][decision] += 1
        if decision == "answer":
            answered += 1
            answered_correct += int(bool(q.expected_id) and ids[:1] == [q.expected_id])
        if q.expected_id:
            rank = ids.index(q.expected_id) + 1 if q.expected_id in ids else None
            ranks.append(rank)
            resolved += int((decision == "answer" and rank == 1)
                            or (decision == "clarify" and rank is not None and rank <= buttons))
            if q.style:
                style_hits[q.style].append(int(rank == 1))
        elif q.style:
            style_hits[q.style].append(int(decision == "handoff"))
        if details:
            rows.append({"query": q.query, "expected_id": q.expected_id, "style": q.style, "decision": decision,
                         "top": [{"id": h.id, "confidence": round(h.confidence, 4)} for h in response.hits[:3]]})
        if progress:
            progress()

    n_in = len(ranks)
    n_oos = len(queries) - n_in
    handoffs = decisions["handoff"]
    oos_handoffs = by_scope["out_of_scope"]["handoff"]
    lat = np.array(latencies)
    result: dict[str, Any] = {
        "queries": len(queries),
        "in_scope": n_in,
        "out_of_scope": n_oos,
        "recall@1": _ratio(sum(r == 1 for r in ranks), n_in),
        "recall@3": _ratio(sum(r is not None and r <= 3 for r in ranks), n_in),
        "mrr": round(sum(1.0 / r for r in ranks if r) / n_in, 4) if n_in else None,
        "oos_precision": _ratio(oos_handoffs, handoffs),
        "oos_recall": _ratio(oos_handoffs, n_oos),
        "answer_precision": _ratio(answered_correct, answered),
        "resolved": _ratio(resolved, n_in),
        "in_scope_handoff_rate": _ratio(by_scope["in_scope"]["handoff"], n_in),
        "oos_handoff_rate": _ratio(oos_handoffs, n_oos),
        "decisions": dict(decisions),
        "decisions_in_scope": dict(by_scope["in_scope"]),
        "decisions_out_of_scope": dict(by_scope["out_of_scope"]),
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
            "max": round(float(lat.max()), 3),
        },
        "by_style": {
            style: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)}
            for style, v in sorted(style_hits.items())
        },
        "thresholds": {"answer": engine.thresholds.answer, "clarify": engine.thresholds.clarify,
                       "margin": engine.thresholds.margin},
        "index_revision": engine.revision,
    }
    if details:
        result["details"] = rows
    return result


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None
