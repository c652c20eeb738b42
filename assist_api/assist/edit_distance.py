"""Levenshtein distance between a suggestion and what the agent sent (characters inserted,
deleted or replaced), the measure of how much an inserted suggestion was edited."""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """Edit distance by characters. Agents mostly edit a suggestion in one place (a name, a
    sentence added at the end), so the common prefix and suffix are skipped before the
    quadratic part, which then only sees the edited span."""
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
