"""Circuit breaker per external system (``amazon``, ``sl``), shared by every process through Redis.

closed --(fail_max failures within window)--> open --(cool-down)--> half-open: exactly ONE trial call across
all processes (a ``SET NX`` probe, the fix pybreaker lacks, reference celery-reliability.md §4) --> closed on
success, open again on failure. A call while open raises ``Transient(retry_after=...)``. Throttling (429) is
not a failure of the system: it belongs to the rate limiter and is not counted.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager

import redis

from integration.errors import Transient
from integration.guard import keys

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# KEYS: state hash, probe key. ARGV: reset ms, probe token. -> {verdict, retry_after_ms}
_BEFORE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('hmget', KEYS[1], 'state', 'opened_at')
local state = st[1] or 'closed'
if state == 'closed' then return {'go', 0} end
local opened = tonumber(st[2]) or 0
local reset = tonumber(ARGV[1])
if state == 'open' and now - opened < reset then
  return {'open', reset - (now - opened)}
end
if redis.call('set', KEYS[2], ARGV[2], 'NX', 'PX', reset) then
  redis.call('hset', KEYS[1], 'state', 'half_open')
  return {'trial', 0}
end
return {'open', math.max(redis.call('pttl', KEYS[2]), 1)}
"""
# KEYS: state hash, failures zset, probe. ARGV: window ms, fail_max, probe token (or '')
_FAILURE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('hget', KEYS[1], 'state') or 'closed'
if ARGV[3] ~= '' and redis.call('get', KEYS[3]) == ARGV[3] then
  redis.call('del', KEYS[3])
  redis.call('hset', KEYS[1], 'state', 'open', 'opened_at', now)
  return 'open'
end
if state ~= 'closed' then return state end
redis.call('zadd', KEYS[2], now, now .. ':' .. math.random())
redis.call('zremrangebyscore', KEYS[2], '-inf', now - tonumber(ARGV[1]))
redis.call('pexpire', KEYS[2], ARGV[1])
if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[2]) then
  redis.call('hset', KEYS[1], 'state', 'open', 'opened_at', now)
  redis.call('del', KEYS[2])
  return 'open'
end
return 'closed'
"""
# KEYS: state hash, failures zset, probe. ARGV: probe token (or '')
_SUCCESS = """
if ARGV[1] ~= '' and redis.call('get', KEYS[3]) == ARGV[1] then
  redis.call('del', KEYS[3], KEYS[2])
  redis.call('hset', KEYS[1], 'state', 'closed', 'opened_at', 0)
  return 'closed'
end
return redis.call('hget', KEYS[1], 'state') or 'closed'
"""


class CircuitOpen(Transient):
    """The system is considered down; retry after the cool-down."""


def counts_as_failure(exc: BaseException) -> bool:
    """Transient failures count, except throttling; business errors (NeedsReview, Permanent) do not."""
    if isinstance(exc, CircuitOpen):
        return False
    if isinstance(exc, Transient):
        return exc.details.get("status") != 429 and not exc.details.get("throttled")
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


class Breaker:
    def __init__(self, r: redis.Redis, system: str, *, fail_max: int = 5, window: float = 60.0, reset_timeout: float = 30.0):
        self.r, self.system = r, system
        self.fail_max, self.window_ms, self.reset_ms = fail_max, int(window * 1000), int(reset_timeout * 1000)
        self._keys = [keys.breaker(system), keys.breaker_failures(system), keys.breaker_probe(system)]
        self._before = r.register_script(_BEFORE)
        self._failure = r.register_script(_FAILURE)
        self._success = r.register_script(_SUCCESS)

    def before_call(self) -> str:
        """Returns '' for a normal call or a probe token for the one half-open trial; raises CircuitOpen."""
        token = secrets.token_hex(8)
        verdict, retry_ms = self._before(keys=[self._keys[0], self._keys[2]], args=[self.reset_ms, token])
        if verdict == "open":
            raise CircuitOpen(f"{self.system} circuit is open", retry_after=int(retry_ms) / 1000.0,
                              details={"system": self.system})
        return token if verdict == "trial" else ""

    def record_failure(self, probe: str = "") -> str:
        return self._failure(keys=self._keys, args=[self.window_ms, self.fail_max, probe])

    def record_success(self, probe: str = "") -> str:
        return self._success(keys=self._keys, args=[probe])

    @contextmanager
    def guard(self):
        """``with breaker.guard(): call()`` — checks, then records the outcome."""
        probe = self.before_call()
        try:
            yield probe
        except BaseException as exc:
            if counts_as_failure(exc):
                self.record_failure(probe)
            elif probe:
                self.record_success(probe)  # a business error still proves the system answers
            raise
        else:
            self.record_success(probe)

    def state(self) -> str:
        return self.r.hget(self._keys[0], "state") or CLOSED

    def reset(self) -> None:
        self.r.delete(*self._keys)
