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


def test_every_guard_key_a_flow_leaves_in_redis_expires(ctx, sim, r):
    """Redis holds only what may be lost (DESIGN §4): after a sweep, imports and a confirmation, every key of ours
    has a TTL, except the failures waiting for SL, which must not vanish before SL has them."""
    from integration.sandbox import sl_seed
    from integration.sync import fulfillment
    from integration.sync.entity import hold_entity

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.advance(180)
    found, _ = _collect(ctx)
    for oid in found:
        with hold_entity(ctx, "order", oid):
            orders.import_order(oid, ctx)
    ord_nbr = ctx.sl.get_order_binding(made["orderId"]).ord_nbr
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=["1Z999AA10123456786"])
    with hold_entity(ctx, "shipper", f"AMZDEMO:{shipper}"):
        assert fulfillment.confirm(ctx, "AMZDEMO", shipper).value == "confirmed"
    ours = [k for k in r.scan_iter("slsync:*") if not k.startswith("slsync:test:")]
    assert any(k.startswith("slsync:fence:order:") for k in ours)
    forever = [k for k in ours if r.ttl(k) == -1 and k != "slsync:pending:holds"]
    assert forever == []
