"""Leases: per-entity mutual exclusion across processes and machines, with fencing numbers.

A lease is held by an owner token for a TTL; only the owner can renew or release it. Every acquisition
gets a fencing number from a per-name counter that only goes up, so a holder whose lease expired (and was
taken by someone else) can be told apart from the new holder. An expired lease is detected on renew and on
release (``LeaseLost``), never silently reused. Unlike celery-once style locks, a crashed holder's lease
simply expires after its TTL.

The lease is an optimisation; the guarantee is the fencing number checked in SL (``integration.fence``).
So the number must also survive Redis losing its counters: it is ``epoch * EPOCH_SPAN + counter``, and the
epoch key is set only from ``epoch_source`` (SL's own epoch counter, bumped each time Redis is found without
the key, i.e. after a flush). A lease without an epoch source uses epoch 0 while the key is missing and never
sets it. When SL holds a higher number than Redis can hand out (Redis restored from an old snapshot, or a
failover that lost increments), ``raise_floor`` lifts the counter above it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

import redis

from integration.errors import Transient
from integration.fence import EPOCH_SPAN, Fence
from integration.guard import keys

# Fencing counters and the epoch expire when unused for a month: a number handed out after that may be below the one
# SL stored, which ``raise_floor`` mends on the first refused write (one retry), so nothing in Redis lives forever.
FENCE_TTL_MS = 30 * 24 * 3600 * 1000
# -> {fence, 0} when acquired; {0, pttl} when held by someone else; {-1, 0} when the fencing epoch is unknown
# (Redis lost it) and the caller has an epoch source to ask (ARGV[3] == '1'); without one, epoch 0.
_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then
  return {0, redis.call('pttl', KEYS[1])}
end
local epoch = redis.call('get', KEYS[3])
if not epoch then
  if ARGV[3] == '1' then return {-1, 0} end
  epoch = 0
end
local fence = tonumber(epoch) * tonumber(ARGV[4]) + redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], ARGV[5])
if redis.call('exists', KEYS[3]) == 1 then redis.call('pexpire', KEYS[3], ARGV[5]) end
redis.call('set', KEYS[1], ARGV[1] .. ':' .. string.format('%.0f', fence), 'PX', ARGV[2])
return {fence, 0}
"""
# Lift the epoch and counter so the next number is above ARGV[2] (only while ARGV[1] still holds the lease).
_RAISE_FLOOR = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local span = tonumber(ARGV[3])
local floor = tonumber(ARGV[2])
local want_epoch = math.floor(floor / span)
local epoch = tonumber(redis.call('get', KEYS[3]) or '0')
if epoch < want_epoch then
  redis.call('set', KEYS[3], string.format('%.0f', want_epoch), 'PX', ARGV[4])
  redis.call('set', KEYS[2], string.format('%.0f', floor - want_epoch * span), 'PX', ARGV[4])
elseif epoch == want_epoch then
  local counter = tonumber(redis.call('get', KEYS[2]) or '0')
  local want = floor - want_epoch * span
  if counter < want then redis.call('set', KEYS[2], string.format('%.0f', want), 'PX', ARGV[4]) end
end
return 1
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  return 1
end
return 0
"""


class LeaseBusy(Transient):
    """Someone else holds the lease; retry after it may have been released."""


class LeaseLost(Transient):
    """Our lease expired (or was taken) while we believed we held it."""


class Lease:
    """``with Lease(r, "order", order_id, ttl=60) as lease: ...`` — ``lease.fence`` is the fencing number."""

    def __init__(self, r: redis.Redis, entity: str, name: str, ttl: float = 60.0, *, keepalive: bool = False,
                 epoch_source: Callable[[], int] | None = None):
        self.r = r
        self.entity, self.name = entity, str(name)
        self.key = keys.lease(entity, self.name)
        self.fence_key = keys.fence(entity, self.name)
        self.ttl_ms = max(1, int(ttl * 1000))
        self.token = secrets.token_hex(16)
        self.fence: int | None = None
        self.keepalive = keepalive
        self.epoch_source = epoch_source
        self.lost = False            # set when the keep-alive found the lease gone: no more writes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acquire = r.register_script(_ACQUIRE)
        self._renew = r.register_script(_RENEW)
        self._release = r.register_script(_RELEASE)
        self._raise_floor = r.register_script(_RAISE_FLOOR)

    @property
    def _value(self) -> str:
        return f"{self.token}:{self.fence}"

    def acquire(self) -> bool:
        """Try once; True and ``self.fence`` set when we now hold it."""
        fence_keys = [self.key, self.fence_key, keys.fence_epoch()]
        args = [self.token, self.ttl_ms, "1" if self.epoch_source else "0", EPOCH_SPAN, FENCE_TTL_MS]
        fence, pttl = self._acquire(keys=fence_keys, args=args)
        if fence == -1:
            # Redis has lost the fencing epoch (a flush): SL hands out the next one, the first to set it wins
            self.r.set(keys.fence_epoch(), int(self.epoch_source()), nx=True, px=FENCE_TTL_MS)
            fence, pttl = self._acquire(keys=fence_keys, args=args)
        if fence > 0:
            self.fence = int(fence)
            self.lost = False
            self._retry_after = 0.0
            return True
        self._retry_after = max(int(pttl), 50) / 1000.0
        return False

    def fence_token(self) -> Fence:
        """What SL writes are checked against while we hold the lease."""
        if self.fence is None:
            raise LeaseLost(f"lease {self.entity}:{self.name} is not held")
        return Fence(self.entity, self.name, self.fence, self.token, alive=lambda: not self.lost)

    def raise_floor(self, number: int) -> bool:
        """SL holds ``number`` for this entity, above what Redis hands out: lift the counter past it.

        Only while we still hold the lease (so a truly stale holder cannot push the numbers around)."""
        if self.fence is None:
            return False
        return bool(self._raise_floor(keys=[self.key, self.fence_key, keys.fence_epoch()],
                                      args=[self._value, int(number), EPOCH_SPAN, FENCE_TTL_MS]))

    def renew(self) -> None:
        """Extend the TTL; raises ``LeaseLost`` if it is no longer ours."""
        if self.fence is None or not self._renew(keys=[self.key], args=[self._value, self.ttl_ms]):
            raise LeaseLost(f"lease {self.entity}:{self.name} (fence {self.fence}) expired under its holder")

    def release(self) -> None:
        """Release; raises ``LeaseLost`` if it expired under us (someone may hold it now)."""
        self._stop_keepalive()
        if self.fence is None:
            return
        ok = self._release(keys=[self.key], args=[self._value])
        fence, self.fence = self.fence, None
        if not ok:
            raise LeaseLost(f"lease {self.entity}:{self.name} (fence {fence}) expired before release")

    def held(self) -> bool:
        return self.fence is not None and self.r.get(self.key) == self._value

    def __enter__(self) -> Lease:
        if not self.acquire():
            raise LeaseBusy(f"{self.entity} {self.name} is being worked on elsewhere", retry_after=self._retry_after)
        if self.keepalive:
            self._thread = threading.Thread(target=self._keep, name=f"lease-{self.key}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.release()
        except LeaseLost:
            if exc_type is None:
                raise

    def _keep(self) -> None:
        interval = self.ttl_ms / 3000.0
        while not self._stop.wait(interval):
            try:
                self.renew()
            except LeaseLost:
                self.lost = True     # the holder's SL writes are refused from now on (Fence.alive)
                return
            except redis.RedisError:
                continue

    def _stop_keepalive(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
