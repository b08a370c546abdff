"""Circuit breakers shared by every process through Redis: one per Amazon operation family, one for the SL database.

A breaker opens on a failure *rate*, not a count: when, over the last ``window`` seconds, at least ``min_calls``
calls were made and at least ``failure_rate`` of them failed (defaults: 50% of >= 20 calls in 60 s). So a steady
10% of 5xx slows a flow (its retries) but never stops it, while a system that is really down is left alone.

closed --(rate reached)--> open --(cool-down)--> half-open: exactly ONE trial call across all processes (a ``SET NX``
probe, the fix pybreaker lacks) --> closed on success, open again on failure. A call while open raises
``CircuitOpen``, a ``Transient`` with ``retry_after`` (the task re-queues itself; nothing hammers the system).
Throttling (429) is not a failure of the system: it belongs to the rate limiter and is not counted.

Families (``family_of``): ``orders`` (getOrder, searchOrders, ...), ``shipments`` (confirmShipment), ``reports``,
``feeds``, ``listings``, ``notifications``, ``fba``, ``lwa`` (token calls), ``other``; so a getOrder outage never
stops confirmShipment. ``sl`` guards the SL database (``integration.sl.db.Database.run``).

Round trips: a closed verdict is kept in-process for ``recheck`` seconds; a success while closed costs nothing at
once (it is counted in-process and added to the window with the next check or failure, in the same script call);
only a failure, a check every ``recheck`` seconds, and the half-open trial talk to Redis.
The window is a hash of per-bucket counters (``c:<bucket>`` calls, ``f:<bucket>`` failures; 12 buckets a window).

Opening alerts once (``integration.alerts``, key ``breaker:<name>``); the trial that closes it resolves the alert.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager

import redis

from integration.errors import Transient
from integration.guard import keys

log = logging.getLogger("slsync.breaker")
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
BUCKETS = 12                 # a window is counted in this many buckets
STATE_TTL_MS = 86_400_000    # an open breaker nobody asks about for a day is forgotten (= closed)

FAMILIES: dict[str, tuple[str, ...]] = {
    "orders": ("searchOrders", "getOrder", "getOrders", "getOrderItems", "getOrderAddress", "getOrderBuyerInfo"),
    "shipments": ("confirmShipment", "updateShipmentStatus"),
    "reports": ("createReport", "getReports", "getReport", "getReportDocument", "cancelReport"),
    "feeds": ("createFeedDocument", "createFeed", "getFeed", "getFeeds", "cancelFeed", "getFeedDocument"),
    "listings": ("getListingsItem", "putListingsItem", "patchListingsItem", "deleteListingsItem",
                 "searchListingsItems", "getCatalogItem", "searchCatalogItems"),
    "notifications": ("createDestination", "getDestinations", "getDestination", "deleteDestination",
                      "createSubscription", "getSubscription", "getSubscriptionById", "deleteSubscriptionById"),
    "fba": ("getInventorySummaries",),
    "lwa": (),               # token calls (integration.amazon.auth), not SP-API operations
    "other": (),             # sellers, finances, restricted data tokens, anything not listed
}
_FAMILY_OF = {op: family for family, ops in FAMILIES.items() for op in ops}


def family_of(operation: str) -> str:
    """The breaker family of an SP-API operation (``other`` when not listed)."""
    return _FAMILY_OF.get(operation, "other")


_NOW = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function add(key, bucket_ms, window_ms, calls, fails)
  local b = math.floor(now / bucket_ms)
  if calls > 0 then redis.call('hincrby', key, 'c:' .. b, calls) end
  if fails > 0 then redis.call('hincrby', key, 'f:' .. b, fails) end
  if calls > 0 or fails > 0 then redis.call('pexpire', key, window_ms + bucket_ms) end
end
local function sum(key, bucket_ms, window_ms)
  local oldest = math.floor((now - window_ms) / bucket_ms)
  local all = redis.call('hgetall', key)
  local c, f, stale = 0, 0, {}
  for i = 1, #all, 2 do
    local b = tonumber(string.sub(all[i], 3))
    if b < oldest then
      stale[#stale + 1] = all[i]
    elseif string.sub(all[i], 1, 1) == 'c' then
      c = c + tonumber(all[i + 1])
    else
      f = f + tonumber(all[i + 1])
    end
  end
  if #stale > 0 then redis.call('hdel', key, unpack(stale)) end
  return c, f
end
"""
# KEYS: state hash, probe key, window hash. ARGV: reset ms, probe token, successes to add, window ms, bucket ms
# -> {verdict, retry_after_ms}
_BEFORE = _NOW + """
local st = redis.call('hmget', KEYS[1], 'state', 'opened_at')
local state = st[1] or 'closed'
if state == 'closed' then
  add(KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[4]), tonumber(ARGV[3]), 0)
  return {'go', 0}
end
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
# KEYS: state hash, window hash, probe. ARGV: window ms, bucket ms, min calls, failure rate, probe token (or ''),
# successes to add, state ttl ms -> 'opened' (this failure opened it), 'reopened' (a failed trial), or the state
_FAILURE = _NOW + """
if ARGV[5] ~= '' and redis.call('get', KEYS[3]) == ARGV[5] then
  redis.call('del', KEYS[3])
  redis.call('hset', KEYS[1], 'state', 'open', 'opened_at', now)
  redis.call('pexpire', KEYS[1], ARGV[7])
  return 'reopened'
end
local state = redis.call('hget', KEYS[1], 'state') or 'closed'
if state ~= 'closed' then return state end
local window_ms, bucket_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
add(KEYS[2], bucket_ms, window_ms, 1 + tonumber(ARGV[6]), 1)
local c, f = sum(KEYS[2], bucket_ms, window_ms)
if c >= tonumber(ARGV[3]) and f >= tonumber(ARGV[4]) * c then
  redis.call('hset', KEYS[1], 'state', 'open', 'opened_at', now, 'calls', c, 'failures', f)
  redis.call('pexpire', KEYS[1], ARGV[7])
  redis.call('del', KEYS[2])
  return 'opened'
end
return 'closed'
"""
# KEYS: state hash, window hash, probe. ARGV: probe token -> 'reclosed' (this trial closed it) or the state
_SUCCESS = """
if redis.call('get', KEYS[3]) == ARGV[1] then
  redis.call('del', KEYS[3], KEYS[2], KEYS[1])
  return 'reclosed'
end
return redis.call('hget', KEYS[1], 'state') or 'closed'
"""
# KEYS: state hash, window hash -> {state, calls, failures} (calls and failures in the current window)
_READ = _NOW + """
local state = redis.call('hget', KEYS[1], 'state') or 'closed'
local c, f = sum(KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[1]))
return {state, c, f}
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
    """One named breaker (``amazon.orders``, ``sl`` ...). Not shared between threads; re-made state after fork."""

    def __init__(self, r: redis.Redis, name: str, *, window: float = 60.0, min_calls: int = 20,
                 failure_rate: float = 0.5, reset_timeout: float = 30.0, recheck: float = 0.0,
                 counts: Callable[[BaseException], bool] = counts_as_failure, alerts: bool = True):
        if not 0 < failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        self.r, self.name = r, name
        self.window_ms, self.reset_ms = int(window * 1000), int(reset_timeout * 1000)
        self.bucket_ms = max(1, self.window_ms // BUCKETS)
        self.min_calls, self.failure_rate = max(1, int(min_calls)), float(failure_rate)
        self.recheck, self.counts, self.alerts = recheck, counts, alerts
        self._state_key, self._window_key, self._probe_key = (keys.breaker(name), keys.breaker_window(name),
                                                              keys.breaker_probe(name))
        self._before = r.register_script(_BEFORE)
        self._failure = r.register_script(_FAILURE)
        self._success = r.register_script(_SUCCESS)
        self._read = r.register_script(_READ)
        self._closed_until = 0.0
        self._pending, self._pending_since, self._pid = 0, 0.0, os.getpid()

    # -- successes counted in-process, added to the window with the next script call -------------------------------
    def _take_pending(self) -> int:
        if self._pid != os.getpid():      # a forked child does not count its parent's calls again
            self._pid, self._pending, self._closed_until = os.getpid(), 0, 0.0
        n, self._pending = self._pending, 0
        if n and time.monotonic() - self._pending_since > self.window_ms / 1000.0:
            return 0                      # older than the window: they no longer count
        return n

    def _note_success(self) -> None:
        if self._pending == 0:
            self._pending_since = time.monotonic()
        self._pending += 1

    # -- the protocol ----------------------------------------------------------------------------------------------
    def before_call(self) -> str:
        """Returns '' for a normal call or a probe token for the one half-open trial; raises CircuitOpen."""
        if self._closed_until > time.monotonic() and self._pid == os.getpid():
            return ""
        token = secrets.token_hex(8)
        pending = self._take_pending()
        verdict, retry_ms = self._before(keys=[self._state_key, self._probe_key, self._window_key],
                                         args=[self.reset_ms, token, pending, self.window_ms, self.bucket_ms])
        if verdict == "open":
            self._closed_until = 0.0
            raise CircuitOpen(f"{self.name} circuit is open", retry_after=int(retry_ms) / 1000.0,
                              details={"system": self.name, "breaker": self.name})
        if verdict == "trial":
            return token
        if self.recheck:
            self._closed_until = time.monotonic() + self.recheck
        return ""

    def record_failure(self, probe: str = "") -> str:
        self._closed_until = 0.0
        pending = self._take_pending()
        verdict = self._failure(keys=[self._state_key, self._window_key, self._probe_key],
                                args=[self.window_ms, self.bucket_ms, self.min_calls, self.failure_rate, probe,
                                      pending, STATE_TTL_MS])
        if verdict == "opened":
            log.error("breaker %s opened: failure rate over %d%% in the last %gs", self.name,
                      round(self.failure_rate * 100), self.window_ms / 1000)
            self._alert_open()
        return OPEN if verdict in ("opened", "reopened") else verdict

    def record_success(self, probe: str = "") -> str:
        """A success: counted in-process while closed (no round trip); a trial's success closes the breaker."""
        if not probe:
            self._note_success()
            return CLOSED
        verdict = self._success(keys=[self._state_key, self._window_key, self._probe_key], args=[probe])
        if verdict == "reclosed":
            log.warning("breaker %s closed: the trial call succeeded", self.name)
            self._resolve()
            return CLOSED
        return verdict

    def record(self, probe: str, exc: BaseException | None) -> None:
        """The outcome of a call let through by ``before_call`` (``exc`` None for a success)."""
        if exc is not None and self.counts(exc):
            self.record_failure(probe)
        else:
            self.record_success(probe)   # a business error still proves the system answers

    @contextmanager
    def guard(self):
        """``with breaker.guard(): call()`` — checks, then records the outcome."""
        probe = self.before_call()
        try:
            yield probe
        except BaseException as exc:
            self.record(probe, exc)
            raise
        else:
            self.record(probe, None)

    # -- alerts ----------------------------------------------------------------------------------------------------
    def _alert_open(self) -> None:
        if not self.alerts:
            return
        from integration import alerts

        alerts.alert(f"circuit open: {self.name}", dedup_key=f"breaker:{self.name}", r=self.r, breaker=self.name,
                     retry_after=self.reset_ms / 1000.0)

    def _resolve(self) -> None:
        if not self.alerts:
            return
        from integration import alerts

        alerts.resolve(f"breaker:{self.name}", r=self.r, breaker=self.name)

    # -- reading ---------------------------------------------------------------------------------------------------
    def state(self) -> str:
        return self.r.hget(self._state_key, "state") or CLOSED

    def snapshot(self) -> dict:
        """State plus calls and failures in the current window (successes not yet added by a process excepted)."""
        state, calls, failures = self._read(keys=[self._state_key, self._window_key],
                                            args=[self.window_ms, self.bucket_ms])
        return {"state": state, "calls": int(calls), "failures": int(failures)}

    def reset(self) -> None:
        self.r.delete(self._state_key, self._window_key, self._probe_key)
        self._closed_until, self._pending = 0.0, 0


def amazon_name(family: str) -> str:
    return f"amazon.{family}"


class Breakers:
    """The Amazon breakers of one process, one per family, made on first use."""

    def __init__(self, r: redis.Redis, **params):
        self.r, self.params = r, params
        self._made: dict[str, Breaker] = {}

    @classmethod
    def from_settings(cls, s, r: redis.Redis, **extra) -> Breakers:
        return cls(r, **breaker_params(s), **extra)

    def family(self, family: str) -> Breaker:
        b = self._made.get(family)
        if b is None:
            b = self._made[family] = Breaker(self.r, amazon_name(family), **self.params)
        return b

    def for_op(self, operation: str) -> Breaker:
        return self.family(family_of(operation))


def breaker_params(s) -> dict:
    """Breaker settings (BREAKER_*) as keyword arguments."""
    return {"window": s.breaker_window, "min_calls": s.breaker_min_calls, "failure_rate": s.breaker_failure_rate,
            "reset_timeout": s.breaker_reset_timeout}


def all_states(r: redis.Redis) -> dict[str, str]:
    """Every breaker's state for ``slsync status``: ``amazon`` (the worst of its families), each family, ``sl``."""
    rank = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}
    names = [amazon_name(f) for f in FAMILIES] + ["sl"]
    pipe = r.pipeline(transaction=False)
    for name in names:
        pipe.hget(keys.breaker(name), "state")
    states = {name: state or CLOSED for name, state in zip(names, pipe.execute(), strict=True)}
    worst = max((states[amazon_name(f)] for f in FAMILIES), key=lambda st: rank.get(st, 0))
    return {"amazon": worst, **states}
