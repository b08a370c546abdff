"""First-time-seen markers with a TTL: ``first_time(r, scope, id)`` is True exactly once per TTL."""

from __future__ import annotations

import redis

from integration.guard import keys


def first_time(r: redis.Redis, scope: str, ident: str, ttl: float = 7 * 24 * 3600) -> bool:
    """Atomically mark ``(scope, ident)`` as seen; True only for the first caller within ``ttl`` seconds."""
    return bool(r.set(keys.dedup(scope, ident), "1", nx=True, px=max(1, int(ttl * 1000))))


def forget(r: redis.Redis, scope: str, ident: str) -> None:
    """Remove the marker, so the next delivery counts as new (used when accepting failed after marking)."""
    r.delete(keys.dedup(scope, ident))


def seen(r: redis.Redis, scope: str, ident: str) -> bool:
    return bool(r.exists(keys.dedup(scope, ident)))
