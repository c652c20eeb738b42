"""Training sentences tokenised once, batched as the flat (input_ids, offsets) features that
a StaticEmbedding module takes. Shared by training from scratch (train.py) and fine-tuning
(finetune.py), so neither imports the other for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer

# MultipleNegativesRankingLoss builds its targets from in-batch positions and ignores the
# labels argument, which its signature nonetheless types as a tensor.
NO_LABELS: Any = None


class SentenceTable:
    """Every training sentence tokenised once; batches are built by concatenating id arrays."""

    def __init__(self, tokenizer: Tokenizer, sentences: list[str]) -> None:
        self.index = {s: i for i, s in enumerate(sentences)}
        encodings = tokenizer.encode_batch(sentences, add_special_tokens=False)
        self.ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]

    def features(self, sentences: list[str]) -> dict[str, torch.Tensor]:
        import torch

        arrays = [self.ids[self.index[s]] for s in sentences]
        lengths = [len(a) for a in arrays]
        offsets = np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.int64)
        return {"input_ids": torch.from_numpy(np.concatenate(arrays)), "offsets": torch.from_numpy(offsets)}
