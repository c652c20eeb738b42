"""Normalise Chinese text before matching: width, script, case, punctuation, spacing."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _is_punct_or_symbol(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("P", "S")


def normalize(text: str) -> str:
    """Full-width → half-width (NFKC), Traditional → Simplified, lower case, punctuation and
    symbols → spaces, runs of whitespace → one space."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = text.lower()
    text = "".join(" " if _is_punct_or_symbol(ch) else ch for ch in text)
    return _SPACES.sub(" ", text).strip()
