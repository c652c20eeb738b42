"""Rate limits shared through Redis (assist_api/security/redis_buckets.py): two gateway
replicas draw from the same buckets, all-or-none across the customer and IP buckets, and a
Redis outage lets customers through instead of turning them away."""

from __future__ import annotations

import os
import shutil

import pytest

from assist_api.security.redis_buckets import RedisTokenBucketLimiter


@pytest.fixture(scope="module")
def redis_url():
    if not shutil.which("redis-server"):
        if os.environ.get("CS_REQUIRE_CLUSTER"):
            pytest.fail("redis-server is required (CS_REQUIRE_CLUSTER) but missing")
        pytest.skip("redis-server not installed")
    from stack.redis_server import RedisServer

    server = RedisServer().start()
    yield server.url
    server.stop()


def test_two_replicas_share_one_customer_bucket(redis_url):
    a, b = RedisTokenBucketLimiter(redis_url), RedisTokenBucketLimiter(redis_url)
    limits = [("customer:shared-1", 5, 0.001)]
    taken = [(a if i % 2 else b).acquire(limits) for i in range(8)]
    assert taken[:5] == [0.0] * 5
    assert all(wait > 0 for wait in taken[5:])  # the sixth is refused, whichever replica asks
    assert taken[5] == pytest.approx(1 / 0.001, rel=0.05)  # the wait until one token is back


def test_a_refusal_takes_nothing_from_the_other_bucket(redis_url):
    limiter = RedisTokenBucketLimiter(redis_url)
    ip, empty = ("ip:10.0.0.9", 3, 0.001), ("customer:empty-1", 1, 0.001)
    assert limiter.acquire([ip, empty]) == 0.0
    assert limiter.acquire([ip, empty]) > 0  # customer bucket empty: the IP keeps its token
    assert limiter.acquire([ip]) == 0.0
    assert limiter.acquire([ip]) == 0.0
    assert limiter.acquire([ip]) > 0  # 3 tokens: exactly two were taken before


def test_redis_down_lets_customers_through():
    limiter = RedisTokenBucketLimiter("redis://127.0.0.1:1/0")  # nothing listens there
    assert limiter.acquire([("customer:x", 1, 0.001)]) == 0.0
    assert limiter.acquire([("customer:x", 1, 0.001)]) == 0.0
