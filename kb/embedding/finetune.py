"""Fine-tune an embedding model on a KB's own (question, similar question) pairs.

MultipleNegativesRankingLoss with in-batch negatives: each pair's positive must beat every
other pair's positive. Batches never hold the same text twice, because a KB's standard
question is paired with each of its similar questions and a repeated text would otherwise
act as a false negative for itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import torch

from kb.embedding.datasets import norm
from kb.embedding.sentence_table import NO_LABELS, SentenceTable

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def _no_duplicate_batches(pairs: list[tuple[str, str]], size: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    pending = pairs[:]
    rng.shuffle(pending)
    batches: list[list[tuple[str, str]]] = []
    while pending:
        batch: list[tuple[str, str]] = []
        texts: set[str] = set()
        rest: list[tuple[str, str]] = []
        for a, b in pending:
            if len(batch) < size and a not in texts and b not in texts:
                batch.append((a, b))
                texts.update((a, b))
            else:
                rest.append((a, b))
        batches.append(batch)
        pending = rest
    return [b for b in batches if len(b) > 1]  # a lone pair has no negatives to learn from


def finetune_on_pairs(base_model_dir: Path, pairs: list[tuple[str, str]], out_dir: Path, epochs: int = 1,
                      seed: int = 0, progress: Callable[[float], None] | None = None, *,
                      batch_size: int = 64, lr: float = 0.01, scale: float = 20.0) -> dict:
    """Fine-tune the model at `base_model_dir` on (anchor, positive) pairs (raw text; normalised
    here) and save it to `out_dir` (fp16, like the shipped model). Returns run statistics."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from kb.embedding import load_model

    started = time.perf_counter()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    rng = random.Random(seed)

    clean = list(dict.fromkeys((norm(a), norm(b)) for a, b in pairs))
    clean = [(a, b) for a, b in clean if a and b and a != b]
    model = load_model(base_model_dir)
    table = SentenceTable(cast("Tokenizer", model[0].tokenizer), sorted({s for p in clean for s in p}))
    loss_fn = MultipleNegativesRankingLoss(model, scale=scale)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    plan = [b for _ in range(epochs) for b in _no_duplicate_batches(clean, batch_size, rng)]
    losses: list[float] = []
    model.train()
    for i, batch in enumerate(plan):
        anchors, positives = (list(col) for col in zip(*batch, strict=True))
        embeddings = [model(table.features(col))["sentence_embedding"] for col in (anchors, positives)]
        loss = loss_fn.compute_loss_from_embeddings(embeddings, NO_LABELS)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress((i + 1) / len(plan))
    model.eval()

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.half()
    model.save(str(out_dir))
    first = float(np.mean(losses[: max(1, len(losses) // 10)])) if losses else None
    last = float(np.mean(losses[-max(1, len(losses) // 10):])) if losses else None
    return {
        "pairs": len(clean),
        "pairs_given": len(pairs),
        "epochs": epochs,
        "steps": len(plan),
        "loss_first": first,
        "loss_last": last,
        "seconds": round(time.perf_counter() - started, 2),
    }
