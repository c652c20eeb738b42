"""A bank FAQ made of real customer questions: clusters of BQ *test* positive pairs.

Built at benchmark time from `../shared/datasets` (research-use data, never committed). BQ test
and LCQMC test are held out of every training set (kb/embedding/datasets.py); clusters with a
sentence that also occurs in any training source are dropped, so no model saw them.

Each cluster of questions that BQ labels as the same need becomes one entry: the best-connected
question is the standard question, the next one its similar question (only when the cluster has
four or more), the rest are queries. Out-of-scope queries are open-domain LCQMC test questions.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

PLACEHOLDER_ANSWER = "（评测用条目：答案从略。）"


def _components(pairs: list[tuple[str, str]]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        groups[find(x)].append(x)
    return [sorted(g) for g in groups.values()]


def build(datasets: Path, seed: int = 7, oos: int = 150) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(KB records, queries) for the BQ-test bank FAQ."""
    from kb.embedding.datasets import norm, training_data

    with open(datasets / "BQ_corpus" / "test.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [(r["sentence1"].strip(), r["sentence2"].strip(), r["label"].strip()) for r in csv.DictReader(fh)]
    positives = [(a, b) for a, b, label in rows if label == "1" and a and b and a != b]
    degree: dict[str, int] = defaultdict(int)
    for a, b in positives:
        degree[a] += 1
        degree[b] += 1
    trained = set(training_data(datasets, kb_path=None).sentences())
    records: list[dict[str, Any]] = []
    queries: list[dict[str, Any]] = []
    for group in _components(positives):
        if len(group) < 3 or any(norm(s) in trained for s in group):
            continue
        group = sorted(group, key=lambda s: (-degree[s], s))
        entry_id = f"bq-{len(records) + 1:04d}"
        similar = group[1:2] if len(group) >= 4 else []
        records.append({"id": entry_id, "question": group[0], "similar_questions": similar,
                        "answer": PLACEHOLDER_ANSWER, "category": "billing", "tags": ["银行"]})
        for q in group[1 + len(similar):][:4]:
            queries.append({"query": q, "expected_id": entry_id, "style": "bq"})
    lcqmc: list[str] = []
    with open(datasets / "LCQMC" / "test.txt", encoding="utf-8-sig") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                lcqmc.extend(parts[:2])
    pool = sorted({s for s in lcqmc if s and norm(s) not in trained})
    for q in random.Random(seed).sample(pool, oos):
        queries.append({"query": q, "expected_id": None, "style": "oos_open_domain"})
    return records, queries
