"""The product's Celery app plus a counter of import runs per order (task_prerun), for the intake tests."""

from __future__ import annotations

from celery.signals import task_prerun

from integration.guard import keys, redis_client
from tests.support.app import app

__all__ = ["app"]


@task_prerun.connect
def _count_import(sender=None, args=None, **_):
    if sender is not None and sender.name == "slsync.orders.import" and args:
        redis_client().hincrby(keys.key("test", "imports"), args[0], 1)
