"""What the action server tells the gateway besides its reply texts: the bot's decision on a
turn, and the button payloads both sides read.

The decision travels as data, never as wording: a KB action adds one Rasa custom message,
`{"bot_decision": {"decision": …, "entry_id": …, "confidence": …, "offered": […]}}`, to its replies
(`dispatcher.utter_message(json_message=decision_payload(...))`). Rasa's REST channel returns it
as its own item, `{"recipient_id": …, "custom": {…}}`; the gateway takes it out with
`split_replies` before anything reaches a customer or the transcript. Turns without a KB
decision (chit-chat, a handoff confirmation, a ticket status) carry none.

Imports nothing of the project: the action server and the gateway both depend on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

Decision = Literal["answer", "clarify", "no_answer"]
DECISIONS: Final[tuple[Decision, ...]] = get_args(Decision)
ANSWER: Final[Decision] = "answer"
CLARIFY: Final[Decision] = "clarify"
NO_ANSWER: Final[Decision] = "no_answer"

# The key of the decision inside a Rasa custom message.
PAYLOAD_KEY: Final = "bot_decision"

# Button payloads (Rasa intents with an entity) the bot sends and the customer sends back.
HELPFUL_PAYLOAD: Final = "/feedback_helpful"
UNHELPFUL_PAYLOAD: Final = "/feedback_unhelpful"
CHOOSE_ENTRY_PAYLOAD: Final = "/choose_entry"
HUMAN_REQUEST_PAYLOAD: Final = "/request_human"


@dataclass(frozen=True)
class BotDecision:
    """The bot's KB decision on one turn: the answered entry (answer), the entries it offered
    (clarify: the "您是不是想问" options; answer: the answered one) and the search confidence."""

    decision: Decision
    entry_id: str | None = None
    confidence: float | None = None
    offered: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "entry_id": self.entry_id, "confidence": self.confidence,
                "offered": list(self.offered)}

    @classmethod
    def from_json(cls, data: Any) -> BotDecision | None:
        """The decision in a custom message's value; None when it is not a well-formed one."""
        if not isinstance(data, dict) or data.get("decision") not in DECISIONS:
            return None
        entry_id = data.get("entry_id")
        confidence = data.get("confidence")
        offered = data.get("offered") or []
        return cls(
            decision=data["decision"],
            entry_id=entry_id if isinstance(entry_id, str) else None,
            confidence=float(confidence) if isinstance(confidence, (int, float))
            and not isinstance(confidence, bool) else None,
            offered=tuple(e for e in offered if isinstance(e, str)) if isinstance(offered, list) else (),
        )


def decision_payload(decision: BotDecision) -> dict[str, Any]:
    """The `json_message` an action sends along with its replies."""
    return {PAYLOAD_KEY: decision.to_json()}


def answered(entry_id: str, confidence: float | None) -> BotDecision:
    return BotDecision(ANSWER, entry_id, confidence, (entry_id,))


def clarified(offered: Iterable[str], confidence: float | None) -> BotDecision:
    return BotDecision(CLARIFY, None, confidence, tuple(offered))


def missed(confidence: float | None = None) -> BotDecision:
    return BotDecision(NO_ANSWER, None, confidence)


def is_decision(item: dict[str, Any]) -> bool:
    """Whether a Rasa REST item is the decision message (never shown to a customer)."""
    custom = item.get("custom")
    return isinstance(custom, dict) and PAYLOAD_KEY in custom


def split_replies(items: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], BotDecision | None]:
    """(the replies a customer sees, the turn's decision) from Rasa's REST response items. Other
    items without text (images, unknown custom messages) are dropped: the channels show text."""
    shown: list[dict[str, Any]] = []
    decision: BotDecision | None = None
    for item in items:
        if is_decision(item):
            decision = BotDecision.from_json(item["custom"][PAYLOAD_KEY]) or decision
        elif item.get("text"):
            shown.append(item)
    return shown, decision


def entry_payload(intent: str, entry_id: str) -> str:
    """A button payload naming a KB entry: `/intent{"entry_id": "…"}`."""
    return f"{intent}{json.dumps({'entry_id': entry_id})}"


def entry_of(payload: str) -> str | None:
    """The KB entry a button payload names (`/intent{"entry_id": …}`), if any."""
    if not payload.startswith("/") or "{" not in payload:
        return None
    try:
        value = json.loads(payload[payload.index("{"):]).get("entry_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def intent_of(payload: str) -> str:
    """The intent part of a button payload the customer sent back (`/feedback_helpful{…}` →
    `/feedback_helpful`); plain text comes back unchanged."""
    text = payload.strip()
    return text.split("{", 1)[0] if text.startswith("/") else text
