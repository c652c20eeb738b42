"""Answer from the knowledge base: answer, clarify with buttons, or count a miss. Each KB
decision also goes to the gateway as data (common/bot_protocol.py), for reports and metrics."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context, replies
from actions.handoff_actions import hand_off
from common import bot_protocol, triage
from kb.search.engine import QueryError


def _tried(tracker: Tracker) -> list[dict[str, Any]]:
    return list(tracker.get_slot("tried_entries") or [])


def _remember(tried: list[dict[str, Any]], hit) -> list[dict[str, Any]]:
    if all(t["id"] != hit.id for t in tried):
        tried = tried + [{"id": hit.id, "question": hit.question, "confidence": round(hit.confidence, 3)}]
    return tried[-10:]


def _channel_answer(entry, channel: str | None) -> str:
    return (entry.channels or {}).get(channel or "web") or entry.answer


def _decide(dispatcher: CollectingDispatcher, decision: bot_protocol.BotDecision) -> None:
    """Tell the gateway what the bot decided (a custom message no customer sees)."""
    dispatcher.utter_message(json_message=bot_protocol.decision_payload(decision))


def _miss(dispatcher: CollectingDispatcher, confidence: float | None = None) -> None:
    dispatcher.utter_message(text=replies.NO_ANSWER_FIRST, buttons=[replies.human_button()])
    _decide(dispatcher, bot_protocol.missed(confidence))


def _answer_events(dispatcher, tracker, entry_id, question, answer, confidence, tried) -> list[EventType]:
    dispatcher.utter_message(text=answer)
    dispatcher.utter_message(text=replies.FEEDBACK_PROMPT, buttons=replies.feedback_buttons(entry_id))
    _decide(dispatcher, bot_protocol.answered(entry_id, round(confidence, 3)))
    tried = _remember(tried, type("Hit", (), {"id": entry_id, "question": question, "confidence": confidence}))
    return [SlotSet("tried_entries", tried), SlotSet("last_entry_id", entry_id),
            SlotSet("no_answer_count", 0.0)]


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        tried = _tried(tracker)
        if triage.emotion(text).label == "angry":
            return await hand_off(dispatcher, tracker, "emotion")
        try:
            response = context.search().get().search(text, top_k=3)
        except QueryError:
            response = None
        if response and response.decision == "answer":
            top = response.top
            channel = (tracker.latest_message.get("metadata") or {}).get("channel")
            entry = next(e for e in context.search().get().entries if e.id == top.id)
            return _answer_events(dispatcher, tracker, top.id, top.question,
                                  _channel_answer(entry, channel), top.confidence, tried)
        if response and response.decision == "clarify":
            for hit in response.hits:
                tried = _remember(tried, hit)
            buttons = [replies.choose_button(h.id, h.question) for h in response.hits[:3]]
            buttons.append(replies.human_button())
            dispatcher.utter_message(text=replies.CLARIFY_PROMPT, buttons=buttons)
            _decide(dispatcher, bot_protocol.clarified((h.id for h in response.hits[:3]),
                                                       round(response.top.confidence, 3)))
            return [SlotSet("tried_entries", tried)]
        misses = (tracker.get_slot("no_answer_count") or 0.0) + 1
        if misses >= context.settings().handoff_after_no_answers:
            return await hand_off(dispatcher, tracker, "no_answer")
        _miss(dispatcher, round(response.top.confidence, 3) if response and response.top else None)
        return [SlotSet("no_answer_count", misses)]


class ActionAnswerEntry(Action):
    """The customer picked one of the "您是不是想问" buttons."""

    def name(self) -> str:
        return "action_answer_entry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        entry_id = tracker.get_slot("entry_id")
        engine = context.search().get()
        entry = next((e for e in engine.entries if e.id == entry_id), None)
        if entry is None:  # unpublished meanwhile, or a forged payload
            _miss(dispatcher)
            return []
        channel = (tracker.latest_message.get("metadata") or {}).get("channel")
        confidence = next((t["confidence"] for t in _tried(tracker) if t["id"] == entry_id), 1.0)
        return _answer_events(dispatcher, tracker, entry.id, entry.question,
                              _channel_answer(entry, channel), confidence, _tried(tracker))


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        helpful = tracker.latest_message["intent"]["name"] == "feedback_helpful"
        entry_id = tracker.get_slot("entry_id") or tracker.get_slot("last_entry_id")
        if entry_id:
            await context.gateway().feedback(tracker.sender_id, entry_id, helpful)
        if helpful:
            dispatcher.utter_message(text=replies.HELPFUL_THANKS)
            return []
        marks = (tracker.get_slot("unhelpful_count") or 0.0) + 1
        if marks >= context.settings().handoff_after_unhelpful:
            return await hand_off(dispatcher, tracker, "unhelpful")
        dispatcher.utter_message(text=replies.UNHELPFUL_FIRST, buttons=[replies.human_button()])
        return [SlotSet("unhelpful_count", marks)]
