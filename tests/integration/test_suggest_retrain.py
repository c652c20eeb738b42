"""Retraining the suggestion ranker from stored suggestion events (issue 17): impressions read
back with the conversation as it stood when they were shown, a template agents keep choosing
moves to the top, and the service's ranker file follows the retrained model."""

from __future__ import annotations

from typing import Any

from assist_api.assist.config import load_config
from assist_api.assist.context import Turn
from assist_api.assist.feedback_service import EventIn, FeedbackService
from assist_api.assist.learning import fit, read_impressions
from assist_api.assist.ranker import RankerFile
from assist_api.assist.suggest import Suggester
from assist_api.assist.templates import TemplateStore
from config.settings import Settings
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.service import ConversationService
from gateway.handoffs.models import HandoffReason
from gateway.handoffs.service import HandoffService
from tests.support.gateway import customer

TARGET = "conf-hold-broadband-04"
SLOW = ["家里宽带特别慢，看视频一直卡", "宽带晚上总掉线，白天还行", "网速只有几兆，办的是300兆的",
        "宽带一会儿能上一会儿不能上", "电脑连网线也很慢"]


def labels(text: str, history: Any = ()) -> dict[str, Any]:
    return {"category": {"label": "broadband", "confidence": 0.9}, "emotion": {"label": "neutral", "confidence": 0.9}}


def test_retrain_reads_events_back_and_moves_the_chosen_template_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    upgrade(url)
    sessions = session_factory(url)
    settings = Settings(database_url=url, var_dir=tmp_path / "var", business_open="00:00", business_close="24:00")
    conversations = ConversationService(sessions)
    handoffs = HandoffService(sessions, settings, conversations)
    store = TemplateStore(sessions)
    store.seed(settings.assist_templates_file)
    templates = store.list()
    feedback = FeedbackService(sessions, handoffs.levels)
    for n, text in enumerate(SLOW * 2):
        conv = conversations.resolve("web", customer(), None)
        conversations.add_message(conv.id, "customer", text)
        handoff = handoffs.create(conv.id, HandoffReason.user_request).handoff
        handoffs.transition(handoff.id, "claim", "alice")
        conversations.add_message(conv.id, "agent", "您好，我是客服小李，很高兴为您服务。", agent_id="alice")
        shown = ["sol-broadband-slow-03", "conf-broadband-slow-02", "sooth-outage-03"]
        events = [EventIn(f"imp-{n}", "template", item, rank, "shown") for rank, item in enumerate(shown, 1)]
        events += [EventIn(f"imp-{n}", "template", item, rank, "ignored") for rank, item in enumerate(shown, 1)]
        # The agent typed its reply from a template it found in the library (rank 0: not shown).
        events.append(EventIn(f"imp-{n}", "template", TARGET, 0, "sent_edited", edit_distance=3))
        feedback.record_events(handoff.id, "alice", events)
        conversations.add_message(conv.id, "agent", "请稍等，我远程检测一下您的宽带。", agent_id="alice")

    impressions = read_impressions(sessions)
    assert len(impressions) == 10
    first = impressions[0]
    assert first.shown == ["template:sol-broadband-slow-03", "template:conf-broadband-slow-02",
                           "template:sooth-outage-03"]
    assert first.accepted == {f"template:{TARGET}": 0.8}
    # The conversation as it stood when the list was shown: not the agent's later reply.
    assert [t.sender for t in first.turns] == ["customer", "agent"]

    model = fit(impressions, Suggester(load_config()), templates, labels)
    path = settings.resolved_suggest_ranker_file
    model.save(path)
    service_ranker = RankerFile(path, check_s=0)
    assert service_ranker.get().info["impressions"] == 10

    probe = [Turn("agent", "您好，我是客服小李，很高兴为您服务。"), Turn("customer", "宽带老是很慢，网页都打不开")]
    cold = Suggester(load_config()).suggest("", templates, labels(""), {}, conversation=probe)
    learned = Suggester(load_config(), service_ranker).suggest("", templates, labels(""), {}, conversation=probe)
    assert cold[0].id != TARGET
    assert learned[0].id == TARGET
