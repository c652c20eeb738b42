"""The escalation record's summary is about the open issue: questions the bot already settled
(answered, and the customer moved on or said thanks) stay out of its background, bot_tried and
keywords, while the record's transcript keeps the whole conversation. Real services on SQLite,
the bot's replies built by the action server's own reply helpers, the trained ticket model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from actions import replies as bot
from assist_api.assist.classifier import ensure_trained
from common import bot_protocol
from config.settings import Settings
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import Handoff, HandoffReason
from gateway.handoffs.service import HandoffService, handoff_json

BROADBAND = ("broadband-006", "宽带老是掉线怎么办", 0.91)
BILL = ("billing-001", "怎么查询话费", 0.88)
MODEM = ("device-003", "光猫红灯闪烁怎么办", 0.47)


def decided(decision: bot_protocol.BotDecision) -> dict[str, Any]:
    """The decision message as Rasa's REST channel returns it after the replies."""
    return {"custom": bot_protocol.decision_payload(decision)}


def answer(text: str, entry: tuple) -> list[dict[str, Any]]:
    return [{"text": text}, {"text": bot.FEEDBACK_PROMPT, "buttons": bot.feedback_buttons(entry[0])},
            decided(bot_protocol.answered(entry[0], entry[2]))]


def clarify(*entries: tuple) -> list[dict[str, Any]]:
    return [{"text": bot.CLARIFY_PROMPT,
             "buttons": [bot.choose_button(e[0], e[1]) for e in entries] + [bot.human_button()]},
            decided(bot_protocol.clarified([e[0] for e in entries], entries[0][2]))]


def click(feedback: str, entry: tuple) -> str:
    return f"/feedback_{feedback}{json.dumps({'entry_id': entry[0]})}"


def tried(*entries: tuple) -> list[dict[str, Any]]:
    """What the action server's tried_entries slot holds: every entry shown in the conversation."""
    return [{"id": e[0], "question": e[1], "confidence": e[2]} for e in entries]


@dataclass
class Chat:
    conversations: ConversationService
    handoffs: HandoffService
    customer: str
    conversation_id: str | None = None

    def turn(self, text: str, replies: list[dict[str, Any]] | None = None) -> None:
        """One customer message and the bot's replies, stored as the gateway stores them."""
        conv = self.conversations.receive("web", self.customer, self.conversation_id, text)
        self.conversation_id = conv.id
        if replies:
            shown, decision = bot_protocol.split_replies(replies)
            self.conversations.reply(conv.id, shown, decision)

    def hand_off(self, reason: HandoffReason, bot_tried: list[dict[str, Any]]) -> Handoff:
        return self.handoffs.create(self.conversation_id, reason, bot_tried).handoff


@pytest.fixture(scope="module")
def classifier():
    return ensure_trained(Settings().resolved_assist_model_file)[0]


@pytest.fixture
def services(sqlite_url, tmp_path, classifier):
    upgrade(sqlite_url)
    sessions = session_factory(sqlite_url)
    settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    return conversations, HandoffService(sessions, settings, conversations, classifier)


def chat(services, customer: str) -> Chat:
    return Chat(*services, customer=customer)


def test_a_complaint_after_two_answered_faqs_leaves_them_out_of_the_summary(services):
    c = chat(services, "web-faq-then-complaint")
    c.turn("宽带老是掉线怎么办", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn("怎么查话费", answer("发送短信 CXHF 到 10001 即可查询话费。", BILL))
    c.turn("上个月话费多扣了50元，我要投诉", None)

    h = c.hand_off(HandoffReason.complaint, tried(BROADBAND, BILL))
    record = handoff_json(h)

    assert record["summary"]["background"] == "上个月话费多扣了50元，我要投诉"
    # Both entries answered questions the customer moved on from: nothing the agent must avoid.
    assert record["summary"]["bot_tried"] == []
    keywords = record["classification"]["keywords"]
    assert "话费" in keywords and "50元" in keywords
    assert not {"宽带", "掉线"} & set(keywords)
    # The transcript still holds the whole conversation; the summary says where the issue starts.
    texts = [m["text"] for m in record["transcript"]]
    assert texts[0] == "宽带老是掉线怎么办" and "怎么查话费" in texts
    assert "发送短信 CXHF 到 10001 即可查询话费。" in texts
    assert texts[record["summary"]["transcript_from"]] == "上个月话费多扣了50元，我要投诉"
    assert len(texts) == 7


def test_an_answer_that_did_not_help_and_the_rephrased_question_stay_in_the_open_issue(services):
    c = chat(services, "web-unhelpful-rephrase")
    c.turn("怎么查话费", answer("发送短信 CXHF 到 10001 即可查询话费。", BILL))
    c.turn(click("helpful", BILL), [{"text": bot.HELPFUL_THANKS}])
    c.turn("宽带老是掉线怎么办", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn(click("unhelpful", BROADBAND), [{"text": bot.UNHELPFUL_FIRST, "buttons": [bot.human_button()]}])
    c.turn("家里的网一天断好几次", clarify(BROADBAND, MODEM))
    c.turn("转人工", None)

    h = c.hand_off(HandoffReason.user_request, tried(BILL, BROADBAND, MODEM))

    assert h.summary["background"] == "宽带老是掉线怎么办\n家里的网一天断好几次"
    # What the bot already offered for this issue, so the agent does not offer it again.
    assert [t["id"] for t in h.summary["bot_tried"]] == [BROADBAND[0], MODEM[0]]
    assert "话费" not in h.classification["keywords"]
    assert "宽带" in h.classification["keywords"]
    assert h.transcript[h.summary["transcript_from"]]["text"] == "宽带老是掉线怎么办"
    assert h.transcript[0]["text"] == "怎么查话费"


def test_a_rephrase_without_a_no_help_click_is_still_the_same_issue(services):
    c = chat(services, "web-rephrase")
    c.turn("宽带老是掉线怎么办", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn("我家宽带总是掉线", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn("转人工", None)

    h = c.hand_off(HandoffReason.user_request, tried(BROADBAND))

    assert h.summary["background"] == "宽带老是掉线怎么办\n我家宽带总是掉线"
    assert h.summary["bot_tried"] == tried(BROADBAND)


def test_saying_it_still_fails_keeps_the_answered_question_open(services):
    c = chat(services, "web-still-failing")
    c.turn("怎么查话费", answer("发送短信 CXHF 到 10001 即可查询话费。", BILL))
    c.turn("宽带老是掉线怎么办", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn("重启过了还是不行", None)

    h = c.hand_off(HandoffReason.unhelpful, tried(BILL, BROADBAND))

    assert h.summary["background"] == "宽带老是掉线怎么办\n重启过了还是不行"
    assert h.summary["bot_tried"] == tried(BROADBAND)


def test_thanks_then_a_human_request_keeps_the_last_question_as_background(services):
    c = chat(services, "web-thanks-then-human")
    c.turn("宽带老是掉线怎么办", answer("请先重启光猫，再检查网线是否松动。", BROADBAND))
    c.turn("怎么查话费", answer("发送短信 CXHF 到 10001 即可查询话费。", BILL))
    c.turn("好的，谢谢", [{"text": "不客气"}])
    c.turn("转人工", None)

    h = c.hand_off(HandoffReason.user_request, tried(BROADBAND, BILL))

    # No new question: the agent sees the latest one the customer asked, not the whole chat.
    assert h.summary["background"] == "怎么查话费"
    assert h.summary["bot_tried"] == tried(BILL)
