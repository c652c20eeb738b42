"""Split a written fresh KB's queries.jsonl into dev.jsonl and test.jsonl halves.

Usage: python -m bench.fresh_kb.split isp shop

A fixed seeded shuffle, halved separately for in-scope and out-of-scope queries (as the demo
KB's split). Variants are chosen on dev; test is only reported.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 20261207


def split_half(queries: list[dict[str, Any]], seed: int = SEED) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dev: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for scope in (True, False):
        part = [q for q in queries if bool(q["expected_id"]) is scope]
        random.Random(seed).shuffle(part)
        dev += part[: len(part) // 2]
        test += part[len(part) // 2:]
    return dev, test


def main(names: list[str]) -> int:
    for name in names:
        lines = (HERE / name / "queries.jsonl").read_text("utf-8").splitlines()
        dev, test = split_half([json.loads(line) for line in lines if line.strip()])
        for split, rows in (("dev", dev), ("test", test)):
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            (HERE / name / f"{split}.jsonl").write_text(text, "utf-8")
        print(f"{name}: dev {len(dev)}, test {len(test)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
