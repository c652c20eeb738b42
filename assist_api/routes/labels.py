"""The platform's label names for the pages: every kind's values in display order and their
Chinese names, from the one source (common/labels.yaml). Public: names of labels, nothing about
any customer or case, and the pages need them before anyone signs in."""

from __future__ import annotations

from fastapi import APIRouter, Response

from common.labels import Labels, load_labels

router = APIRouter(prefix="/api", tags=["labels"])


@router.get("/labels", response_model=Labels)
def labels(response: Response) -> Labels:
    """Every label kind (category, priority, handoff reason, status, …): value -> Chinese name."""
    response.headers["Cache-Control"] = "no-cache"  # a renamed label shows on the next page load
    return load_labels()
