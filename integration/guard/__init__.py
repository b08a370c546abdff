"""Redis-backed coordination: dedup markers, leases, the fleet rate limiter and circuit breakers.

Everything here may be lost with Redis and costs only repeated work (DESIGN §4). Key names: ``keys.py``.
"""

from integration.guard.breaker import Breaker, CircuitOpen
from integration.guard.dedup import first_time
from integration.guard.lease import Lease, LeaseBusy, LeaseLost
from integration.guard.ratelimit import RateLimiter
from integration.guard.store import redis_client

__all__ = ["Breaker", "CircuitOpen", "Lease", "LeaseBusy", "LeaseLost", "RateLimiter", "first_time", "redis_client"]
