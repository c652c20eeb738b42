"""Redis goes away under the two-replica topology: Rasa cannot take its conversation locks and
the rate limiter cannot count, yet no customer gets an error page or silence. Each message gets
the apology with 转人工, and once Redis is back the bot answers again without any restart."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from gateway.handoffs import replies

pytestmark = pytest.mark.e2e

APOLOGY = replies.bot_unavailable()["text"]


def send(base_url: str, customer: str, text: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/channels/web/messages", json={"customer_id": customer, "text": text},
                      timeout=60)


def texts(response: httpx.Response) -> str:
    return "\n".join(r["text"] for r in response.json()["replies"])


def test_customers_get_the_apology_while_redis_is_away_and_answers_once_it_is_back(cluster):
    question = "话费余额怎么查"
    assert "余额" in texts(send(cluster.gateway_url, f"web-{uuid.uuid4().hex[:8]}", question))

    cluster.redis.kill()
    try:
        during = []
        for _ in range(4):  # through the balancer: both gateway replicas
            started = time.monotonic()
            response = send(cluster.gateway_url, f"web-{uuid.uuid4().hex[:8]}", question)
            during.append((response, time.monotonic() - started))
    finally:
        cluster.redis.start()

    for response, took in during:
        assert response.status_code == 200, response.text  # the limiter lets customers through
        assert APOLOGY in texts(response), response.json()
        assert any(b["title"] == "转人工" for r in response.json()["replies"] for b in (r.get("buttons") or []))
        assert took < 15, took  # the customer is not left waiting for the full Rasa timeout

    # Back to normal without restarting anything: Rasa and the gateways reconnect by themselves.
    deadline = time.monotonic() + 20
    while True:
        answer = send(cluster.gateway_url, f"web-{uuid.uuid4().hex[:8]}", question)
        if answer.status_code == 200 and "余额" in texts(answer) and APOLOGY not in texts(answer):
            break
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)
