"""The Chinese tokenizer of the embedding model: characters plus frequent jieba words.

It is a `tokenizers` WordPiece model with an empty continuation prefix, so its greedy
longest-match is forward-maximum-matching segmentation over a vocabulary of words and single
characters: a known word wins over its characters, and anything else falls back to characters.
Characters never seen in training are split off on their own first (pre-tokenizer regex),
so one rare character becomes one [UNK] instead of turning its whole run of text into [UNK].
Input is expected to be normalised already (kb.text.normalize: simplified, lower case,
punctuation as spaces); the tokenizer repeats NFKC + lower case only as a safety net.
"""

from __future__ import annotations

import logging
import string
from collections import Counter
from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordPiece

UNK = "[UNK]"
# Always present so any Latin word or number can be spelt out piece by piece.
BASE_CHARS = string.ascii_lowercase + string.digits


def _segmenter():
    # The project's jieba with its telecom user dictionary, so domain words become tokens.
    from kb.text.tokenize import _segmenter as project_segmenter

    jieba_logger = logging.getLogger("jieba")
    jieba_logger.setLevel(logging.WARNING)
    return project_segmenter()


def build_vocab(sentences: Iterable[str], min_char_freq: int = 1, min_word_freq: int = 3,
                max_words: int = 30_000, max_word_len: int = 6) -> list[str]:
    """[UNK], then every character seen ≥ min_char_freq times, then the most frequent
    multi-character jieba words (frequency ≥ min_word_freq, at most max_words)."""
    seg = _segmenter()
    chars: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for s in sentences:
        chars.update(ch for ch in s if not ch.isspace())
        if max_words:
            words.update(w for w in seg.lcut(s, HMM=False) if 1 < len(w) <= max_word_len and " " not in w)
    vocab = [UNK]
    for ch in dict.fromkeys([*BASE_CHARS, *(c for c, n in chars.most_common() if n >= min_char_freq)]):
        vocab.append(ch)
    known = set(vocab)
    frequent = [w for w, n in words.most_common() if n >= min_word_freq and w not in known]
    vocab.extend(frequent[:max_words])
    return vocab


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class body for the given characters, compressed into ranges."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = codes[i], codes[j]
        parts.append(f"\\x{{{lo:x}}}" if lo == hi else f"\\x{{{lo:x}}}-\\x{{{hi:x}}}")
        i = j + 1
    return "".join(parts)


def build_tokenizer(vocab: list[str]) -> Tokenizer:
    ids = {tok: i for i, tok in enumerate(vocab)}
    tok = Tokenizer(WordPiece(ids, unk_token=UNK, continuing_subword_prefix="", max_input_chars_per_word=100_000))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    known = {c for t in vocab if t != UNK for c in t}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    tok.add_special_tokens([UNK])
    return tok


def tokens(tokenizer: Tokenizer, text: str) -> list[str]:
    return tokenizer.encode(text, add_special_tokens=False).tokens
