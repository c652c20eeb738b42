"""The dense half of hybrid search: the faiss index, the retriever and model changes.

Retriever logic is tested with small static models written in the test (a character
vocabulary with seeded random vectors), so these tests do not depend on what the shipped
model has learned; the shipped model's quality is tested in test_search_quality and
test_embedding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from config.settings import Settings
from kb.search.dense import DenseRetriever, StaleIndexError
from kb.search.documents import build_documents
from kb.search.encoder import StaticEncoder, load_encoder, model_fingerprint
from kb.search.indexer import index_store, open_engine
from kb.search.vector_index import HnswParams, VectorIndex


def write_static_model(directory: Path, texts: list[str], seed: int, dim: int = 32) -> Path:
    """A sentence-transformers StaticEmbedding model directory over the characters of `texts`."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    chars = sorted({c for t in texts for c in t if not c.isspace()})
    vocab = {"[UNK]": 0, **{c: i + 1 for i, c in enumerate(chars)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    weights = np.random.default_rng(seed).normal(size=(len(vocab), dim)).astype(np.float32)
    save_file({"embedding.weight": weights}, str(directory / "model.safetensors"))
    module = "sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding"
    (directory / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": module}]), "utf-8"
    )
    return directory


@pytest.fixture
def demo_texts(demo_records) -> list[str]:
    return [q for r in demo_records for q in [r.question, *r.similar_questions]] + [r.answer for r in demo_records]


@pytest.fixture
def model_dir(tmp_path, demo_texts) -> Path:
    return write_static_model(tmp_path / "model-a", demo_texts, seed=1)


def clustered(n: int, dim: int = 32, clusters: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# ---- the vector index ---------------------------------------------------------------------
def test_small_collections_are_searched_exactly_and_large_ones_with_hnsw():
    vectors = clustered(3000)
    assert VectorIndex.build(vectors[:1000], exact_max=1000).kind == "flat"
    assert VectorIndex.build(vectors, exact_max=1000).kind == "hnsw"


def test_hnsw_finds_nearly_what_exact_search_finds():
    # Queries from the same clusters as the collection, as customer questions are.
    collection = clustered(5200, clusters=200)
    vectors, queries = collection[:5000], collection[5000:]
    exact = VectorIndex.build(vectors, exact_max=10**9)
    approx = VectorIndex.build(vectors, exact_max=100, hnsw=HnswParams())  # the shipped settings
    _, exact_ids = exact.search(queries, 10)
    _, approx_ids = approx.search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx_ids.tolist(), exact_ids.tolist(), strict=True)])
    assert recall >= 0.95
    # Exact search really is exact: its scores are the brute-force inner products.
    scores, ids = exact.search(queries[:1], 3)
    brute = vectors @ queries[0]
    assert ids[0].tolist() == np.argsort(-brute)[:3].tolist()
    assert np.allclose(scores[0], np.sort(brute)[::-1][:3], atol=1e-5)


@pytest.mark.parametrize("exact_max", [10**9, 100])
def test_a_saved_index_answers_like_the_one_built(tmp_path, exact_max):
    vectors, queries = clustered(1000), clustered(20, seed=2)
    built = VectorIndex.build(vectors, exact_max=exact_max)
    built.save(tmp_path / "index")
    loaded = VectorIndex.load(tmp_path / "index")
    assert loaded.kind == built.kind and loaded.size == 1000
    assert np.array_equal(built.search(queries, 5)[1], loaded.search(queries, 5)[1])
    assert np.allclose(loaded.vectors(np.array([0, 7])), vectors[[0, 7]], atol=1e-6)


def test_an_empty_index_finds_nothing():
    index = VectorIndex.build(np.zeros((0, 8), np.float32), exact_max=10)
    scores, ids = index.search(np.ones((1, 8), np.float32), 5)
    assert ids.shape == (1, 0)


# ---- the encoder ----------------------------------------------------------------------------
def test_the_torch_free_encoder_gives_sentence_transformers_vectors(model_dir):
    from sentence_transformers import SentenceTransformer

    from kb.text.normalize import normalize

    texts = ["话费余额怎么查？", "寬帶經常掉線", "abc", "", "！！"]
    ours = load_encoder(model_dir)
    assert isinstance(ours, StaticEncoder)
    reference = SentenceTransformer(str(model_dir), device="cpu").encode(
        [normalize(t) for t in texts], normalize_embeddings=True
    )
    assert np.allclose(ours.encode(texts), reference, atol=1e-5)


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sentence-transformers model"):
        load_encoder(tmp_path / "nowhere")


# ---- the retriever ----------------------------------------------------------------------------
def test_dense_results_are_one_per_entry_scored_by_the_best_question(model_dir, demo_records):
    entries, documents = build_documents(demo_records)
    retriever = DenseRetriever(load_encoder(model_dir))
    retriever.build(documents, entries)
    record = demo_records[5]
    hits = retriever.search(record.similar_questions[0], 10)
    assert len(hits) == 10
    top = max(hits, key=lambda e: hits[e].score)
    assert entries[top].id == record.id
    assert hits[top].score == pytest.approx(1.0, abs=1e-5)  # the query is one of its questions
    # Entries another retriever proposed get the same scores as if this one had found them.
    rescored = retriever.rescore(record.similar_questions[0], list(hits))
    for entry, hit in hits.items():
        assert rescored[entry].score == pytest.approx(hit.score, abs=1e-5)
        assert rescored[entry].features["dense_c"] == pytest.approx(hit.features["dense_c"], abs=1e-3)


def test_an_index_built_with_another_model_is_refused_then_rebuilt(tmp_path, demo_store, demo_texts, model_dir):
    other = write_static_model(tmp_path / "model-b", demo_texts, seed=2)
    assert model_fingerprint(other) != model_fingerprint(model_dir)
    entries, documents = build_documents(demo_store.published())
    retriever = DenseRetriever(load_encoder(model_dir))
    retriever.build(documents, entries)
    retriever.save(tmp_path / "dense")
    with pytest.raises(StaleIndexError):
        DenseRetriever(load_encoder(other)).load(tmp_path / "dense")

    settings = Settings(var_dir=tmp_path / "var", embedding_model_dir=model_dir)
    open_engine(demo_store, settings)
    first = index_store(settings, demo_store.database_url).current()
    switched = Settings(var_dir=tmp_path / "var", embedding_model_dir=other)
    engine = open_engine(demo_store, switched)
    second = index_store(switched, demo_store.database_url).current()
    assert second != first  # the model changed, so the index was rebuilt with it
    assert engine.search("话费余额怎么查").hits


def test_dense_search_can_be_switched_off(tmp_path, demo_store):
    engine = open_engine(demo_store, Settings(var_dir=tmp_path / "var", dense_search=False))
    assert [r.name for r in engine.retrievers] == ["lexical"]
    assert engine.search("话费余额怎么查").top is not None


def test_any_sentence_transformers_model_can_replace_the_shipped_one(tmp_path, demo_store):
    """A model that is not a bare StaticEmbedding (here with a Normalize module after it)
    goes through SentenceTransformer itself, and search works with it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding
    from tokenizers import Tokenizer

    from kb.search.encoder import SentenceTransformerEncoder

    static = write_static_model(tmp_path / "static", ["话费余额怎么查宽带掉线"], seed=3)
    other = tmp_path / "other-model"
    tokenizer = Tokenizer.from_file(str(static / "tokenizer.json"))
    SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=16), Normalize()]).save(str(other))
    encoder = load_encoder(other)
    assert isinstance(encoder, SentenceTransformerEncoder) and encoder.dim == 16
    vectors = encoder.encode(["话费余额", "寬帶掉線", ""])
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    engine = open_engine(demo_store, Settings(var_dir=tmp_path / "var", embedding_model_dir=other))
    assert engine.search("话费余额怎么查").hits
