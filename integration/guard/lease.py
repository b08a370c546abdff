"""Leases: per-entity mutual exclusion across processes and machines, with fencing numbers.

A lease is held by an owner token for a TTL; only the owner can renew or release it. Every acquisition
gets a fencing number from a per-name counter that only goes up, so a holder whose lease expired (and was
taken by someone else) can be told apart from the new holder. An expired lease is detected on renew and on
release (``LeaseLost``), never silently reused. Unlike celery-once style locks, a crashed holder's lease
simply expires after its TTL.
"""

from __future__ import annotations

import secrets
import threading

import redis

from integration.errors import Transient
from integration.guard import keys

_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then
  return {0, redis.call('pttl', KEYS[1])}
end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return {fence, 0}
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

    def __init__(self, r: redis.Redis, entity: str, name: str, ttl: float = 60.0, *, keepalive: bool = False):
        self.r = r
        self.entity, self.name = entity, str(name)
        self.key = keys.lease(entity, self.name)
        self.fence_key = keys.fence(entity, self.name)
        self.ttl_ms = max(1, int(ttl * 1000))
        self.token = secrets.token_hex(16)
        self.fence: int | None = None
        self.keepalive = keepalive
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acquire = r.register_script(_ACQUIRE)
        self._renew = r.register_script(_RENEW)
        self._release = r.register_script(_RELEASE)

    @property
    def _value(self) -> str:
        return f"{self.token}:{self.fence}"

    def acquire(self) -> bool:
        """Try once; True and ``self.fence`` set when we now hold it."""
        fence, pttl = self._acquire(keys=[self.key, self.fence_key], args=[self.token, self.ttl_ms])
        if fence:
            self.fence = int(fence)
            self._retry_after = 0.0
            return True
        self._retry_after = max(int(pttl), 50) / 1000.0
        return False

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
                return
            except redis.RedisError:
                continue

    def _stop_keepalive(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
