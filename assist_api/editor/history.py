"""An entry's version history, each version with what changed since the one before it."""

from __future__ import annotations

import difflib
from typing import Any

from kb.models import KBEntryVersion
from kb.schema import CONTENT_FIELDS

SHOWN_FIELDS = (*CONTENT_FIELDS, "status")


def field_diff(name: str, before: Any, after: Any) -> dict[str, Any]:
    """One changed field: old and new value, plus what a reader scans for: added and removed
    list items, or a line diff of long text."""
    change: dict[str, Any] = {"field": name, "before": before, "after": after}
    if isinstance(before, list) or isinstance(after, list):
        old, new = before or [], after or []
        change["added"] = [x for x in new if x not in old]
        change["removed"] = [x for x in old if x not in new]
    elif isinstance(before, str) and isinstance(after, str) and ("\n" in before or "\n" in after):
        change["lines"] = list(difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1))[2:]
    return change


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def diff_snapshots(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    before = before or {}
    return [field_diff(name, before.get(name), after.get(name))
            for name in SHOWN_FIELDS
            if before.get(name) != after.get(name) and not (_empty(before.get(name)) and _empty(after.get(name)))]


def history(versions: list[KBEntryVersion]) -> list[dict[str, Any]]:
    """Newest first."""
    out, previous = [], None
    for v in versions:
        out.append({
            "version": v.version,
            "action": v.action,
            "actor": v.actor,
            "at": v.created_at.isoformat(),
            "status": v.snapshot.get("status"),
            "changes": diff_snapshots(previous, v.snapshot),
            "snapshot": v.snapshot,
        })
        previous = v.snapshot
    return out[::-1]
