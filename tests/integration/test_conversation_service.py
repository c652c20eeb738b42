"""A customer's first two messages arriving at the same moment (a double click; two gateway
replicas) land in one conversation, never two that could each escalate. SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from db.engine import session_factory
from db.migrate import upgrade
from gateway.conversations.service import ConversationService


def test_simultaneous_first_messages_open_one_conversation(db_url):
    upgrade(db_url)
    for round_ in range(5):
        # Separate services, as separate replicas would have; each thread its own.
        services = [ConversationService(session_factory(db_url)) for _ in range(4)]
        start = threading.Barrier(len(services))
        ids: list[str] = []

        def first_message(service: ConversationService, start: threading.Barrier, ids: list[str],
                          customer: str) -> None:
            start.wait()
            ids.append(service.receive("web", customer, None, "转人工").id)

        threads = [threading.Thread(target=first_message, args=(s, start, ids, f"double-{round_}")) for s in services]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ids) == 4 and len(set(ids)) == 1, ids
        assert len(services[0].messages(ids[0])) == 4  # every message kept
