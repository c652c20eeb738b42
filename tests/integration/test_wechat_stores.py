"""The WeChat channel's durable stores on SQLite and PostgreSQL: the inbox's dedup, the outbox's
retries and the nonce guard, as replicas share them."""

from __future__ import annotations

import pytest

from db.engine import session_factory
from db.migrate import upgrade
from gateway.channels.wechat.client import DeliveryError
from gateway.channels.wechat.inbox import Inbox
from gateway.channels.wechat.outbox import Outbox
from gateway.channels.wechat.security import NonceGuard, Refused


def test_dedup_nonces_and_outbox_are_durable(db_url):
    upgrade(db_url)
    sessions = session_factory(db_url)
    inbox = Inbox(sessions)
    assert inbox.claim("msg:1", "o1", "text") is True
    assert inbox.claim("msg:1", "o1", "text") is False  # a retry, even from another replica
    assert inbox.state("msg:1").status == "processing"
    inbox.finish("msg:1", "answered", None, "答复", "custom")
    assert (inbox.state("msg:1").reply, inbox.state("msg:1").delivery) == ("答复", "custom")

    outbox = Outbox(sessions, attempts=2, backoff_s=0.0)
    [row] = outbox.claim_due()
    assert (row.openid, row.text, row.source) == ("o1", "答复", "bot")
    assert outbox.claim_due() == []  # being sent: nobody else takes it
    assert outbox.failed_attempt(row.id, DeliveryError("HTTP 502", permanent=False)) == "pending"
    [again] = outbox.claim_due()
    assert outbox.failed_attempt(again.id, DeliveryError("HTTP 502", permanent=False)) == "failed"
    [failed] = outbox.list(status="failed")
    assert failed.attempts == 2 and failed.last_error == "HTTP 502"

    guard = NonceGuard(sessions, 300)
    guard.admit("n1", 1000, "hash-a")
    guard.admit("n1", 1000, "hash-a")  # the identical request again
    with pytest.raises(Refused):
        guard.admit("n1", 1000, "hash-b")
    with pytest.raises(Refused):
        guard.admit("n1", 1001, "hash-a")
