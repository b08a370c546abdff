"""Order tasks: import one order, sweep for changed orders, backfill a long window."""

from __future__ import annotations

from integration.guard import keys, redis_client
from integration.ingest import import_started
from integration.sync import backfill as backfill_flow
from integration.sync import orders
from workers.app import app
from workers.base import run_for_entity
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


@app.task(name="slsync.orders.sweep", bind=True, queue="amazon")
def sweep_orders(self) -> int | None:
    """From beat: one sweep at a time fleet-wide (the lease), fanning out one import per order."""
    result = run_for_entity(self, "sweep", "orders", lambda: orders.sweep(task_context(self), enqueue=enqueue_imports))
    if result is None:
        return None
    redis_client().set(keys.last_success("orders.sweep"), orders.now_utc().isoformat(timespec="seconds"))
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
    """Fan the report's orders out once it is DONE; until then, look again later (a new message)."""
    def work():
        result = backfill_flow.resume(task_context(self), report_id, enqueue_imports)
        if result.status != "DONE":
            app.send_task(RESUME, args=[report_id], queue="amazon", countdown=_resume_countdown())
        return result.orders

    return run_for_entity(self, "backfill", "orders", work)
