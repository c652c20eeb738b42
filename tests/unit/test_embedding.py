"""The embedding package: the shipped model, the encode helper, dataset readers, fine-tuning.

Independent of ../shared/datasets: the readers are tested on tiny files written here."""

from __future__ import annotations

import numpy as np
import pytest

from kb.embedding import MODEL_DIR, encode_texts, load_model
from kb.embedding.datasets import read_csv, read_json_array, read_jsonl, read_kb_pairs, read_triclue, read_tsv
from kb.embedding.tokenizer import UNK, build_tokenizer, tokens
from kb.text.normalize import normalize


@pytest.fixture(scope="module")
def model():
    return load_model()


def read_kb_records():
    from kb.embedding.datasets import DEMO_KB
    from kb.interchange import parse_file

    return parse_file(DEMO_KB).records


def _cos(model, a: str, b: str) -> float:
    va, vb = encode_texts(model, [a, b])
    return float(va @ vb)


def test_shipped_model_is_small_and_loads_offline(model):
    size = sum(f.stat().st_size for f in MODEL_DIR.iterdir() if f.is_file())
    assert size < 40 * 2**20
    assert (MODEL_DIR / "README.md").exists()
    vectors = encode_texts(model, ["怎么查询话费余额", "宽带老是掉线怎么办"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, model.get_embedding_dimension())
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrase_scores_higher_than_unrelated(model):
    record = next(r for r in read_kb_records() if r.similar_questions)
    paraphrase = _cos(model, record.question, record.similar_questions[0])
    unrelated = _cos(model, record.question, "国际漫游怎么开通")
    assert paraphrase > unrelated


def test_traditional_and_simplified_encode_identically(model):
    a, b = encode_texts(model, ["寬帶經常斷線怎麼辦？", "宽带经常断线怎么办"])
    assert np.allclose(a, b)


def test_tokenizer_matches_normaliser_output():
    tok = build_tokenizer([UNK, *"abcdefghijklmnopqrstuvwxyz0123456789", *"宽带掉线怎么办了", "宽带", "掉线", "怎么办"])
    text = normalize("寬帶掉線了，怎麼辦？ABC 100")
    assert tokens(tok, text) == ["宽带", "掉线", "了", "怎么办", "a", "b", "c", "1", "0", "0"]
    # An unseen character is one [UNK] and does not swallow its neighbours.
    assert tokens(tok, "宽带龘掉线") == ["宽带", UNK, "掉线"]


def test_readers_parse_each_format(tmp_path):
    (tmp_path / "bq.csv").write_text("\ufeffsentence1,sentence2,label\n"
                                     '"借款,能取消吗",取消借款,1\n还款日,怎么还款,0\n', encoding="utf-8")
    assert read_csv(tmp_path / "bq.csv") == [("借款 能取消吗", "取消借款", 1.0), ("还款日", "怎么还款", 0.0)]

    (tmp_path / "atec.csv").write_bytes("\ufeff1\t\ufeff花唄怎麼還\t花呗如何还款\t1\r\n2\t借呗\t花呗\t0\r\n".encode())
    assert read_tsv(tmp_path / "atec.csv", cols=(1, 2, 3)) == [
        ("花呗怎么还", "花呗如何还款", 1.0), ("借呗", "花呗", 0.0)]

    (tmp_path / "paws.tsv").write_text("id\tsentence1\tsentence2\tlabel\n7\t甲\t乙\t1\n", encoding="utf-8")
    assert read_tsv(tmp_path / "paws.tsv", cols=(1, 2, 3), header=True) == [("甲", "乙", 1.0)]

    (tmp_path / "nli.txt").write_text("前提\t假设一\tentailment\n前提\t假设二\tneutral\n", encoding="utf-8")
    assert read_tsv(tmp_path / "nli.txt", label_map={"entailment": 1.0, "contradiction": 0.0}) == [
        ("前提", "假设一", 1.0)]

    (tmp_path / "qqr.json").write_text('[{"query1": "头疼", "query2": "头痛", "label": "2"}]', encoding="utf-8")
    assert read_json_array(tmp_path / "qqr.json", "query1", "query2", "label", {"2": 1.0}) == [("头疼", "头痛", 1.0)]

    (tmp_path / "pair.json").write_text('{"sentence1": "一", "sentence2": "二", "label": "0"}\n', encoding="utf-8")
    assert read_jsonl(tmp_path / "pair.json", "sentence1", "sentence2", "label") == [("一", "二", 0.0)]

    (tmp_path / "tri.json").write_text(
        '{"id": 0, "sentence_0": "甲", "sentence_1": "乙", "sentence_2": "丙", "label": 2}\n', encoding="utf-8")
    assert read_triclue(tmp_path / "tri.json") == [("甲", "丙", "乙")]


def test_kb_pairs_pair_each_question_with_its_similar_questions():
    records = read_kb_records()
    pairs = read_kb_pairs()
    assert len(pairs) == sum(len(r.similar_questions) for r in records)
    assert pairs[0][0] == normalize(records[0].question)


def test_finetune_pulls_a_trained_pair_closer(tmp_path):
    from kb.embedding.finetune import finetune_on_pairs

    pairs = [("我的宽带老是断", "网速时有时无"), ("怎么查话费", "余额在哪看"), ("套餐怎么改", "换个便宜的资费"),
             ("手机丢了怎么办", "挂失号码"), ("发票怎么开", "要报销凭证"), ("国际漫游怎么开", "出国能用吗")]
    before = load_model()
    seen = []
    stats = finetune_on_pairs(MODEL_DIR, pairs, tmp_path / "ft", epochs=5, progress=seen.append)
    assert stats["pairs"] == len(pairs) and stats["seconds"] > 0
    assert seen[-1] == pytest.approx(1.0)
    after = load_model(tmp_path / "ft")
    assert _cos(after, *pairs[0]) > _cos(before, *pairs[0])
