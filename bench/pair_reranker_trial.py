"""Does a pair reranker pay? A trial on the fresh-KB dev halves (issue: "try a small reranker
over the top candidates, keep it if it pays").

Usage: python -m bench.pair_reranker_trial [--out bench/results/pair_reranker_trial.json]

A CPU-trainable stand-in for a cross-encoder: gradient-boosted trees over interaction features
of (query, KB question) (character / bigram / jieba-word overlap, IDF-weighted word coverage and
the heaviest unmatched word on each side, length ratio, sequence similarity, number and
negation mismatch), trained on 60k pairs: 12k from each labelled train/dev split the embedding
model may learn from (LCQMC dev, BQ dev, AFQMC train, ATEC_CCKS dev, OPPO dev) plus the
paraphrase corpus's training groups with negatives from other groups of the same industry. The
dense features are left out of the pair model: the embedding model was trained on those very
pairs, so a model stacked on its cosine learns to over-trust it (its AUC on LCQMC / BQ test fell
below the cosine alone).

Reported:
- AUC on the held-out pair sets (LCQMC test, BQ test, AFQMC dev, PAWS-X test; 4,000 pairs each,
  second half, combination fitted on the first half): cosine alone, the three dense features,
  and those plus the pair model's logit;
- recall@1 on each fresh KB's dev half, reranking each query's top 10 candidates with the
  shipped features, and with the pair model's logit (and character max-sim) added; a logistic
  ranker fitted on one half of the queries and scored on the other (2 folds).
Nothing here is shipped; the figures say whether it should be.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench.fresh_kb_bench import engine_for, load_bq, load_written
from config.settings import Settings
from gateway.conversations.pii import mask_pii
from kb.embedding.datasets import eval_sets, training_data
from kb.embedding.paraphrase_pairs import read_groups, training_groups
from kb.search.encoder import StaticEncoder, load_encoder
from kb.text.normalize import normalize
from kb.text.query_focus import focus
from kb.text.tokenize import words as jieba_words

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ("LCQMC-dev", "BQ-dev", "AFQMC-train", "ATEC_CCKS-dev", "OPPO-dev")
PER_SOURCE = 12_000
NEGATIONS = set("不没无未别非")
TOP = 10
# Columns of [cosine, max-sim query→question, max-sim question→query, pair-model logit].
COMBINATIONS = {"dense": [0, 1, 2], "dense+pair": [0, 1, 2, 3]}


class Features:
    """Interaction features of a (query, question) pair; IDF from the training sentences."""

    def __init__(self, encoder: StaticEncoder, sentences: list[str]) -> None:
        self.encoder = encoder
        vectors = encoder.weights
        self.unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-6)
        self.n = len(sentences)
        self.char_df: Counter[str] = Counter()
        self.word_df: Counter[str] = Counter()
        for s in sentences:
            s = normalize(s)
            self.char_df.update(set(s))
            self.word_df.update(set(self.words(s)))

    def words(self, text: str) -> set[str]:
        return {w for w in jieba_words(text) if w.strip()}

    def idf_c(self, ch: str) -> float:
        return math.log((self.n + 1) / (self.char_df.get(ch, 0) + 1))

    def idf_w(self, w: str) -> float:
        return math.log((self.n + 1) / (self.word_df.get(w, 0) + 1))

    def dense(self, q: str, d: str) -> list[float]:
        """cosine, and IDF-weighted character max-sim each way, over the static token vectors."""
        tq = self.encoder.tokenizer.encode(q, add_special_tokens=False).ids
        td = self.encoder.tokenizer.encode(d, add_special_tokens=False).ids
        if not tq or not td:
            return [0.0, 0.0, 0.0]
        a, b = self.unit[tq], self.unit[td]
        va, vb = a.mean(0), b.mean(0)
        cos = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb) + 1e-9))
        sim = a @ b.T
        wq = np.array([self.idf_c(c) for c in q[: len(tq)]]) if len(q) == len(tq) else np.ones(len(tq))
        wd = np.array([self.idf_c(c) for c in d[: len(td)]]) if len(d) == len(td) else np.ones(len(td))
        return [cos, float((sim.max(1) * wq).sum() / wq.sum()), float((sim.max(0) * wd).sum() / wd.sum())]

    def lexical(self, q: str, d: str) -> list[float]:
        cq, cd = set(q), set(d)
        bq = {q[i:i + 2] for i in range(len(q) - 1)}
        bd = {d[i:i + 2] for i in range(len(d) - 1)}
        wq, wd = self.words(q), self.words(d)

        def weight(ws: set[str]) -> float:
            return sum(self.idf_w(w) for w in ws)

        nq, nd = set(re.findall(r"\d+", q)), set(re.findall(r"\d+", d))
        return [
            len(cq & cd) / max(1, len(cq | cd)),
            len(bq & bd) / max(1, len(bq | bd)),
            len(wq & wd) / max(1, len(wq | wd)),
            weight(wq & wd) / max(1e-6, weight(wq)),
            weight(wq & wd) / max(1e-6, weight(wd)),
            float(len(q)), float(len(d)), min(len(q), len(d)) / max(1, len(q), len(d)),
            difflib.SequenceMatcher(None, q, d).ratio(),
            float(nq != nd and bool(nq | nd)),
            float(bool(NEGATIONS & cq) != bool(NEGATIONS & cd)),
            max([self.idf_w(w) for w in wq - wd] or [0.0]),
            max([self.idf_w(w) for w in wd - wq] or [0.0]),
        ]


def training_pairs() -> list[tuple[str, str, int]]:
    data = training_data()
    rows: list[tuple[str, str, int]] = []
    for name in LABELLED:
        source = list(data.labelled[name])
        random.Random(0).shuffle(source)
        rows += [(a, b, int(label >= 0.5)) for a, b, label in source[:PER_SOURCE]]
    groups = training_groups(read_groups())
    by_industry: dict[str, list[dict]] = {}
    for g in groups:
        by_industry.setdefault(g["industry"], []).append(g)
    rng = random.Random(1)
    for g in groups:
        if len(g["questions"]) < 2:
            continue
        for _ in range(3):
            a, b = rng.sample(g["questions"], 2)
            rows.append((a, b, 1))
            other = rng.choice(by_industry[g["industry"]])
            if other is not g:
                rows.append((a, rng.choice(other["questions"]), 0))
    return rows


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def pair_auc(model, features: Features) -> dict[str, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    out = {}
    for name, pairs in eval_sets().items():
        pairs = pairs[:4000]
        qs = [(normalize(a), normalize(b)) for a, b, _ in pairs]
        dense = np.array([features.dense(a, b) for a, b in qs])
        lex = np.array([features.lexical(a, b) for a, b in qs])
        y = np.array([int(label >= 0.5) for *_, label in pairs])
        z = np.c_[dense, [logit(p) for p in model.predict_proba(lex)[:, 1]]]
        half = len(y) // 2
        scores = {"cosine": round(float(roc_auc_score(y[half:], z[half:, 0])), 4)}
        for variant, cols in COMBINATIONS.items():
            fitted = LogisticRegression(max_iter=2000).fit(z[:half, cols], y[:half])
            scores[variant] = round(float(roc_auc_score(y[half:], fitted.decision_function(z[half:, cols]))), 4)
        out[name] = scores
    return out


def rerank_rows(name: str, model, features: Features) -> list[tuple[int, bool, dict[str, float]]]:
    records, queries = load_bq("dev") if name == "bq" else load_written(name, "dev")
    texts = {r["id"]: [r["question"], *(r.get("similar_questions") or [])] for r in records}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine, _ = engine_for(records, Path(tmp), {})
        for i, q in enumerate(queries):
            if not q.get("expected_id"):
                continue
            text = mask_pii(q["query"])
            query = normalize(focus(text))
            for hit in engine.search(text, top_k=TOP).hits:
                docs = [normalize(t) for t in texts[hit.id]]
                pair = max(model.predict_proba(np.array([features.lexical(query, d) for d in docs]))[:, 1])
                ms = max(sum(features.dense(query, d)[1:]) / 2 for d in docs)
                rows.append((i, hit.id == q["expected_id"], {**hit.features, "pair": logit(pair), "maxsim": ms}))
    return rows


def two_fold_recall(rows, names: list[str]) -> float:
    from sklearn.linear_model import LogisticRegression

    hits = []
    for fold in (0, 1):
        train = [r for r in rows if r[0] % 2 != fold]
        test = [r for r in rows if r[0] % 2 == fold]
        x = np.array([[f.get(n, 0.0) for n in names] for _, _, f in train])
        mean, scale = x.mean(0), x.std(0).clip(1e-9)
        model = LogisticRegression(max_iter=3000).fit((x - mean) / scale, [int(y) for _, y, _ in train])
        best: dict[int, tuple[float, bool]] = {}
        for qi, y, f in test:
            s = float(model.decision_function(((np.array([f.get(n, 0.0) for n in names]) - mean) / scale)[None])[0])
            if qi not in best or s > best[qi][0]:
                best[qi] = (s, y)
        hits += [y for _, y in best.values()]
    return round(float(np.mean(hits)), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pair_reranker_trial.json")
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier

    started = time.perf_counter()
    encoder = load_encoder(Settings().embedding_model_dir)
    assert isinstance(encoder, StaticEncoder)
    pairs = training_pairs()
    features = Features(encoder, [s for a, b, _ in pairs for s in (a, b)])
    x = np.array([features.lexical(normalize(a), normalize(b)) for a, b, _ in pairs])
    model = HistGradientBoostingClassifier(max_iter=300, random_state=0).fit(x, [y for *_, y in pairs])
    result: dict[str, Any] = {"benchmark": "pair_reranker_trial", "training_pairs": len(pairs),
                              "pair_auc": pair_auc(model, features), "fresh_kb_dev_recall@1": {}}
    for name in ("isp", "shop", "bq"):
        rows = rerank_rows(name, model, features)
        shipped = sorted({k for _, _, f in rows for k in f} - {"pair", "maxsim"})
        result["fresh_kb_dev_recall@1"][name] = {
            "shipped features": two_fold_recall(rows, shipped),
            "+ pair model": two_fold_recall(rows, [*shipped, "pair"]),
            "+ pair model + max-sim": two_fold_recall(rows, [*shipped, "pair", "maxsim"]),
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
