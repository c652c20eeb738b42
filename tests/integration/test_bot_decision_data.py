"""The bot's decision travels as data, so its wording is free: the same conversations, once with
the bot's replies as shipped and once with every one of them reworded, give the same reports,
metrics, unanswered list, topics and open-issue summaries.

The action server is stood in for by a scripted bot that answers as the KB actions do: the
replies built from actions/replies.py and the domain's responses, plus the decision message as
Rasa's REST channel returns it and RasaClient passes it on (`{"custom": {"bot_decision": …}}`).
Everything after it is real: the gateway, the conversation and handoff services, the reports on
SQLite. tests/e2e/test_conversations.py checks the same message through the real Rasa."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from actions import replies as bot
from assist_api.editor.unanswered import unanswered_questions
from assist_api.reports.mining import from_unanswered, mine
from assist_api.reports.period import Period
from assist_api.reports.service import build_report
from common import bot_protocol
from common.observability import metrics
from config.settings import PROJECT_ROOT, Settings
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.gateway import Gateway
from gateway.conversations.models import Message
from gateway.conversations.service import ConversationService
from gateway.handoffs import replies as gateway_replies
from gateway.handoffs.models import Handoff, HandoffReason
from gateway.handoffs.service import HandoffService, handoff_json

DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
BROADBAND = ("broadband-006", "宽带老是掉线怎么办", 0.91)
BILL = ("billing-001", "怎么查询话费", 0.88)
MODEM = ("device-003", "光猫红灯闪烁怎么办", 0.47)


def shipped_texts() -> dict[str, str]:
    """Every reply text of the bot: actions/replies.py's constants and the domain's responses."""
    texts = {name: value for name, value in vars(bot).items() if name.isupper() and isinstance(value, str)}
    texts.update({f"STATUS_TEXT.{k}": v for k, v in bot.STATUS_TEXT.items()})
    domain = yaml.safe_load(DOMAIN.read_text("utf-8"))
    texts.update({name: variants[0]["text"] for name, variants in domain["responses"].items()})
    return texts


def reworded(texts: dict[str, str]) -> dict[str, str]:
    """Each text said differently: a new opening (so no shared prefix), its clauses reversed."""
    return {name: f"【第{i}种说法】{'，'.join(reversed(text.split('，')))}"
            for i, (name, text) in enumerate(texts.items())}


class ScriptedBot:
    """Answers like the action server, in the given wording; its decisions are data."""

    def __init__(self, texts: dict[str, str], handoffs: HandoffService) -> None:
        self.texts = texts
        self.handoffs = handoffs
        self.misses: dict[str, int] = {}

    async def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._turn(sender, text)  # as RasaClient.send returns them

    def _turn(self, sender: str, text: str) -> list[dict[str, Any]]:
        t = self.texts
        entry = bot_protocol.entry_of(text)
        intent = bot_protocol.intent_of(text)
        if text in ("你好", "谢谢"):
            return [{"text": t["utter_greet" if text == "你好" else "utter_thank"]}]
        if intent == bot_protocol.HELPFUL_PAYLOAD:
            return [{"text": t["HELPFUL_THANKS"]}]
        if intent == bot_protocol.UNHELPFUL_PAYLOAD:
            return [{"text": t["UNHELPFUL_FIRST"], "buttons": [bot.human_button()]}]
        if text == "转人工":
            return self._hand_off(sender, HandoffReason.user_request)
        known = {e[1]: e for e in (BROADBAND, BILL, MODEM)}
        if intent == bot_protocol.CHOOSE_ENTRY_PAYLOAD:
            hit = next(e for e in known.values() if e[0] == entry)
            return self._answer(hit, f"{hit[1]}的答案。")
        if text in known:
            return self._answer(known[text], f"{text}的答案。")
        if "光猫" in text or "积分" in text:
            offered = (MODEM, BROADBAND) if "光猫" in text else (BILL,)
            return [{"text": t["CLARIFY_PROMPT"],
                     "buttons": [bot.choose_button(e[0], e[1]) for e in offered] + [bot.human_button()]},
                    {"custom": bot_protocol.decision_payload(bot_protocol.clarified([e[0] for e in offered], 0.5))}]
        self.misses[sender] = self.misses.get(sender, 0) + 1
        if self.misses[sender] >= 2:  # the action hands off on the second miss, with no decision
            return self._hand_off(sender, HandoffReason.no_answer)
        return [{"text": t["NO_ANSWER_FIRST"], "buttons": [bot.human_button()]},
                {"custom": bot_protocol.decision_payload(bot_protocol.missed(0.2))}]

    def _answer(self, entry: tuple, answer: str) -> list[dict[str, Any]]:
        return [{"text": answer},
                {"text": self.texts["FEEDBACK_PROMPT"], "buttons": bot.feedback_buttons(entry[0])},
                {"custom": bot_protocol.decision_payload(bot_protocol.answered(entry[0], entry[2]))}]

    def _hand_off(self, conversation_id: str, reason: HandoffReason) -> list[dict[str, Any]]:
        tried = [{"id": e[0], "question": e[1], "confidence": e[2]} for e in (BROADBAND, BILL, MODEM)]
        outcome = self.handoffs.create(conversation_id, reason, tried)
        return [{"text": gateway_replies.handoff_confirmation(outcome, self.handoffs.levels)}]

    async def close(self) -> None:
        pass


CONVERSATIONS = {
    "web-answers-then-human": ["你好", "宽带老是掉线怎么办", '/feedback_helpful{"entry_id": "broadband-006"}',
                               "怎么查询话费", '/feedback_unhelpful{"entry_id": "billing-001"}', "转人工"],
    "web-clarify-then-pick": ["光猫一直闪红灯", '/choose_entry{"entry_id": "device-003"}', "谢谢"],
    "web-two-misses": ["火星上能打电话吗", "火星上怎么打电话"],
    "web-clarify-then-human": ["积分能换火车票吗", "转人工"],
    "web-miss-and-leave": ["火星上能打电话吗"],
}


class HashedChars:
    """A small deterministic encoder for the mining step (character 1–2-grams, hashed)."""

    def encode(self, texts):
        from sklearn.feature_extraction.text import HashingVectorizer

        v = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=4096, alternate_sign=False)
        return v.transform(texts).toarray()


def decision_counts() -> dict[str, float]:
    return {d: metrics.REGISTRY.get_sample_value("cs_bot_decisions_total", {"decision": d}) or 0.0
            for d in bot_protocol.DECISIONS}


def measure(url: str, tmp_path: Path, texts: dict[str, str]) -> dict[str, Any]:
    """Run every conversation through the gateway in this wording; return what is measured."""
    upgrade(url)
    sessions = session_factory(url)
    settings = Settings(var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    handoffs = HandoffService(sessions, settings, conversations)
    scripted = ScriptedBot(texts, handoffs)
    gateway = Gateway(conversations, handoffs, scripted)
    before = decision_counts()
    ids: dict[str, str] = {}

    async def talk() -> None:
        for customer, messages in CONVERSATIONS.items():
            for text in messages:
                reply = await gateway.handle("web", customer, text, ids.get(customer))
                ids[customer] = reply.conversation_id
                # The decision message never reaches the customer.
                assert all(set(r) <= {"text", "buttons"} for r in reply.replies), reply.replies

    asyncio.run(talk())
    who = {cid: customer for customer, cid in ids.items()}
    after = decision_counts()
    report = build_report(sessions, settings, Period.recent(settings.business_timezone))
    report.pop("generated_at")
    unanswered = unanswered_questions(sessions, scan=1000)
    for item in unanswered:
        item["conversation_id"] = who[item["conversation_id"]]
        item.pop("last_at")
    topics = mine(from_unanswered(unanswered), HashedChars(), min_cluster_size=1)
    with sessions() as session:
        records = [handoff_json(h) for h in session.scalars(select(Handoff).order_by(Handoff.id))]
        stored = [m.text for m in session.scalars(select(Message).where(Message.sender == "bot"))]
    summaries = {who[r["conversation_id"]]: (r["reason"], r["summary"]) for r in records}
    return {"report": report, "decisions": {d: after[d] - before[d] for d in after}, "unanswered": unanswered,
            "topics": topics, "summaries": summaries, "bot_texts": stored}


@pytest.fixture
def both(tmp_path) -> tuple[dict[str, Any], dict[str, Any]]:
    shipped = shipped_texts()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return (measure(f"sqlite:///{tmp_path / 'a' / 'db.sqlite3'}", tmp_path / "a", shipped),
            measure(f"sqlite:///{tmp_path / 'b' / 'db.sqlite3'}", tmp_path / "b", reworded(shipped)))


def test_every_reply_is_reworded():
    shipped = shipped_texts()
    new = reworded(shipped)
    assert {"CLARIFY_PROMPT", "NO_ANSWER_FIRST", "FEEDBACK_PROMPT", "utter_greet"} <= set(shipped)
    for name, text in shipped.items():
        assert new[name] != text and new[name][0] != text[0], name


def test_rewording_every_reply_changes_no_figure(both):
    shipped, reworded_ = both
    # The wording did change what was stored: no shipped reply text is left in the second run…
    assert set(shipped_texts().values()) & set(shipped["bot_texts"])
    assert not set(shipped_texts().values()) & set(reworded_["bot_texts"])
    # …and nothing measured moved.
    for what in ("report", "decisions", "unanswered", "topics", "summaries"):
        assert shipped[what] == reworded_[what], what


def test_the_measures_see_every_decision(both):
    """The figures compared are the real ones, not empty: each kind of decision is counted."""
    shipped, _ = both
    assert shipped["decisions"] == {"answer": 3, "clarify": 2, "no_answer": 2}
    totals = shipped["report"]["totals"]
    assert totals["bot_decisions"] == {"answer": 3, "clarify": 2, "no_answer": 2}
    kinds = {i["text"]: i["kinds"] for i in shipped["unanswered"]}
    assert kinds["光猫一直闪红灯"] == {"clarify": 1}
    assert kinds["火星上能打电话吗"] == {"no_answer": 2}
    assert kinds["积分能换火车票吗"] == {"clarify": 1, "handoff": 1}
    assert kinds["怎么查询话费"] == {"unhelpful": 1, "handoff": 1}
    # The open issue after an answer the customer found unhelpful is that question alone.
    reason, summary = shipped["summaries"]["web-answers-then-human"]
    assert reason == "user_request" and summary["background"] == "怎么查询话费"
    assert [t["id"] for t in summary["bot_tried"]] == ["billing-001", "device-003"]
