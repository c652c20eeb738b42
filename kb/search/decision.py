"""The bot's decision from the top candidate's confidence."""

from __future__ import annotations

from enum import StrEnum

from kb.search.calibration import Thresholds


class Decision(StrEnum):
    answer = "answer"  # confident: reply with the entry's answer
    clarify = "clarify"  # plausible: offer the top few as "您是不是想问"
    handoff = "handoff"  # nothing relevant: offer a human


def decide(top_confidence: float | None, thresholds: Thresholds,
           runner_up_confidence: float | None = None, plausibility: float | None = None) -> Decision:
    """Answer when the top candidate is confidently right and clearly ahead; clarify when the
    right entry is plausibly among the buttons (`plausibility`, or the top confidence when not
    given); hand off otherwise."""
    if top_confidence is None:
        return Decision.handoff
    clear_winner = runner_up_confidence is None or top_confidence - runner_up_confidence >= thresholds.margin
    if top_confidence >= thresholds.answer and clear_winner:
        return Decision.answer
    plausible = top_confidence if plausibility is None else plausibility
    if plausible >= thresholds.clarify:
        return Decision.clarify
    return Decision.handoff
