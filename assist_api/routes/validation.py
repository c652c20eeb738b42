"""Checks shared by request bodies that carry customer or agent text."""

from __future__ import annotations


def plain_text(value: str) -> str:
    """Non-blank and free of NUL (PostgreSQL cannot store it; refused on every backend)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.strip():
        raise ValueError("text is empty")
    return value
