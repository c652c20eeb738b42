"""Property tests (hypothesis, bounded and derandomized): the KB interchange parser never
fails with anything but InterchangeError and round-trips valid records byte-identically;
text normalisation never raises, is idempotent and leaves no punctuation, no double spaces
and no Traditional characters behind."""

from __future__ import annotations

import tempfile
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from config.settings import KB_CATEGORIES
from kb.interchange import InterchangeError, parse_file, write_file
from kb.schema import EntryRecord, to_record
from kb.text.normalize import _t2s, normalize

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SUFFIXES = [".yaml", ".jsonl"]

# Any text, including control characters, line separators and lone surrogates' neighbours.
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
# Text shaped like KB files, so the parser gets past the first line more often.
SYNTAX = st.sampled_from(["- ", "  ", ": ", "{", "}", "[", "]", '"', "'", "\n", "\r\n", "#", "id", "question",
                          "answer", "category", "billing", "&a", "*a", "!!python/object", "---", "...", "\t",
                          "\x85", "\u2028", "\ufeff", "null", "1", "宽带", ",", "|", ">"])
FILE_TEXT = st.one_of(ANY_TEXT, st.lists(st.one_of(SYNTAX, ANY_TEXT.map(lambda s: s[:5])), max_size=60).map("".join))


def _write(tmp: Path, suffix: str, data: bytes) -> Path:
    path = tmp / f"kb{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", SUFFIXES)
@BOUNDED
@given(text=FILE_TEXT)
def test_arbitrary_text_never_raises_anything_but_interchange_error(suffix, text):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), suffix, text.encode("utf-8"))
        try:
            result = parse_file(path)
        except InterchangeError:
            return
        for error in result.errors:  # per-record errors are reported, with a position
            assert error.index >= 1 and error.line >= 1 and error.reason


@pytest.mark.parametrize("suffix", SUFFIXES)
@BOUNDED
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_interchange_error(suffix, data):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            parse_file(_write(Path(tmp), suffix, data))
        except InterchangeError:
            pass


# ---- round trips -------------------------------------------------------------------------------

FIELD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                     min_size=1, max_size=40)
TIMESTAMP = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                         timezones=st.just(UTC))


@st.composite
def records(draw):
    raw = {
        "id": draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}\Z")),
        "question": draw(FIELD_TEXT),
        "similar_questions": draw(st.lists(FIELD_TEXT, max_size=3, unique_by=str.strip)),
        "answer": draw(FIELD_TEXT),
        "category": draw(st.sampled_from(KB_CATEGORIES)),
        "tags": draw(st.lists(FIELD_TEXT, max_size=3)),
        "channels": draw(st.dictionaries(st.sampled_from(["web", "wechat"]), FIELD_TEXT, max_size=2)),
        "status": draw(st.sampled_from(["draft", "review", "published", "archived"])),
        "owner": draw(st.none() | FIELD_TEXT),
        "review_due": draw(st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))),
        "version": draw(st.none() | st.integers(1, 10**6)),
        "created_at": draw(TIMESTAMP),  # an export always has them (store-owned)
        "updated_at": draw(TIMESTAMP),
    }
    try:
        record = EntryRecord.model_validate(raw)
    except ValidationError:
        assume(False)
    return to_record(record)  # the exact mapping an export writes


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(BOUNDED, max_examples=80)
@given(batch=st.lists(records(), min_size=1, max_size=4, unique_by=lambda r: r["id"]))
def test_valid_records_round_trip_export_import_export_byte_identically(suffix, batch):
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / f"a{suffix}", Path(tmp) / f"b{suffix}"
        write_file(first, batch)
        result = parse_file(first)
        assert result.errors == []
        assert [to_record(r) for r in result.records] == batch
        write_file(second, (to_record(r) for r in result.records))
        assert second.read_bytes() == first.read_bytes()


# ---- text normalisation ------------------------------------------------------------------------

CHINESE_ISH = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK, Traditional and Simplified
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width forms
    st.sampled_from("，。！？、；：“”‘’（）【】《》…—～ \t\n\u3000ABCabc123寬帶經常斷線怎麼辦"),
), max_size=80)
NORMALIZE_INPUT = st.one_of(ANY_TEXT, CHINESE_ISH)


@BOUNDED
@given(text=NORMALIZE_INPUT)
def test_normalize_never_raises_and_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@BOUNDED
@given(text=NORMALIZE_INPUT)
def test_normalized_text_has_no_punctuation_no_double_or_outer_spaces(text):
    out = normalize(text)
    assert not any(unicodedata.category(ch)[0] in ("P", "S") for ch in out)
    assert "  " not in out and out == out.strip()
    assert not any(ch.isspace() and ch != " " for ch in out)


@BOUNDED
@given(text=CHINESE_ISH)
def test_traditional_to_simplified_is_stable(text):
    out = normalize(text)
    assert _t2s().convert(out) == out  # nothing left to convert
    assert normalize(_t2s().convert(text)) == out  # written in either script, the same key


def test_traditional_and_simplified_spellings_normalize_alike():
    assert normalize("寬帶經常斷線怎麼辦？") == normalize("宽带经常断线怎么办?") == "宽带经常断线怎么办"
