"""Editorial status workflow: draft → review → published → archived."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    draft = "draft"
    review = "review"
    published = "published"
    archived = "archived"


# Review can send an entry back to draft; an archived entry comes back only as a draft, so it
# is reviewed again before customers see it.
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.review, Status.archived}),
    Status.review: frozenset({Status.published, Status.draft}),
    Status.published: frozenset({Status.archived, Status.draft}),
    Status.archived: frozenset({Status.draft}),
}

# Content edits are refused on archived entries: reopen as draft first.
EDITABLE_STATUSES = frozenset({Status.draft, Status.review, Status.published})


class InvalidTransition(ValueError):
    def __init__(self, entry_id: str, current: str, target: str) -> None:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[Status(current)]))
        super().__init__(
            f"entry {entry_id}: cannot go from {current} to {target} (allowed: {allowed})"
        )


def check_transition(entry_id: str, current: str, target: str) -> Status:
    target_status = Status(target)
    if target_status not in ALLOWED_TRANSITIONS[Status(current)]:
        raise InvalidTransition(entry_id, current, target)
    return target_status
