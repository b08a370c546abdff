"""The entity task wrapper: skip finished redeliveries, hold the entity's lease, apply the retry policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from integration.config import settings
from integration.guard import Lease, dedup, redis_client
from workers.policy import retry_policy

T = TypeVar("T")
DONE_TTL = 24 * 3600


def run_for_entity(task, entity: str, key: str, work: Callable[[], T]) -> T | None:
    """Run ``work`` once per delivered message, alone for ``(entity, key)`` across the fleet.

    A message redelivered after its task finished (the ack was lost) is skipped by its task id; one
    redelivered after a crash mid-task runs again, which is safe because ``work`` is idempotent.
    """
    r = redis_client()
    done = task.request.id and dedup.seen(r, "done", task.request.id)
    if done:
        return None
    with retry_policy(task):
        with Lease(r, entity, key, ttl=settings().lease_seconds, keepalive=True):
            result = work()
        if task.request.id:
            dedup.first_time(r, "done", task.request.id, ttl=DONE_TTL)
        return result
    return None
