"""The paraphrase corpus the embedding model trains on: well-formed, and apart from the
fresh-KB benchmark KBs it is measured on."""

from __future__ import annotations

import json

import numpy as np
import yaml
from sklearn.feature_extraction.text import CountVectorizer

from config.settings import PROJECT_ROOT
from kb.embedding.paraphrase_pairs import calibration_groups, read_groups, training_groups
from kb.text.normalize import normalize

BENCH = PROJECT_ROOT / "bench" / "fresh_kb"


def _benchmark_texts() -> list[str]:
    texts = []
    for name in ("isp", "shop"):
        for entry in yaml.safe_load((BENCH / name / "kb.yaml").read_text("utf-8")):
            texts += [entry["question"], *entry["similar_questions"]]
        for line in (BENCH / name / "queries.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [row["query"], row["noisy"]]
    return texts


def test_every_group_asks_one_thing_in_several_ways():
    groups = read_groups()
    assert len(groups) >= 1500 and len({g["industry"] for g in groups}) >= 15
    seen: set[str] = set()
    for g in groups:
        questions = g["questions"]
        assert len(questions) >= 5 and len(set(questions)) == len(questions), g["topic"]
        assert not seen & set(questions), g["topic"]  # no question in two groups
        seen |= set(questions)


def test_the_calibration_groups_are_never_trained_on():
    groups = read_groups()
    train, held = training_groups(groups), calibration_groups(groups)
    assert len(train) + len(held) == len(groups)
    assert 0.1 < len(held) / len(groups) < 0.25
    assert not {(g["industry"], g["topic"]) for g in train} & {(g["industry"], g["topic"]) for g in held}
    assert not {q for g in train for q in g["questions"]} & {q for g in held for q in g["questions"]}


def test_no_corpus_question_is_a_benchmark_question_or_query():
    corpus = [q for g in read_groups() for q in g["questions"]]
    bench = _benchmark_texts()
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(2, 2), binary=True,
                                 preprocessor=lambda t: normalize(t).replace(" ", ""))
    vectorizer.fit(corpus + bench)
    a = vectorizer.transform(corpus)
    b = vectorizer.transform(bench)
    overlap = (a @ b.T).toarray()
    sizes_a = np.asarray(a.sum(axis=1)).ravel()[:, None]
    sizes_b = np.asarray(b.sum(axis=1)).ravel()[None, :]
    jaccard = overlap / np.maximum(sizes_a + sizes_b - overlap, 1)
    close = (jaccard >= 0.6) & (sizes_a >= 4)
    exact = {normalize(t).replace(" ", "") for t in bench} & {normalize(t).replace(" ", "") for t in corpus}
    assert not exact
    assert not close.any(), [corpus[i] for i in np.where(close.any(axis=1))[0][:5]]
