"""Fleet-wide token buckets per (seller, operation), one Redis round trip per decision.

``take()`` answers "go" (0.0) or "wait N seconds" without sleeping; the caller re-queues itself with
that countdown. The bucket refills at ``rate`` tokens per second up to ``burst``, as Amazon's own limiter
does (reference sp-api.md §3.1). Rates start from the published table (``limits.py``) and are replaced at
run time by what Amazon reports in ``x-amzn-RateLimit-Limit``. The clock is Redis's ``TIME``, so every
worker on every machine shares one clock. ``time_scale`` compresses time for the simulator.
"""

from __future__ import annotations

import redis

from integration.guard import keys, limits

RATE_CONFIG_TTL = 24 * 3600   # a learned rate is kept a day, then the published one applies until it is learned again

# KEYS[1] bucket hash, KEYS[2] learned config hash; ARGV: default rate, default burst, scale, cost, min idle ttl ms
_TAKE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cfg = redis.call('hmget', KEYS[2], 'rate', 'burst')
local rate = tonumber(cfg[1]) or tonumber(ARGV[1])
local burst = tonumber(cfg[2]) or tonumber(ARGV[2])
rate = rate * tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('hmget', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000.0)
  ts = now
end
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.ceil((cost - tokens) * 1000.0 / rate)
end
redis.call('hset', KEYS[1], 'tokens', tostring(tokens), 'ts', ts)
-- idle expiry: long enough for a drained bucket to refill fully (a vanished bucket simply starts full)
redis.call('pexpire', KEYS[1], math.max(tonumber(ARGV[5]), math.ceil(2000.0 * burst / rate)))
return wait
"""

_DRAIN = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('hset', KEYS[1], 'tokens', '0', 'ts', now)
redis.call('pexpire', KEYS[1], ARGV[1])
return 1
"""


MIN_IDLE_MS = 60_000


class RateLimiter:
    """``limiter.take("getOrder")`` -> 0.0 to go now, else seconds to wait (no token was taken)."""

    def __init__(self, r: redis.Redis, seller: str, *, time_scale: float = 1.0, table: dict | None = None):
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.r = r
        self.seller = seller
        self.time_scale = float(time_scale)
        self.table = table or limits.PUBLISHED
        self._take = r.register_script(_TAKE)
        self._drain = r.register_script(_DRAIN)

    def _defaults(self, operation: str) -> tuple[float, int]:
        return self.table.get(operation, limits.FALLBACK)

    def _idle_ttl_ms(self, operation: str) -> int:
        rate, burst = self.limits(operation)
        # Long enough for a drained bucket to refill fully; a vanished bucket simply starts full.
        return int(max(MIN_IDLE_MS / 1000.0, 2 * burst / (rate * self.time_scale)) * 1000)

    def take(self, operation: str, cost: int = 1) -> float:
        """One round trip: the script reads any learned limits itself and refills, takes or answers the wait."""
        rate, burst = self._defaults(operation)
        wait_ms = self._take(
            keys=[keys.rate(self.seller, operation), keys.rate_config(self.seller, operation)],
            args=[rate, burst, self.time_scale, cost, MIN_IDLE_MS],
        )
        return int(wait_ms) / 1000.0

    def limits(self, operation: str) -> tuple[float, int]:
        """The (rate, burst) in force: learned from Amazon if it told us, else published."""
        rate, burst = self._defaults(operation)
        cfg = self.r.hmget(keys.rate_config(self.seller, operation), "rate", "burst")
        return (float(cfg[0]) if cfg[0] else rate, int(float(cfg[1])) if cfg[1] else burst)

    def update(self, operation: str, rate: float, burst: int | None = None) -> None:
        """Apply a rate reported by Amazon (``x-amzn-RateLimit-Limit``), already in real-time units."""
        if rate <= 0:
            return
        mapping = {"rate": repr(float(rate) / self.time_scale)}
        if burst is not None and burst > 0:
            mapping["burst"] = str(int(burst))
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(keys.rate_config(self.seller, operation), mapping=mapping)
        pipe.expire(keys.rate_config(self.seller, operation), RATE_CONFIG_TTL)   # learned again from the next header
        pipe.execute()

    def update_from_header(self, operation: str, header: str | None) -> None:
        if not header:
            return
        try:
            self.update(operation, float(header.strip()))
        except ValueError:
            return

    def drain(self, operation: str) -> None:
        """Empty the bucket after a 429: Amazon says we are out of tokens, whatever we counted."""
        self._drain(keys=[keys.rate(self.seller, operation)], args=[self._idle_ttl_ms(operation)])

    def tokens(self, operation: str) -> float:
        """Tokens currently in the bucket (for ``slsync status``); a missing bucket is full."""
        raw = self.r.hget(keys.rate(self.seller, operation), "tokens")
        return float(raw) if raw is not None else float(self.limits(operation)[1])
