"""The unanswered-message sweep (gateway/conversations/recovery.py): a customer message left
without an answer (its gateway died mid-request) gets the apology + 转人工 offer, exactly once,
and nothing that was answered or handed off is touched. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from common.observability import metrics
from db.base import utcnow
from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.models import Conversation, ConversationState
from gateway.conversations.recovery import UnansweredRecovery
from gateway.conversations.service import ConversationService
from gateway.handoffs import replies


@pytest.fixture
def sessions(db_url):
    upgrade(db_url)
    return session_factory(db_url)


def age(sessions, conversation_id: str, seconds: float) -> None:
    with sessions.begin() as session:
        session.execute(update(Conversation).where(Conversation.id == conversation_id)
                        .values(updated_at=utcnow() - timedelta(seconds=seconds)))


def senders(conversations: ConversationService, conversation_id: str) -> list[str]:
    return [m.sender for m in conversations.messages(conversation_id)]


def test_a_message_left_without_an_answer_gets_the_apology_once(sessions):
    conversations = ConversationService(sessions)
    conv = conversations.receive("web", "c-1", None, "宽带老是掉线怎么办")  # its gateway died here
    recovery = UnansweredRecovery(sessions, after_s=30)
    assert recovery.sweep() == 0  # too fresh: its gateway may still be answering
    age(sessions, conv.id, 60)
    before = metrics.BOT_UNAVAILABLE.labels("recovered")._value.get()
    assert recovery.sweep() == 1
    assert metrics.BOT_UNAVAILABLE.labels("recovered")._value.get() == before + 1  # operators see it
    messages = conversations.messages(conv.id)
    assert [m.sender for m in messages] == ["customer", "bot"]
    assert messages[-1].text == replies.bot_unavailable()["text"]
    assert messages[-1].buttons == replies.bot_unavailable()["buttons"]
    age(sessions, conv.id, 60)
    assert recovery.sweep() == 0  # answered now


def test_answered_and_handed_off_conversations_are_left_alone(sessions):
    conversations = ConversationService(sessions)
    answered = conversations.receive("web", "c-2", None, "话费余额怎么查")
    conversations.reply(answered.id, [{"text": "可通过营业厅App查询。"}])
    handed = conversations.receive("web", "c-3", None, "转人工")
    with sessions.begin() as session:
        conversations.set_state(session, handed.id, ConversationState.queued)
    for cid in (answered.id, handed.id):
        age(sessions, cid, 60)
    assert UnansweredRecovery(sessions, after_s=30).sweep() == 0
    assert senders(conversations, answered.id) == ["customer", "bot"]
    assert senders(conversations, handed.id) == ["customer"]  # the agent's queue has it


def test_two_replicas_sweeping_at_once_answer_once(sessions):
    conversations = ConversationService(sessions)
    convs = [conversations.receive("web", f"c-r{i}", None, "你好") for i in range(8)]
    for conv in convs:
        age(sessions, conv.id, 60)
    replicas = [UnansweredRecovery(sessions, after_s=30) for _ in range(2)]
    # Both see the same candidates before either answers: the compare-and-set decides.
    seen = [r.candidates() for r in replicas]
    counts = [0, 0]

    def run(i):
        counts[i] = sum(replicas[i].answer(cid, at) for cid, at in seen[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == len(convs)
    for conv in convs:
        assert senders(conversations, conv.id) == ["customer", "bot"]
