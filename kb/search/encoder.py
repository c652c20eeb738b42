"""Load a sentence-embedding model for search and turn texts into normalised vectors.

Any sentence-transformers model directory works (`SentenceTransformer(path)`). The project's
own model is a single StaticEmbedding module (mean of token vectors); for such a model the
vectors are computed here with the tokenizer and numpy alone, which gives the same vectors
(tested) without importing torch into every service: loading takes well under a second
instead of several, and one query costs tens of microseconds instead of a torch call.
Texts pass through the same normaliser as lexical search and as training.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.text.normalize import normalize

STATIC_MODULE = "sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding"
_FINGERPRINT_FILES = ("modules.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin",
                      "config.json", "0_StaticEmbedding/model.safetensors")


class Encoder(Protocol):
    dim: int
    fingerprint: str

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray: ...


class ModelNotFoundError(FileNotFoundError):
    """The configured embedding model directory does not hold a model."""


def model_fingerprint(model_dir: Path) -> str:
    """Content hash of the model's files: an index built with other weights is stale."""
    model_dir = Path(model_dir)
    if not (model_dir / "modules.json").is_file():
        raise ModelNotFoundError(
            f"no sentence-transformers model in {model_dir} (modules.json missing); "
            "set CS_EMBEDDING_MODEL_DIR or CS_DENSE_SEARCH=false"
        )
    digest = hashlib.sha1()
    for name in _FINGERPRINT_FILES:
        path = model_dir / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(hashlib.sha1(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A text with no known token has a zero vector: it stays zero (similar to nothing).
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class StaticEncoder:
    """Mean of token embeddings, as sentence-transformers' StaticEmbedding computes it."""

    def __init__(self, model_dir: Path, fingerprint: str) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        weights = load_file(str(model_dir / "model.safetensors"))["embedding.weight"]
        self.weights = weights.astype(np.float32)
        self.dim = int(self.weights.shape[1])
        self.fingerprint = fingerprint

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = [normalize(t) for t in texts[start : start + batch_size]]
            for row, encoding in enumerate(self.tokenizer.encode_batch(chunk, add_special_tokens=False)):
                if encoding.ids:
                    out[start + row] = self.weights[encoding.ids].mean(axis=0)
        return _unit(out)


class SentenceTransformerEncoder:
    """Any other sentence-transformers model (e.g. a local bge-small-zh), through torch."""

    def __init__(self, model_dir: Path, fingerprint: str) -> None:
        from kb.embedding.training_extra import require_training_libraries

        # Only the shipped static model runs without torch; any other model needs the train extra.
        require_training_libraries(f"the embedding model in {model_dir} (not a single StaticEmbedding)")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu")
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"the embedding model in {model_dir} does not state its dimension")
        self.dim = int(dim)
        self.fingerprint = fingerprint
        self._lock = threading.Lock()  # torch modules are not safe to call from many threads

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(
                [normalize(t) for t in texts], batch_size=batch_size, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _unit(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))


def _is_static(model_dir: Path) -> bool:
    modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
    return (
        len(modules) == 1
        and modules[0].get("type", "").endswith("StaticEmbedding")
        and modules[0].get("path", "") == ""
        and (model_dir / "model.safetensors").is_file()
    )


@lru_cache(maxsize=4)
def _load(model_dir: Path, fingerprint: str) -> Encoder:
    if _is_static(model_dir):
        return StaticEncoder(model_dir, fingerprint)
    return SentenceTransformerEncoder(model_dir, fingerprint)


def load_encoder(model_dir: Path) -> Encoder:
    """The encoder for `model_dir`, loaded once per process and reloaded when its files change."""
    model_dir = Path(model_dir).resolve()
    return _load(model_dir, model_fingerprint(model_dir))
