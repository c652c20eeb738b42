"""Unanswered-question mining: the planted-topic bar with the shipped embedding model, and the
cluster description (medoid, order, volume, draft) with hand-made vectors."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import yaml

from assist_api.reports.demo import TOPICS_FILE
from assist_api.reports.mining import DRAFT_ANSWER, Question, mine
from config.settings import PROJECT_ROOT, Settings
from kb.interchange import parse_file


def _noise(n: int, seed: int = 7) -> list[str]:
    """Varied telecom questions: the demo KB's own questions and similar questions and the
    evaluation queries (about three per entry, plus chit-chat and other industries)."""
    pool = set()
    for r in parse_file(PROJECT_ROOT / "kb" / "demo" / "telecom_kb.yaml").records:
        pool.add(r.question)
        pool.update(r.similar_questions)
    for name in ("dev.jsonl", "test.jsonl"):
        for line in (PROJECT_ROOT / "kb" / "demo" / "eval" / name).read_text("utf-8").splitlines():
            pool.add(json.loads(line)["query"])
    return random.Random(seed).sample(sorted(pool), n)


def test_planted_topics_rank_among_the_top_clusters():
    settings = Settings()
    if not (settings.embedding_model_dir / "modules.json").is_file():
        pytest.skip(f"the shipped embedding model is not in {settings.embedding_model_dir}")
    from kb.search.encoder import load_encoder

    planted = yaml.safe_load(TOPICS_FILE.read_text("utf-8"))
    topic_of = {text: topic for topic, texts in planted.items() for text in texts}
    questions = [Question(t) for t in _noise(500)] + [Question(t) for t in topic_of]
    random.Random(3).shuffle(questions)
    clusters = mine(questions, load_encoder(settings.embedding_model_dir), settings.mining_distance_threshold,
                    settings.mining_min_cluster_size, limit=5, max_similar=1000)
    found = set()
    for c in clusters:
        members = [c["draft"]["question"], *c["draft"]["similar_questions"]]
        counts: dict[str, int] = {}
        for m in members:
            counts[topic_of.get(m, "noise")] = counts.get(topic_of.get(m, "noise"), 0) + 1
        topic, n = max(counts.items(), key=lambda kv: kv[1])
        # A planted topic is found when a top-5 cluster is mostly it and holds half its paraphrases.
        if topic != "noise" and n >= 10 and n / len(members) > 0.5:
            found.add(topic)
    assert len(found) >= 4, (found, [(c["volume"], c["draft"]["question"]) for c in clusters])


class FakeEncoder:
    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts):
        v = np.array([self.vectors[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_clusters_ranked_by_volume_with_medoid_and_draft():
    enc = FakeEncoder({
        "a1": [1, 0, 0], "a2": [0.95, 0.05, 0], "a3": [0.97, 0.03, 0],
        "b1": [0, 1, 0], "b2": [0, 0.98, 0.02],
        "c1": [0, 0, 1],
    })
    questions = [Question("a1", 1, {"clarify": 1}), Question("a2", 1, {"handoff": 1}),
                 Question("a3", 2, {"no_answer": 2}), Question("b1", 5, {"unhelpful": 5}),
                 Question("b2", 1, {"clarify": 1}), Question("c1", 2, {"clarify": 2})]
    clusters = mine(questions, enc, distance_threshold=0.1, min_cluster_size=3, limit=10,
                    categorise=lambda text: "billing")
    assert [(c["volume"], c["distinct_questions"]) for c in clusters] == [(6, 2), (4, 3)]  # c1 (2) is too small
    b, a = clusters
    assert b["kinds"] == {"unhelpful": 5, "clarify": 1}
    assert a["draft"]["question"] == "a3"  # the medoid sits between a1 and a2
    assert set(a["draft"]["similar_questions"]) == {"a1", "a2"}
    assert a["draft"]["answer"] == DRAFT_ANSWER and a["draft"]["category"] == "billing"
    assert b["examples"][0] == {"text": "b1", "count": 5, "conversation_id": None, "last_at": None}


def test_nothing_to_mine():
    assert mine([], FakeEncoder({})) == []
