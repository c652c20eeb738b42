"""Held-out evaluation: Spearman correlation (×100) between cosine similarity and the 0/1 label.

This is the metric the Chinese sentence-embedding literature reports for LCQMC, BQ, AFQMC and
PAWS-X, so the numbers are comparable with published ones. A lexical baseline (TF-IDF over
character 1–2-grams) is measured in the same run so every model number has a floor beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from kb.embedding.datasets import DEFAULT_DATASETS, Pair, eval_sets


def _spearman(scores: np.ndarray, labels: list[float]) -> float:
    return round(float(spearmanr(scores, labels).correlation) * 100, 2)


def model_scores(model, pairs: list[Pair], batch_size: int = 4096) -> np.ndarray:
    """Cosine similarity per pair; each distinct sentence is encoded once."""
    sentences = sorted({s for a, b, _ in pairs for s in (a, b)})
    index = {s: i for i, s in enumerate(sentences)}
    emb = model.encode(sentences, batch_size=batch_size, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
    a = emb[[index[p[0]] for p in pairs]]
    b = emb[[index[p[1]] for p in pairs]]
    return (a * b).sum(axis=1)


def spearman_scores(model, datasets_dir: Path = DEFAULT_DATASETS) -> dict[str, float]:
    """Spearman ×100 of `model` (a SentenceTransformer) on each held-out set. The loaders
    normalise the text, as callers must (see kb.embedding.encode_texts)."""
    return {name: _spearman(model_scores(model, pairs), [p[2] for p in pairs])
            for name, pairs in eval_sets(datasets_dir).items()}


def lexical_scores(datasets_dir: Path = DEFAULT_DATASETS) -> dict[str, float]:
    """TF-IDF (character 1–2-grams, sublinear tf) cosine. The vectoriser is fitted on each eval
    set's own sentences (unsupervised; only document frequencies are learnt, labels unused)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    out = {}
    for name, pairs in eval_sets(datasets_dir).items():
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        vec.fit([s for a, b, _ in pairs for s in (a, b)])
        a = vec.transform([p[0] for p in pairs])
        b = vec.transform([p[1] for p in pairs])
        sims = np.asarray(a.multiply(b).sum(axis=1)).ravel()  # rows are L2-normalised
        out[name] = _spearman(sims, [p[2] for p in pairs])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="Spearman ×100 on the held-out pair sets")
    parser.add_argument("model", type=Path, nargs="?", default=Path(__file__).resolve().parent / "model")
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    print("lexical", lexical_scores(args.datasets))
    print("model  ", spearman_scores(SentenceTransformer(str(args.model), device="cpu"), args.datasets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
