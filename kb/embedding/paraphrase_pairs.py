"""Training pairs from the project's customer-service paraphrase corpus
(kb/embedding/paraphrases/*.jsonl, card in its README.md).

Each line is a group of questions that all ask for the same thing, across industries. Every
question is paired with the group's first (standard) one and with its neighbour in a ring, so
a paraphrase learns to sit near all the others; different groups of the same industry are
close-but-different needs, the in-batch negatives that teach fine distinctions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "paraphrases"
# Groups the embedding model never trains on: the general calibration (kb/general_calibration.py)
# searches their questions as customers' queries, so their scores must be those of unseen text.
CALIBRATION_SHARE = 0.15


def read_groups(directory: Path = CORPUS_DIR) -> list[dict]:
    groups: list[dict] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                groups.append(json.loads(line))
    return groups


def is_calibration_group(group: dict) -> bool:
    """A fixed, content-based split: the same groups are held out on every machine."""
    key = f"{group['industry']}/{group['topic']}".encode()
    return int(hashlib.sha1(key).hexdigest()[:8], 16) / 0xFFFFFFFF < CALIBRATION_SHARE


def training_groups(groups: list[dict]) -> list[dict]:
    return [g for g in groups if not is_calibration_group(g)]


def calibration_groups(groups: list[dict]) -> list[dict]:
    return [g for g in groups if is_calibration_group(g)]


def group_pairs(groups: list[dict]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for group in groups:
        questions = [q for q in dict.fromkeys(group["questions"]) if q.strip()]
        if len(questions) < 2:
            continue
        pairs.extend((questions[0], q) for q in questions[1:])
        if len(questions) > 2:
            rest = questions[1:]
            pairs.extend(zip(rest, rest[1:] + rest[:1], strict=True))
    return pairs
