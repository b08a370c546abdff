"""At-least-once delivery through real workers: repeats, out-of-order changes, a killed worker, lost Redis."""

from __future__ import annotations

import json
import time

import pytest

from integration.guard import keys
from integration.sl.sandbox import count
from tests.orders.conftest import sku_known, wait_until
from tests.support.worker import start_worker
from workers.app import app


def _send_import(oid: str, times: int = 1) -> None:
    for _ in range(times):
        app.send_task("slsync.orders.import", args=[oid], queue="sl")


def _broker_idle(r) -> bool:
    return all(r.llen(q) == 0 for q in ("default", "amazon", "sl")) and r.hlen("unacked") == 0


def _runs(worker) -> list[str]:
    """The import runs the worker finished (each delivery, or the retry it became, ends once)."""
    return [line for line in worker.output().splitlines()
            if "slsync.orders.import" in line and " succeeded in " in line]


def _sales_orders_for(ctx, oid: str) -> int:
    return count(ctx.sl.db, "SOHeader", {"CustOrdNbr": oid})


def test_the_same_order_delivered_five_times_makes_one_sales_order(ctx, sim, worker):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    _send_import(made["orderId"], times=5)
    wait_until(lambda: ctx.sl.get_order_binding(made["orderId"]))
    # all five deliveries done: none queued, none held unacknowledged by a worker, none waiting on an ETA (a
    # delivery that met the lease retries with a countdown, and runs once more)
    wait_until(lambda: len(_runs(worker)) >= 5 and _broker_idle(ctx.redis), timeout=60,
               what="every delivery run")
    assert _sales_orders_for(ctx, made["orderId"]) == 1


def test_changes_delivered_out_of_order_leave_the_latest_state(ctx, sim, worker):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    _send_import(made["orderId"])
    wait_until(lambda: ctx.sl.get_order_binding(made["orderId"]))
    cancelled = sim.change(made["orderId"], "cancel")
    _send_import(made["orderId"])
    wait_until(lambda: ctx.sl.get_order_binding(made["orderId"]).sl_status == "CANCELLED")
    # an older copy of the order (as a sweep saw it before the cancel) arrives late
    ctx.redis.set(keys.order_payload(made["orderId"]), json.dumps(made))
    _send_import(made["orderId"])
    wait_until(lambda: ctx.redis.get(keys.order_payload(made["orderId"])) is None)
    binding = ctx.sl.get_order_binding(made["orderId"])
    assert binding.sl_status == "CANCELLED" and binding.last_updated == cancelled["lastUpdatedTime"]
    assert _sales_orders_for(ctx, made["orderId"]) == 1
    assert "stale_skipped" in [e.action for e in ctx.sl.events_for("order", made["orderId"])]


@pytest.fixture
def short_visibility(env):
    """Redelivery of a dead worker's message in seconds instead of an hour (reference §7)."""
    return {**env, "CELERY_VISIBILITY_TIMEOUT": "10", "CELERY_TASK_TIME_LIMIT": "5", "RETRY_BACKOFF_MAX": "1",
            "ENTITY_LEASE_SECONDS": "3"}


def test_worker_killed_mid_import_then_redelivered_makes_exactly_one_sales_order(ctx, sim, short_visibility):
    """The pool child running the import is SIGKILLed while it is provably inside getOrder (the simulator has
    taken the request and holds it 2.5 s); the worker lives on, the message comes back, one sales order."""
    import os
    import signal

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    rule = {"op": "getOrder", "kind": "latency", "latency_ms": [2500, 2500], "count": 1}
    sim.faults([rule])
    worker = start_worker(short_visibility, queues="sl", concurrency=1, name="doomed")
    try:
        _send_import(made["orderId"])
        wait_until(lambda: sim.sim.faults.rules[0]["count"] == 0, timeout=30, what="the import inside getOrder")
        children = worker.children()
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)          # the OOM killer's way: no ack, no cleanup, worker lives on
        wait_until(lambda: "Worker exited prematurely" in worker.output(), timeout=30, what="the loss noticed")
        assert ctx.sl.get_order_binding(made["orderId"]) is None
        wait_until(lambda: ctx.sl.get_order_binding(made["orderId"]), timeout=60, what="the redelivered import")
        time.sleep(1)
        assert worker.popen.poll() is None
    finally:
        worker.stop()
    assert _sales_orders_for(ctx, made["orderId"]) == 1
