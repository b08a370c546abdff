"""The beat schedule. Beat only starts small "find work" tasks that fan out per entity.

Every entry has ``expires`` so ticks that pile up while the workers are down are dropped, not burst.
RedBeat (``workers/config.py``) holds a lock in Redis, so a second beat started by mistake stands by.
"""

from __future__ import annotations

from integration.config import Settings


def _every(task: str, seconds: float, queue: str) -> dict:
    return {"task": task, "schedule": seconds, "options": {"expires": seconds, "queue": queue}}


def schedule(s: Settings) -> dict:
    return {
        "heartbeat": _every("slsync.system.heartbeat", s.heartbeat_seconds, "default"),
        "orders-sweep": _every("slsync.orders.sweep", s.orders_sweep_seconds, "amazon"),
        "fulfillment-sweep": _every("slsync.fulfillment.sweep", s.fulfillment_sweep_seconds, "sl"),
        "failures-flush": _every("slsync.system.flush_failures", 60.0, "default"),
        # settlement reports are scheduled by Amazon (about every 14 days) and only listed: polled, 6-hourly by default
        "settlements-poll": _every("slsync.settlements.poll", s.settlements_poll_seconds, "amazon"),
    }
