"""The product's Celery app plus a counter of import runs per order (task_prerun), for the intake tests."""

from __future__ import annotations

from celery.signals import task_prerun

from integration.guard import keys, redis_client
from tests.support.app import app

__all__ = ["app"]


@task_prerun.connect
def _count_import(sender=None, task=None, args=None, **_):
    """Every run of the import task per order (retries included), and the enqueued ones (retries excluded)."""
    if sender is not None and sender.name == "slsync.orders.import" and args:
        r = redis_client()
        r.hincrby(keys.key("test", "imports"), args[0], 1)
        if not (task.request.retries or 0):
            r.hincrby(keys.key("test", "imports", "enqueued"), args[0], 1)
