"""Merge the labelled ticket files into train.jsonl / test.jsonl (80/20, stratified by
category, fixed seed). Run when the data changes: `python assist_api/assist/data/split.py`."""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261124
TEST_SHARE = 0.2


def main() -> int:
    parts = sorted((HERE / "parts").glob("*.jsonl"))
    rows, seen = [], set()
    for part in parts:
        for line in part.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row["text"] not in seen:
                    seen.add(row["text"])
                    rows.append(row)
    rng = random.Random(SEED)
    by_category = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    train, test = [], []
    for category in sorted(by_category):
        items = by_category[category]
        rng.shuffle(items)
        cut = round(len(items) * TEST_SHARE)
        test += items[:cut]
        train += items[cut:]
    rng.shuffle(train)
    rng.shuffle(test)
    for name, data in (("train", train), ("test", test)):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in data:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages: train {len(train)}, test {len(test)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
