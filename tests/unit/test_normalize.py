"""Text normalisation and tokenisation: what a customer types in any width, script or case
must reach the index in one canonical form."""

from __future__ import annotations

import pytest

from kb.text.normalize import normalize
from kb.text.tokenize import char_ngrams, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width letters and digits
        ("ｅＳＩＭ卡", "esim卡"),
        ("寬帶網速", "宽带网速"),  # Traditional → Simplified
        ("華為手機訊號不好", "华为手机讯号不好"),
        ("WiFi密码", "wifi密码"),  # upper → lower case
        ("VoLTE", "volte"),
    ],
)
def test_width_script_and_case_are_normalised(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你好，世界！怎么办？", "你好 世界 怎么办"),  # Chinese punctuation
        ("“流量”【包】《月》、～", "流量 包 月"),
        ("hello, world!! (test)", "hello world test"),  # ASCII punctuation
        ("话费-余额/查询", "话费 余额 查询"),
        ("¥100元", "100元"),  # currency symbol
    ],
)
def test_punctuation_and_symbols_are_removed(raw, expected):
    assert normalize(raw) == expected


def test_whitespace_is_collapsed_and_trimmed():
    # ordinary spaces, tabs, newlines and the full-width ideographic space U+3000
    assert normalize("  宽带 \t\n 掉线　了  ") == "宽带 掉线 了"


def test_normalisation_is_idempotent():
    once = normalize("我的ＷｉＦｉ密碼忘了，怎麼辦？？")
    assert once == "我的wifi密码忘了 怎么办"
    assert normalize(once) == once


def test_punctuation_only_input_normalises_to_empty():
    assert normalize("？！。，…… !!") == ""


def test_tokens_have_word_and_character_ngram_kinds():
    tokens = tokenize("WiFi密码忘了怎么办")
    words = [t for t in tokens if t.startswith("w:")]
    unigrams = [t for t in tokens if t.startswith("1:")]
    bigrams = [t for t in tokens if t.startswith("2:")]
    assert len(words) + len(unigrams) + len(bigrams) == len(tokens)
    assert {"w:wifi", "w:密码"} <= set(words)
    # n-grams are built from the Chinese characters of the normalised text, in order
    assert unigrams == ["1:密", "1:码", "1:忘", "1:了", "1:怎", "1:么", "1:办"]
    assert bigrams == ["2:密码", "2:码忘", "2:忘了", "2:了怎", "2:怎么", "2:么办"]


def test_stopwords_leave_word_tokens_but_stay_in_character_ngrams():
    tokens = tokenize("我的宽带")
    assert "w:我的" not in tokens and "w:的" not in tokens and "w:我" not in tokens
    assert "w:宽带" in tokens
    assert "1:的" in tokens and "2:我的" in tokens


def test_ngrams_do_not_span_punctuation_or_latin_text():
    # "流量，套餐" splits into two runs: no bigram "量套" across the comma
    tokens = tokenize("流量，套餐")
    assert "2:流量" in tokens and "2:套餐" in tokens
    assert "2:量套" not in tokens
    assert char_ngrams("5g套餐", (1, 2)) == ["1:套", "1:餐", "2:套餐"]


def test_ngram_sizes_are_configurable():
    assert [t for t in tokenize("宽带", ngram_sizes=(2,)) if not t.startswith("w:")] == ["2:宽带"]


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("我的寬帶網速很慢，怎麼辦？", "我的宽带网速很慢，怎么办？"),
        ("ＷｉＦｉ密碼忘了", "WiFi密码忘了"),
        ("國際漫遊怎麼開通", "国际漫游怎么开通"),
        ("話費餘額怎麼查詢", "话费余额怎么查询"),
    ],
)
def test_traditional_and_simplified_spellings_give_identical_tokens(traditional, simplified):
    assert tokenize(traditional) == tokenize(simplified)
    assert tokenize(traditional)  # and there is something to match on


def test_tokens_ignore_case_width_and_punctuation_differences():
    assert tokenize("ＥＳＩＭ卡怎么办理？？") == tokenize("eSIM卡怎么办理")
