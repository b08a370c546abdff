"""System tasks: the beat heartbeat and the no-op pair the foundation benchmark compares."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from integration.guard import keys, redis_client
from workers.app import app
from workers.base import run_for_entity


@app.task(name="slsync.system.heartbeat", bind=True, queue="default")
def heartbeat(self) -> str:
    """Proves beat and a worker are alive; `slsync status` shows the last one. Also sends one "resolved" for each
    alert that has had no new occurrence for ALERT_RESOLVE_AFTER seconds (``integration.alerts``), and from 30 days
    before the LWA client secret expires (LWA_CLIENT_SECRET_EXPIRES) one alert a day."""
    from integration import alerts

    now = datetime.now(UTC).isoformat(timespec="seconds")
    redis_client().set(keys.HEARTBEAT, now, ex=600)
    alerts.resolve_quiet()
    _secret_expiry()
    return now


def _secret_expiry() -> None:
    """The LWA client secret's expiry alert (at most one a day, from 30 days before); never fails the heartbeat."""
    from integration.amazon.auth import check_secret_expiry
    from integration.config import settings

    try:
        check_secret_expiry(settings(), redis_client())
    except Exception:   # noqa: BLE001 - the heartbeat's own proof of life comes first
        import logging

        logging.getLogger("slsync.tasks").exception("client-secret expiry check failed")


@app.task(name="slsync.system.flush_failures", bind=True, queue="default")
def flush_failures(self) -> int | None:
    """From beat: task failures that waited in Redis while SL was unreachable become holds in SL."""
    from integration.sync import failures
    from workers.context import task_context

    return run_for_entity(self, "system", "flush_failures", lambda: failures.flush_pending(task_context(self)))


def _mark(counter: str) -> None:
    """What both benchmark tasks do: count themselves and stamp first/last completion (one round trip)."""
    now = repr(time.time())
    p = redis_client().pipeline(transaction=False)
    p.set(keys.key("bench", counter, "first"), now, nx=True, ex=3600)
    p.set(keys.key("bench", counter, "last"), now, ex=3600)
    p.incr(keys.key("bench", counter, "count"))
    p.expire(keys.key("bench", counter, "count"), 3600)
    p.execute()


@app.task(name="slsync.system.noop_bare", queue="default")
def noop_bare(counter: str, n: int) -> None:
    _mark(counter)


@app.task(name="slsync.system.noop_guarded", bind=True, queue="default")
def noop_guarded(self, counter: str, n: int) -> None:
    run_for_entity(self, "bench", f"{counter}:{n}", lambda: _mark(counter))
