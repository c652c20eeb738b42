"""Merge the labelled ticket files into train.jsonl / test.jsonl (80/20, stratified by
category, fixed seed). Run when the data changes: `python assist_api/assist/data/split.py`.

Parts named `*_train_only.jsonl` are added to train.jsonl after the split: they were written
after test.jsonl was frozen, so keeping them out of the split leaves the held-out rows (and
their order) byte-identical."""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261124
TEST_SHARE = 0.2
TRAIN_ONLY = "_train_only"


def _read_new(part: Path, seen: set[str]) -> list[dict[str, object]]:
    """The rows of a part whose text is not already in `seen` (which it extends)."""
    rows = []
    for line in part.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row["text"] not in seen:
                seen.add(row["text"])
                rows.append(row)
    return rows


def main() -> int:
    parts = sorted((HERE / "parts").glob("*.jsonl"))
    split_parts = [p for p in parts if not p.stem.endswith(TRAIN_ONLY)]
    train_only_parts = [p for p in parts if p.stem.endswith(TRAIN_ONLY)]
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for part in split_parts:
        rows += _read_new(part, seen)
    rng = random.Random(SEED)
    by_category: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_category[str(row["category"])].append(row)
    train, test = [], []
    for category in sorted(by_category):
        items = by_category[category]
        rng.shuffle(items)
        cut = round(len(items) * TEST_SHARE)
        test += items[:cut]
        train += items[cut:]
    rng.shuffle(train)
    rng.shuffle(test)
    extra: list[dict[str, object]] = []
    for part in train_only_parts:  # after the split and its shuffles: test.jsonl is unchanged
        extra += _read_new(part, seen)
    train += extra
    for name, data in (("train", train), ("test", test)):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in data:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages: train {len(train)} (incl. {len(extra)} train-only), test {len(test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
