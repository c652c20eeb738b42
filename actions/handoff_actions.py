"""Hand the conversation to a human and answer questions about the handoff."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context, replies
from actions.gateway_client import GatewayError

log = logging.getLogger(__name__)

REASON_BY_INTENT = {
    "request_human": "user_request",
    "complain": "complaint",
    "report_urgent": "urgent",
}


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    tried = list(tracker.get_slot("tried_entries") or [])
    category, confidence = None, 0.0
    text = tracker.latest_message.get("text") or ""
    if text and not text.startswith("/"):
        try:
            top = context.search().get().search(text, top_k=1).top
            if top is not None:
                category, confidence = top.category, top.confidence
        except ValueError:
            pass
    try:
        result = await context.gateway().create_handoff(tracker.sender_id, reason, tried, category, confidence)
    except GatewayError as exc:
        log.error("handoff for %s failed: %s", tracker.sender_id, exc)
        dispatcher.utter_message(text=replies.HANDOFF_FAILED)
        return []
    dispatcher.utter_message(text=result["message"])
    return [SlotSet("handoff_id", str(result["handoff_id"]))]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = tracker.latest_message["intent"]["name"]
        return await hand_off(dispatcher, tracker, REASON_BY_INTENT.get(intent, "user_request"))


class ActionHandoffStatus(Action):
    def name(self) -> str:
        return "action_handoff_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        status = await context.gateway().handoff_status(tracker.sender_id)
        if status is None:
            dispatcher.utter_message(text=replies.NO_TICKET, buttons=[replies.human_button()])
            return []
        where = replies.STATUS_TEXT.get(status["status"], status["status"])
        position = f"，前面还有 {status['queue_position'] - 1} 位" if status.get("queue_position") else ""
        dispatcher.utter_message(text=f"您的工单（{status['handoff_id']}）{where}{position}。")
        return []
