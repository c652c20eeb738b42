"""Token buckets in Redis, shared by every gateway replica: the same all-or-none semantics as
the in-memory `TokenBucketLimiter`, run atomically in Redis by one Lua script on Redis's own
clock (so replicas with drifting clocks agree)."""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)

# KEYS: bucket keys; ARGV: burst_1, per_s_1, burst_2, per_s_2, ...
# Returns "0" when a token was taken from every bucket, else the seconds to wait (as a string:
# Redis would truncate a Lua number to an integer).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels = {}
local wait = 0
for i = 1, #KEYS do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local v = redis.call('HMGET', KEYS[i], 'tokens', 'stamp')
  local tokens = tonumber(v[1]) or burst
  local stamp = tonumber(v[2]) or now
  local level = math.min(burst, tokens + math.max(0, now - stamp) * rate)
  levels[i] = level
  if level < 1 then
    local w = 1e9
    if rate > 0 then w = (1 - level) / rate end
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, #KEYS do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i] - 1), 'stamp', tostring(now))
  local ttl = 86400
  if rate > 0 then ttl = math.ceil(burst / rate) + 1 end
  redis.call('EXPIRE', KEYS[i], ttl)
end
return "0"
"""


class RedisTokenBucketLimiter:
    """Buckets expire once they would be full again, so Redis holds only active clients."""

    def __init__(self, url: str, prefix: str = "cs:rate:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_ACQUIRE)
        self._prefix = prefix

    def acquire(self, limits: list[tuple[str, float, float]]) -> float:
        if not limits:
            return 0.0
        keys = [self._prefix + key for key, _, _ in limits]
        args: list[float] = []
        for _, burst, per_s in limits:
            args += [burst, per_s]
        try:
            return float(self._script(keys=keys, args=args))
        except redis.RedisError as exc:
            # Fail open: a Redis outage must not turn customers away; it is logged loudly.
            log.warning("rate limiter: Redis unavailable, request allowed: %s", exc)
            return 0.0
