"""Two replicas of everything behind nginx, on PostgreSQL and Redis: a conversation continues
whichever replicas serve it, a publish reaches every replica's index within 5 s, and the
customer limits are counted across replicas."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from kb.store import KBStore

pytestmark = pytest.mark.e2e


def say(base_url: str, customer: str, text: str, conversation: str | None = None) -> dict:
    body = {"customer_id": customer, "text": text, **({"conversation_id": conversation} if conversation else {})}
    response = httpx.post(f"{base_url}/api/channels/web/messages", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_conversation_continues_across_gateway_and_rasa_replicas(cluster):
    who = f"web-{uuid.uuid4().hex[:8]}"
    # Two misses in a row hand off: the count lives in Rasa's tracker, which both Rasa replicas
    # read from PostgreSQL; each message enters through a different gateway replica.
    first = say(cluster.replica_url("gateway-1"), who, "帮我订一张明天去北京的机票")
    assert first["state"] == "bot"
    second = say(cluster.replica_url("gateway-2"), who, "附近有什么好吃的餐厅推荐", first["conversation_id"])
    assert second["state"] == "queued", second
    assert second["conversation_id"] == first["conversation_id"]


def test_both_gateway_replicas_take_traffic_through_the_balancer(cluster):
    for name in cluster.names("gateway"):
        assert httpx.get(f"{cluster.replica_url(name)}/health", timeout=5).status_code == 200
    seen = set()
    for _ in range(6):  # round robin: three each
        response = httpx.get(f"{cluster.gateway_url}/metrics", timeout=5)
        assert response.status_code == 200
    # Each gateway counts the requests it served; both must have served some of the six.
    for name in cluster.names("gateway"):
        body = httpx.get(f"{cluster.replica_url(name)}/metrics", timeout=5).text
        served = sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                     if line.startswith("cs_http_requests_total{") and 'route="/metrics"' in line)
        if served >= 2:  # its own direct scrape counts once
            seen.add(name)
    assert seen == set(cluster.names("gateway"))


def test_a_publish_reaches_every_replicas_index_within_5_seconds(cluster):
    store = KBStore(cluster.database_url)
    entry = f"cluster-{uuid.uuid4().hex[:6]}"
    store.create(entry, {"question": "星联宇航套餐怎么办理", "answer": "星联宇航套餐可在营业厅办理。",
                         "category": "plan"}, actor="editor-test", status="published")
    published_at, revision = time.monotonic(), store.revision()
    pending = {f"{cluster.replica_url(n)}/health" for n in cluster.names("gateway")}
    pending |= {f"{cluster.replica_url(n)}/health/index" for n in cluster.names("actions")}
    took = {}
    while pending and time.monotonic() - published_at < 10:
        for url in list(pending):
            if httpx.get(url, timeout=5).json()["index_revision"] >= revision:
                took[url] = time.monotonic() - published_at
                pending.discard(url)
        time.sleep(0.1)
    assert not pending, f"replicas still on an older index after 10 s: {pending}"
    assert max(took.values()) <= 5.0, took
    # And the bot answers from it, whichever action server runs the search.
    for _ in range(2):
        reply = say(cluster.gateway_url, f"web-{uuid.uuid4().hex[:8]}", "星联宇航套餐怎么办理")
        assert "营业厅办理" in "\n".join(r["text"] for r in reply["replies"])


def test_the_per_customer_limit_is_shared_by_the_replicas(cluster):
    """The bucket is in Redis: bursting through two replicas does not double the allowance."""
    from config.settings import Settings

    burst = Settings().rate_limit_customer_burst
    who = f"burst-{uuid.uuid4().hex[:8]}"
    statuses = []
    with httpx.Client(timeout=30) as client:
        for i in range(burst + 20):
            replica = cluster.replica_url(f"gateway-{i % 2 + 1}")
            # An unknown conversation id is refused after the rate check (404), so nothing is
            # stored and the bot is not run: only the limiter is exercised.
            statuses.append(client.post(f"{replica}/api/channels/web/messages",
                                        json={"customer_id": who, "text": "你好",
                                              "conversation_id": "0" * 32}).status_code)
    assert statuses.count(429) >= 10, statuses
    assert statuses.count(404) <= burst + 5
