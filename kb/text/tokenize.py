"""Tokens for lexical search: jieba words plus character n-grams of the normalised text.

Words carry meaning when jieba segments well; character n-grams keep typos, unknown words
and segmentation mistakes matchable. Each kind gets its own prefix so a word and a character
with the same spelling do not share a BM25 term.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

from kb.text.normalize import normalize

USER_DICT = Path(__file__).resolve().parent / "telecom_dict.txt"
STOPWORDS_FILE = Path(__file__).resolve().parent / "stopwords.txt"
_CJK = re.compile(r"[\u3400-\u9fff]+")


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def words(normalised: str) -> list[str]:
    stop = stopwords()
    return [w for w in _segmenter().lcut(normalised) if w.strip() and w not in stop]


def char_ngrams(normalised: str, sizes: tuple[int, ...]) -> list[str]:
    grams: list[str] = []
    for run in _CJK.findall(normalised):
        for n in sizes:
            grams.extend(f"{n}:{run[i:i + n]}" for i in range(len(run) - n + 1))
    return grams


def tokenize(text: str, ngram_sizes: tuple[int, ...] = (1, 2)) -> list[str]:
    normalised = normalize(text)
    return [f"w:{w}" for w in words(normalised)] + char_ngrams(normalised, ngram_sizes)


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first customer query."""
    _segmenter().lcut("预热")
