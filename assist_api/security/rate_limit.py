"""Rate limits on the customer endpoints: token buckets per customer and per client IP.

With `redis_url` set the buckets live in Redis, one Lua script per request, so every gateway
replica behind the balancer counts against the same buckets. Without it they live in this
process's memory (the one-machine default).

The routes use it through `assist_api.deps.RateLimited` (a dependency, so it runs before the
handler stores anything): over the rate, 429 with a Chinese `detail` and a `Retry-After` header.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import HTTPException, Request

from config.settings import Settings

REFUSED = "请求过于频繁，请稍后再试。"


class TokenBucketLimiter:
    """Token buckets keyed by strings; each key holds up to `burst` tokens, refilled at `per_s`
    tokens a second. Least recently used keys beyond `max_keys` are forgotten (a forgotten key
    starts again with a full bucket, which only errs on the generous side)."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._clock = clock

    def _level(self, key: str, burst: float, per_s: float, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (burst, now))
        return min(burst, tokens + (now - stamp) * per_s)

    def acquire(self, limits: list[tuple[str, float, float]]) -> float:
        """Take one token from every (key, burst, per_s) bucket, all or none. Returns 0.0 when
        taken, else the seconds until every bucket has a token again (nothing is taken)."""
        with self._lock:
            now = self._clock()
            levels = [(key, burst, self._level(key, burst, per_s, now), per_s) for key, burst, per_s in limits]
            wait = max((0.0 if level >= 1 else (1 - level) / per_s if per_s > 0 else math.inf)
                       for _, _, level, per_s in levels) if levels else 0.0
            if wait > 0:
                return wait
            for key, _, level, _ in levels:
                self._buckets[key] = (level - 1, now)
                self._buckets.move_to_end(key)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return 0.0


class Limiter(Protocol):
    """Token buckets in this process (TokenBucketLimiter) or in Redis (RedisTokenBucketLimiter)."""

    def acquire(self, limits: list[tuple[str, float, float]]) -> float: ...


_CREATE_LOCK = threading.Lock()


def limiter_for(app: Any) -> Limiter:
    """The app's limiter (one per app, created on first use)."""
    limiter: Limiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        with _CREATE_LOCK:
            limiter = getattr(app.state, "rate_limiter", None)
            if limiter is None:
                settings = app.state.settings
                if settings.redis_url:
                    from assist_api.security.redis_buckets import RedisTokenBucketLimiter

                    limiter = RedisTokenBucketLimiter(settings.redis_url)
                else:
                    limiter = TokenBucketLimiter(settings.rate_limit_max_keys)
                app.state.rate_limiter = limiter
    return limiter


def client_ip(request: Request, settings: Settings) -> str:
    if settings.rate_limit_trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:  # the proxy appends the address it saw: the last entry is the one to trust
            return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class RateGate:
    """One request's buckets: its client IP's and, when named, a customer's."""

    settings: Settings
    limiter: Limiter
    ip_address: str

    def check(self, customer: str | None = None, ip: bool = True) -> None:
        """Refuse with 429 when this client IP (if `ip`) or this customer is over its rate; both
        buckets are charged together or not at all."""
        settings = self.settings
        if not settings.rate_limit_enabled:
            return
        limits: list[tuple[str, float, float]] = []
        if ip:
            limits.append((f"ip:{self.ip_address}", settings.rate_limit_ip_burst, settings.rate_limit_ip_per_s))
        if customer is not None:
            limits.append((f"customer:{customer}", settings.rate_limit_customer_burst,
                           settings.rate_limit_customer_per_s))
        wait = self.limiter.acquire(limits)
        if wait > 0:
            retry = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
            raise HTTPException(429, REFUSED, headers={"Retry-After": str(retry)})


# For the routes' OpenAPI `responses`.
RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"description": f"over the per-customer or per-IP rate ({REFUSED}); see Retry-After"}}
