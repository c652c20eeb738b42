"""Interchange files (YAML list or JSON Lines): parse with per-record errors, write losslessly."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kb.schema import EntryRecord

YAML_SUFFIXES = (".yaml", ".yml")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


# YAML treats these as line breaks, so written raw they would come back as spaces.
_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


class _SafeTextDumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in _YAML_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_SafeTextDumper.add_representer(str, _represent_str)


class InterchangeError(Exception):
    """The file as a whole cannot be read (missing, wrong type, malformed syntax)."""


@dataclass
class RecordError:
    index: int  # 1-based position of the record in the file
    line: int  # 1-based line where the record starts
    entry_id: str | None
    reason: str

    def __str__(self) -> str:
        who = f" (id {self.entry_id})" if self.entry_id else ""
        return f"line {self.line}, record {self.index}{who}: {self.reason}"


@dataclass
class ParseResult:
    records: list[EntryRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise InterchangeError(
        f"{path}: unknown file type {suffix or '(none)'}; use .yaml/.yml or .jsonl"
    )


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def _raw_records_yaml(text: str, path: Path) -> list[tuple[int, Any]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InterchangeError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise InterchangeError(f"{path}: a YAML KB file must be a list of entries")
    return [(node.start_mark.line + 1, item) for node, item in zip(root.value, data, strict=True)]


def _raw_records_jsonl(text: str, path: Path) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    # Only "\n" ends a record: str.splitlines() would also split inside JSON strings at
    # U+2028/U+0085, which json.dumps(ensure_ascii=False) leaves unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((number, _BadJSON(exc.msg)))
    return out


@dataclass
class _BadJSON:
    reason: str


def parse_file(path: Path | str) -> ParseResult:
    """Read every record, validating each; never stops at the first bad one."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InterchangeError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM (Windows editors)
    except UnicodeDecodeError as exc:
        raise InterchangeError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    raw = _raw_records_yaml(text, path) if kind == "yaml" else _raw_records_jsonl(text, path)

    result = ParseResult()
    seen: dict[str, int] = {}
    for index, (line, item) in enumerate(raw, start=1):
        if isinstance(item, _BadJSON):
            result.errors.append(RecordError(index, line, None, f"invalid JSON: {item.reason}"))
            continue
        if not isinstance(item, dict):
            result.errors.append(RecordError(index, line, None, "record must be a mapping of fields"))
            continue
        entry_id = item.get("id") if isinstance(item.get("id"), str) else None
        try:
            record = EntryRecord.model_validate(item)
        except ValidationError as exc:
            result.errors.append(RecordError(index, line, entry_id, _describe(exc)))
            continue
        if record.id in seen:
            result.errors.append(
                RecordError(index, line, record.id, f"duplicate id (first at line {seen[record.id]})")
            )
            continue
        seen[record.id] = line
        result.records.append(record)
    return result


def write_file(path: Path | str, records: Iterable[dict[str, Any]]) -> int:
    """Write records in the format the suffix names; returns how many were written."""
    path = Path(path)
    kind = file_format(path)
    records = list(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        if kind == "yaml":
            yaml.dump(records, fh, Dumper=_SafeTextDumper, allow_unicode=True, sort_keys=False, width=1000)
        else:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)  # a reader never sees a half-written export
    return len(records)
