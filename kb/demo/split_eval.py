"""Merge the evaluation authors' files into queries.jsonl and split it into dev/test.

Run once when the query set changes: `python kb/demo/split_eval.py`. The split is a seeded
shuffle: for every entry one of its queries goes to dev and the other to test, and the
out-of-scope queries are halved per style, so both splits cover the whole KB and every style.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = HERE / "eval_parts"
OUT = HERE / "eval"
SEED = 20261124


def main() -> int:
    rows: list[dict] = []
    if PARTS.is_dir():  # the authors' raw files, before they were merged
        for part in sorted(PARTS.glob("*.jsonl")):
            rows.extend(json.loads(line) for line in part.read_text("utf-8").splitlines() if line.strip())
    else:
        rows = [json.loads(line) for line in (OUT / "queries.jsonl").read_text("utf-8").splitlines() if line.strip()]
    seen = set()
    unique = []
    for row in rows:
        if row["query"] not in seen:
            seen.add(row["query"])
            unique.append({"query": row["query"], "expected_id": row["expected_id"], "style": row["style"]})
    rng = random.Random(SEED)
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in unique:
        groups[row["expected_id"] or f"oos:{row['style']}"].append(row)
    dev, test = [], []
    for key in sorted(groups):
        items = groups[key][:]
        rng.shuffle(items)
        half = len(items) // 2
        # odd-sized groups give their extra query to test, alternating would bias nothing
        dev.extend(items[:half])
        test.extend(items[half:])
    rng.shuffle(dev)
    rng.shuffle(test)
    OUT.mkdir(exist_ok=True)
    for name, data in (("queries", unique), ("dev", dev), ("test", test)):
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in data:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def oos(rows: list[dict]) -> int:
        return sum(r["expected_id"] is None for r in rows)

    print(f"{len(unique)} queries ({oos(unique)} out of scope): "
          f"dev {len(dev)} ({oos(dev)}), test {len(test)} ({oos(test)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
