"""What the Redis server itself must promise: it may not evict our keys or the broker's messages.

Celery's messages and our guard keys live in Redis; a server configured to evict under memory pressure
(``maxmemory-policy`` anything but ``noeviction``) would drop queued work or leases silently. Checked at start-up
of every long-running process and by ``slsync config check``; a warning, since a managed Redis may not let us read
its configuration.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger("slsync.redis")


def eviction_problem(r: redis.Redis) -> str | None:
    """A sentence naming the problem, or None when Redis keeps everything (or will not say)."""
    try:
        policy = (r.config_get("maxmemory-policy") or {}).get("maxmemory-policy")
    except redis.RedisError:
        return None   # CONFIG disabled (managed Redis) or Redis down: nothing to say here
    if policy and policy != "noeviction":
        return (f"Redis maxmemory-policy is {policy!r}: under memory pressure it may evict queued tasks or leases; "
                "set maxmemory-policy noeviction")
    return None


def warn_on_eviction(url: str) -> str | None:
    problem = eviction_problem(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2))
    if problem:
        log.warning("%s", problem)
    return problem
