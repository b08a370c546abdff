"""Order tasks: import one order, sweep for changed orders, backfill a long window."""

from __future__ import annotations

import time

from integration.guard import keys, redis_client
from integration.ingest import import_started
from integration.sync import backfill as backfill_flow
from integration.sync import orders
from workers.app import app
from workers.base import continue_later, run_for_entity
from workers.context import task_context

IMPORT = "slsync.orders.import"


def enqueue_imports(order_ids: list[str]) -> None:
    """Fan out one import task per order (by task name, so the integration code never imports Celery)."""
    with app.producer_or_acquire() as producer:
        for oid in order_ids:
            app.send_task(IMPORT, args=[oid], queue="sl", producer=producer)


@app.task(name=IMPORT, bind=True, queue="sl")
def import_order(self, amazon_order_id: str) -> str | None:
    def work():
        import_started(redis_client(), amazon_order_id)  # notifications from now on queue a new import
        return orders.import_order(amazon_order_id, task_context(self))

    outcome = run_for_entity(self, "order", amazon_order_id, work)
    return outcome.value if outcome else None


SWEEP = "slsync.orders.sweep"


@app.task(name=SWEEP, bind=True, queue="amazon")
def sweep_orders(self) -> int | None:
    """From beat: one sweep at a time fleet-wide (the lease), fanning out one import per order.

    A window of many pages is read over many runs: when Amazon's rate allows no next page yet, the run ends and
    one continuation is scheduled for when it does (beat's own runs in between find it scheduled and stop)."""
    result = run_for_entity(self, "sweep", "orders", lambda: orders.sweep(task_context(self), enqueue=enqueue_imports))
    if result is None:
        return None
    if not result.done:
        continue_later(SWEEP, "orders.sweep", result.retry_after, queue="amazon")
        return result.found
    redis_client().set(keys.last_success("orders.sweep"), orders.now_utc().isoformat(timespec="seconds"),
                           ex=keys.LAST_OK_TTL)
    return result.found


RESUME = "slsync.orders.backfill_resume"
RESUME_EVERY = 15.0  # seconds of Amazon's time between looks at the report


def _resume_countdown() -> float:
    """RESUME_EVERY on Amazon's clock: the simulator's compressed time runs the report that much faster."""
    from integration.config import settings

    return RESUME_EVERY / max(settings().spapi_time_scale, 1.0)


@app.task(name="slsync.orders.backfill", bind=True, queue="amazon")
def backfill(self, since: str, until: str | None = None) -> str | None:
    """Request the all-orders report for the window; a follow-up task waits for it (never this one)."""
    from datetime import datetime

    def work():
        ctx = task_context(self)
        report_id = backfill_flow.start(ctx, datetime.fromisoformat(since),
                                        datetime.fromisoformat(until) if until else None)
        app.send_task(RESUME, args=[report_id], queue="amazon", countdown=_resume_countdown())
        return report_id

    return run_for_entity(self, "backfill", "orders", work)


@app.task(name=RESUME, bind=True, queue="amazon")
def backfill_resume(self, report_id: str) -> int | None:
    """Once the report is DONE, hand its orders to the pacer; until then, look again later (a new message)."""
    def work():
        result = backfill_flow.resume(task_context(self), report_id, pacer_stash(report_id))
        if result.status != "DONE":
            app.send_task(RESUME, args=[report_id], queue="amazon", countdown=_resume_countdown())
        elif result.orders:
            start_pacing(report_id)
        return result.orders

    return run_for_entity(self, "backfill", "orders", work)


# -- pacing a backfill's fan-out -----------------------------------------------------------------------------
# Thousands of imports queued at once would mostly find the getOrder bucket empty and re-queue themselves
# (each retry a new message, counted towards TASK_MAX_RETRIES, with a growing backoff). Instead a pacer
# releases a page at a time, each import due when the bucket will have its token; at most a page is
# waiting on an ETA at any moment (well within the visibility timeout, whatever the rate).
PACE = "slsync.orders.backfill_pace"
PACE_PAGE = 100
PACE_TTL = 7 * 24 * 3600
PACE_LEAD = 2.0  # seconds: the next page is released this long before its first import is due


def _pending_ids(report_id: str) -> str:
    return keys.key("backfill", report_id, "ids")


def pacer_stash(report_id: str):
    """An ``enqueue`` for ``backfill.resume`` that keeps the report's order ids for the pacer (afresh)."""
    ids = _pending_ids(report_id)
    redis_client().delete(ids)

    def stash(page: list[str]) -> None:
        if page:
            redis_client().rpush(ids, *page)
            redis_client().expire(ids, PACE_TTL)

    return stash


def start_pacing(report_id: str) -> None:
    app.send_task(PACE, args=[report_id, 0, time.time()], queue="amazon")


@app.task(name=PACE, bind=True, queue="amazon")
def backfill_pace(self, report_id: str, offset: int, due: float) -> int | None:
    """Release the next page of a backfill's imports, spread at the rate the fleet's getOrder bucket refills.

    ``due`` is when (epoch seconds) the page's first import may run; the first page spends half the burst at
    once and keeps the other half as a cushion for the workers' timing jitter.
    """
    def work():
        r = redis_client()
        ids = r.lrange(_pending_ids(report_id), offset, offset + PACE_PAGE - 1)
        if not ids:
            r.delete(_pending_ids(report_id))
            return offset
        interval, burst = backfill_flow.import_interval(task_context(self))
        free = burst // 2 if offset == 0 else 0
        now = time.time()
        with app.producer_or_acquire() as producer:
            for i, oid in enumerate(ids):
                at = due + max(0, i - free) * interval
                app.send_task(IMPORT, args=[oid], queue="sl", producer=producer, countdown=max(0.0, at - now))
        following = due + max(0, len(ids) - free) * interval
        app.send_task(PACE, args=[report_id, offset + len(ids), following], queue="amazon",
                      countdown=max(0.0, following - PACE_LEAD - time.time()))
        return offset + len(ids)

    return run_for_entity(self, "backfill_pace", report_id, work)
