"""A 10% 5xx rate on getOrder slows orders and never stops shipments: a real worker, the simulator's faults over
HTTP; each Amazon operation family has its own breaker, opening on a failure rate, not on five failures."""

from __future__ import annotations

from integration.guard.breaker import all_states
from integration.sandbox import sl_seed
from integration.sync import fulfillment, orders
from tests.orders.conftest import sku_known, wait_until
from workers.app import app


def test_ten_percent_getorder_failures_slow_orders_but_shipments_are_confirmed(ctx, sim, worker):
    from workers.tasks.fulfillment import enqueue_confirmations

    sku = sku_known(ctx)
    shippers = []
    for n in range(10):            # orders already in SL, shipped by the warehouse
        made = sim.create_order([{"sku": sku, "quantity": 1}])
        ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
        shippers.append(sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=[f"1Z999AA1{n:010d}"]))
    sim.faults([{"op": "getOrder", "kind": "500", "rate": 0.1}])
    new = [sim.create_order([{"sku": sku, "quantity": 1}])["orderId"] for _ in range(60)]
    for oid in new:                # each import reads the order with getOrder (no cached payload)
        app.send_task("slsync.orders.import", args=[oid], queue="sl")
    fulfillment.sweep(ctx, enqueue=enqueue_confirmations)
    wait_until(lambda: all((ctx.sl.get_shipment_binding(s) or {}).get("status") == "PUSHED" for s in shippers),
               timeout=120, what="every shipment confirmed")
    wait_until(lambda: all(ctx.sl.get_order_binding(oid) for oid in new), timeout=120, what="every order imported")
    assert len(sim.confirmations()) == 10
    statuses = sim.requests()["operations"]["getOrder"]["statuses"]
    assert int(statuses.get("500", 0)) > 0                   # the faults did fire
    states = all_states(ctx.redis)
    assert states["amazon.orders"] == "closed" and states["amazon.shipments"] == "closed"
    assert ctx.sl.list_holds(entity="order") == []            # slowed, retried, none given up
