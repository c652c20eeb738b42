"""Suggestions for the whole conversation: stage from what the agent sent, a closing once the
customer confirms, the KB answer for an FAQ, and a ranker that learns from agents' choices."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from assist_api.assist.config import load_config
from assist_api.assist.context import Turn, confirms, cue_stages
from assist_api.assist.learning import Impression, fit
from assist_api.assist.ranker import RankerModel, cold_model
from assist_api.assist.suggest import KB_VOICE, Suggester
from assist_api.assist.templates import ReplyTemplate
from config.settings import Settings
from kb.search.decision import Decision
from kb.search.engine import SearchHit, SearchResponse


@pytest.fixture(scope="module")
def templates() -> list[ReplyTemplate]:
    rows = yaml.safe_load(Settings().assist_templates_file.read_text("utf-8"))
    return [ReplyTemplate(**row, version=1, updated_by="seed") for row in rows]


def labels(category: str = "broadband", emotion: str = "neutral", confidence: float = 0.9) -> dict[str, Any]:
    return {"category": {"label": category, "confidence": confidence},
            "emotion": {"label": emotion, "confidence": confidence}}


def suggest(suggester: Suggester, templates: list[ReplyTemplate], conversation: list[dict[str, str]],
            classification: dict[str, Any], **kwargs: Any) -> list:
    return suggester.suggest("", templates, classification, {"agent_name": "小李"}, conversation=conversation,
                             **kwargs)


CUSTOMER_FIRST = [
    {"sender": "bot", "text": "您好，我是星联智能助手小星，请问有什么可以帮您？"},
    {"sender": "customer", "text": "我家宽带从昨天开始断网了，光猫红灯一直闪"},
    {"sender": "bot", "text": "正在为您转接人工客服，请稍候。"},
]


def test_an_opening_first_before_the_agent_wrote_and_never_again_after(templates):
    suggester = Suggester(load_config())
    before = suggest(suggester, templates, CUSTOMER_FIRST, labels(), k=5)
    assert before[0].stage == "opening"
    greeted = [*CUSTOMER_FIRST, {"sender": "agent", "text": "您好，我是客服小李，很高兴为您服务。"},
               {"sender": "customer", "text": "光猫上LOS灯是红的"}]
    after = suggest(suggester, templates, greeted, labels(), k=10)
    assert after and all(s.stage != "opening" for s in after)
    # An inserted greeting template counts as a greeting too, edited or not.
    greeting = templates[0].text.format(customer_name="", agent_name="小李")
    inserted = [*CUSTOMER_FIRST, {"sender": "agent", "text": greeting}]
    assert all(s.stage != "opening" for s in suggest(suggester, templates, inserted, labels(), k=10))


def test_a_closing_first_once_the_customer_says_thanks_it_is_solved(templates):
    conversation = [*CUSTOMER_FIRST,
                    {"sender": "agent", "text": "您好，我是客服小李。请您把光猫断电30秒后重启一下试试。"},
                    {"sender": "customer", "text": "谢谢，解决了"}]
    out = suggest(Suggester(load_config()), templates, conversation, labels(emotion="positive"), k=3)
    assert out[0].stage == "closing"


@pytest.mark.parametrize(("text", "after_question", "settled"), [
    ("谢谢，解决了", False, True),
    ("好的没问题", False, True),
    ("嗯", False, True),
    ("嗯", True, False),  # answers the agent's question, settles nothing
    ("好的，那我还想问一下流量包怎么买？", False, False),
    ("重启了还是不行", False, False),
    ("在巴黎 手机突然不能用了", False, False),
])
def test_what_counts_as_the_customer_confirming(text, after_question, settled):
    assert confirms(text, after_question) is settled


def test_a_greeting_with_an_answer_is_an_opening_and_a_solution():
    assert cue_stages("您好，我是客服小陈。APN设置为“xlnet”后重启手机再试试。") == ["opening", "solution"]
    assert cue_stages("您好，我是客服小王，请问有什么可以帮您？") == ["opening"]


class FakeKB:
    def search(self, query: str, top_k: int = 5) -> SearchResponse:
        hit = SearchHit(id="billing-001", question="怎么查询话费余额？", score=5.0, confidence=0.93,
                        category="billing", answer="发送CXYE到10050即可查询余额。")
        return SearchResponse(query, Decision.answer, [hit], 1, 1.0)


def test_the_kb_answer_is_offered_in_the_agents_voice_for_an_faq(templates):
    conversation = [{"sender": "customer", "text": "人工"},
                    {"sender": "agent", "text": "您好，我是客服小李，请问有什么可以帮您？"},
                    {"sender": "customer", "text": "怎么查话费余额"}]
    out = suggest(Suggester(load_config()), templates, conversation, labels("billing"), k=3, engine=FakeKB())
    kb = [s for s in out if s.source == "kb"]
    assert kb and kb[0].id == "billing-001"
    assert kb[0].text == KB_VOICE.format(question="怎么查询话费余额", answer="发送CXYE到10050即可查询余额。")
    assert kb[0].to_json()["kb_id"] == "billing-001"


def test_retraining_on_agents_who_always_pick_one_template_moves_it_up(templates):
    """In confirmations about slow broadband agents always take conf-hold-broadband-04 (a hold
    while they test the line) over what the cold ranker puts first."""
    situation = [
        "家里宽带特别慢，看视频一直卡", "宽带晚上总掉线，白天还行", "网速只有几兆，办的是300兆",
        "宽带一会儿能上一会儿不能上", "电脑连网线也很慢", "宽带测速很低，打游戏延迟高",
    ]

    def conversation(text: str) -> list[Turn]:
        return [Turn("agent", "您好，我是客服小李，很高兴为您服务。"), Turn("customer", text)]

    def classify(text: str, history: Any = ()) -> dict[str, Any]:
        return labels("broadband")

    target = "template:conf-hold-broadband-04"
    suggester = Suggester(load_config(), cold_model())
    probe = conversation("宽带老是很慢，网页都打不开")

    def rank_of(model: RankerModel) -> int:
        suggester.ranker = model
        ranked = suggester.rank(suggester.read(probe, templates), templates, classify(""))
        order = [ranked.candidates[i].key for i in ranked.scores.argsort()[::-1]]
        return order.index(target)

    cold_rank = rank_of(cold_model())
    assert cold_rank > 0
    impressions = []
    for text in situation * 3:
        suggester.ranker = cold_model()
        shown = [f"{s.source}:{s.id}" for s in suggester.suggest(
            "", templates, classify(text), {}, conversation=conversation(text))]
        impressions.append(Impression(conversation(text), shown, {target: 1.0}))
    model = fit(impressions, Suggester(load_config()), templates, classify)
    assert model.items[target].accepted == len(impressions)
    learned = RankerModel.from_json(model.to_json())  # as the service loads it from its file
    assert rank_of(learned) == 0 < cold_rank
