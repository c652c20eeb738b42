"""Chinese sentence embeddings trained from scratch (see kb/embedding/model/README.md).

The shipped model does not normalise text itself: callers must pass text through
kb.text.normalize.normalize first, exactly as training did. `encode_texts` does that, so use
it rather than calling `model.encode` directly. Heavy imports (torch, sentence-transformers)
happen inside the functions so that importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

MODEL_DIR = Path(__file__).resolve().parent / "model"
# The same model before its demo-KB stage: where `kb train` starts for any other KB.
GENERAL_MODEL_DIR = Path(__file__).resolve().parent / "model-general"


def load_model(path: Path | str = MODEL_DIR) -> SentenceTransformer:
    """Load a model directory offline on CPU, with float32 weights (the shipped file is fp16)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return model.float()


def encode_texts(model: SentenceTransformer, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
    """Normalise, then encode to unit-length float32 vectors (cosine = dot product)."""
    import numpy as np

    from kb.text.normalize import normalize

    vectors = model.encode([normalize(t) for t in texts], batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
