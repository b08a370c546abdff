"""The polling sweep on the simulated clock: windows, watermark, calls per order, and recovery of lost work."""

from __future__ import annotations

import time

from integration.sl.sandbox import count
from integration.sync import orders
from tests.orders.conftest import sku_known, wait_until
from workers.app import app


def _collect(ctx):
    found: list[str] = []
    result = orders.sweep(ctx, enqueue=found.extend)
    return found, result


def test_sweep_imports_complete_orders_without_another_call(ctx, sim):
    made = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}]) for _ in range(120)]
    sim.advance(180)  # their last update is now more than two minutes old
    found, result = _collect(ctx)
    assert set(found) == {m["orderId"] for m in made}
    for oid in found:
        assert orders.import_order(oid, ctx).value == "created"
    calls = sim.requests()["operations"]
    assert calls.get("getOrder", {}).get("count", 0) == 0
    assert calls["searchOrders"]["count"] == 2  # 120 orders, 100 a page
    # a second sweep finds them all settled: nothing queued, the watermark moves to the window end
    again, second = _collect(ctx)
    assert again == [] and ctx.sl.get_cursor(orders.SWEEP_CURSOR) == second.window_end


def test_an_order_updated_during_a_sweep_is_found_by_the_next(ctx, sim):
    a = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.advance(180)
    changed: list[str] = []

    def enqueue(ids):  # while the sweep is still running, the buyer cancels order A
        changed.append(sim.change(a["orderId"], "cancel")["lastUpdatedTime"])
        for oid in ids:
            orders.import_order(oid, ctx)

    first = orders.sweep(ctx, enqueue=enqueue)
    assert changed and changed[0] > first.window_end  # the change fell after this window's end
    assert ctx.sl.get_order_binding(a["orderId"]).sl_status == "OPEN"
    sim.advance(180)
    found, second = _collect(ctx)
    assert a["orderId"] in found and second.window_start <= first.window_end
    orders.import_order(a["orderId"], ctx)
    assert ctx.sl.get_order_binding(a["orderId"]).sl_status == "CANCELLED"


def test_window_always_ends_two_minutes_before_amazons_clock(ctx, sim):
    sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    _, result = _collect(ctx)
    assert sim.requests()["operations"]["searchOrders"]["statuses"] == {"200": 1}
    assert result.window_end < sim.advance(0)


def test_redis_flushed_mid_run_loses_nothing_and_duplicates_nothing(ctx, sim, worker, r):
    made = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}]) for _ in range(40)]
    sim.advance(180)
    app.send_task("slsync.orders.sweep", queue="amazon")
    wait_until(lambda: count(ctx.sl.db, "xAMZOrder") >= 3, timeout=60, interval=0.05)
    r.flushdb()  # queued imports, cached payloads, leases, tokens: all gone
    time.sleep(1)
    app.send_task("slsync.orders.sweep", queue="amazon")
    wait_until(lambda: count(ctx.sl.db, "xAMZOrder") == 40, timeout=120)
    for m in made:
        assert count(ctx.sl.db, "SOHeader", {"CustOrdNbr": m["orderId"]}) == 1
