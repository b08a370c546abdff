"""A seller who did not grant the Direct-to-Consumer Delivery role: Amazon sends MFN orders without the ship-to name
and street. None becomes an SL order without an address: each is held naming the role, with one alert for the
seller; FBA orders go through. Once the role is granted, releasing the holds imports them, each once.
A real worker, the simulator over HTTP (roles changed through /_sandbox/roles), SQLite SL, the CLI's release."""

from __future__ import annotations

import time

import requests
from click.testing import CliRunner

from integration.amazon import roles
from integration.commands.holds import holds
from integration.sl.sandbox import count
from integration.sync import orders
from tests.orders.conftest import sku_known, wait_until
from tests.support import alerts
from workers.tasks.orders import enqueue_imports

ROLE = roles.DIRECT_TO_CONSUMER_DELIVERY


def _roles(sim, **change) -> list[str]:
    resp = requests.post(f"{sim.url}/_sandbox/roles", json=change, timeout=10)
    resp.raise_for_status()
    return resp.json()["roles"]


def _sweep(ctx) -> None:
    assert orders.sweep(ctx, enqueue=enqueue_imports).done


def _open_holds(ctx) -> dict[str, object]:
    return {h.key: h for h in ctx.sl.list_holds(entity="order", status="OPEN")}


def _sales_orders(ctx, oid: str) -> int:
    return count(ctx.sl.db, "SOHeader", {"CustOrdNbr": oid})


def test_mfn_orders_wait_for_the_delivery_role_then_import_once_with_their_address(ctx, sim, worker, r):
    assert ROLE not in _roles(sim, revoke=[ROLE])
    mfn = [sim.create_order([{"sku": sku_known(ctx), "quantity": q}])["orderId"] for q in (1, 2, 3)]
    afn = [sim.create_order([{"sku": sku_known(ctx, "AFN"), "quantity": 1}], fulfillment="AFN")["orderId"]
           for _ in range(2)]
    for oid in afn:
        sim.change(oid, "ship")                  # Amazon shipped them: created and invoiced in SL
    sim.advance(180)                             # the orders are older than the sweep's 2-minute margin

    _sweep(ctx)
    held = wait_until(lambda: _open_holds(ctx) if set(_open_holds(ctx)) >= set(mfn) else None, timeout=60,
                      what="a hold for every MFN order")
    wait_until(lambda: all(ctx.sl.get_order_binding(oid) for oid in afn), timeout=60, what="the FBA orders in SL")
    assert set(held) == set(mfn)
    for oid in mfn:
        hold = held[oid]
        assert hold.reason == "missing_field" and ROLE in hold.message
        assert "recipient.deliveryAddress.name" in hold.message and "addressLine1" in hold.message
        assert hold.payload["error"]["details"]["role"] == ROLE
        assert ctx.sl.get_order_binding(oid) is None and _sales_orders(ctx, oid) == 0
    sent = alerts.recorded(r)
    assert [a["subject"] for a in sent] == [f"Amazon role missing: {ROLE}"]     # one for the seller, not per order
    assert sent[0]["seller_id"] == ctx.settings.seller_id and "release --reason missing_field" in sent[0]["message"]

    _sweep(ctx)                                  # a later sweep leaves held orders alone: no new hold, no new alert
    time.sleep(1.0)
    assert set(_open_holds(ctx)) == set(mfn) and len(alerts.recorded(r)) == 1

    assert ROLE in _roles(sim, grant=[ROLE])
    result = CliRunner().invoke(holds, ["release", "--reason", "missing_field", "--note", "role granted"])
    assert result.exit_code == 0, result.output
    assert "3 hold(s) with reason missing_field released" in result.output
    wait_until(lambda: all(ctx.sl.get_order_binding(oid) for oid in mfn), timeout=60, what="the MFN orders in SL")
    truth = sim.sim.state.orders
    for oid in mfn:
        head = ctx.sl.sales_order(ctx.sl.get_order_binding(oid).ord_nbr)
        address = truth[oid]["address"]
        assert head["ShipName"].strip() and head["ShipAddr1"].startswith(address["addressLine1"][:12])
    _sweep(ctx)                                  # nothing is imported twice
    time.sleep(1.5)
    assert [_sales_orders(ctx, oid) for oid in mfn + afn] == [1] * 5
    assert _open_holds(ctx) == {} and len(alerts.recorded(r)) == 1


def test_an_order_without_street_or_name_is_never_created_even_when_shipped_by_amazon_it_is(ctx, sim, r):
    """In process: an MFN order is held (alert once however many), an AFN order of the same seller is not."""
    _roles(sim, revoke=[ROLE])
    first = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])["orderId"]
    second = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])["orderId"]
    fba = sim.create_order([{"sku": sku_known(ctx, "AFN"), "quantity": 1}], fulfillment="AFN")["orderId"]
    sim.change(fba, "ship")
    outcomes = [orders.import_order(oid, ctx, fresh=True) for oid in (first, second, fba)]
    assert [(o.value, o.detail) for o in outcomes] == [("held", "missing_field"), ("held", "missing_field"),
                                                       ("invoiced", "")]
    assert [a["subject"] for a in alerts.recorded(r)] == [f"Amazon role missing: {ROLE}"]
    head = ctx.sl.sales_order(outcomes[2].ord_nbr)
    assert head["ShipAddr1"].strip() == ""      # Amazon ships FBA orders: SL needs no street for them


def test_an_operation_role_never_granted_holds_the_order_naming_it_without_a_refresh_loop(ctx, sim, worker, r):
    """Without Inventory and Order Tracking, getOrder answers 403 whatever the token: one refresh, one retry, then
    a hold ``missing_role`` naming the role and one alert for the seller; granted and released -> imported once."""
    from workers.app import app

    needed = roles.INVENTORY_AND_ORDER_TRACKING
    oids = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])["orderId"] for _ in range(3)]
    assert needed not in _roles(sim, revoke=[needed])
    for oid in oids:
        app.send_task("slsync.orders.import", args=[oid], queue="sl")
    held = wait_until(lambda: {h.key: h for h in ctx.sl.list_holds(reason="missing_role", status="OPEN")}
                      if len(ctx.sl.list_holds(reason="missing_role", status="OPEN")) == 3 else None,
                      timeout=60, what="a missing_role hold for each order")
    assert set(held) == set(oids)
    assert all(needed in h.message for h in held.values())
    calls = sim.requests()["operations"]["getOrder"]["statuses"]
    assert set(calls) == {"403"} and calls["403"] <= 6    # per order at most the call and one retry: no loop
    role_alerts = [a for a in alerts.recorded(r) if a["subject"].startswith("Amazon refuses getOrder")]
    assert len(role_alerts) == 1 and needed in role_alerts[0]["subject"]
    assert all(ctx.sl.get_order_binding(oid) is None for oid in oids)

    _roles(sim, grant=[needed])
    result = CliRunner().invoke(holds, ["release", "--reason", "missing_role", "--note", "role granted"])
    assert result.exit_code == 0, result.output
    wait_until(lambda: all(ctx.sl.get_order_binding(oid) for oid in oids), timeout=60, what="the orders in SL")
    assert [_sales_orders(ctx, oid) for oid in oids] == [1, 1, 1]
