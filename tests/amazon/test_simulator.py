"""The simulator on its own: deterministic seller, catalog for the SL sandbox, scaled limits, fault flags,
notification delivery order."""

from __future__ import annotations

import pytest
import requests

from integration.sandbox.amazon.catalog import catalog
from integration.sandbox.amazon.faults import parse_flag
from tests.amazon.conftest import make_sim, sandbox


def test_the_catalog_is_deterministic_and_maps_most_skus_to_sl_items():
    rows = catalog(1)
    assert rows == catalog(1)
    assert [(r["sku"], r["sl_invtid"], r["fulfillment"]) for r in rows] == \
        [(r["sku"], r["sl_invtid"], r["fulfillment"]) for r in catalog(7)]  # structure is seed-independent
    direct = [r for r in rows if r["sku"] == r["sl_invtid"]]
    crossed = [r for r in rows if r["sl_invtid"] and r["sku"] != r["sl_invtid"]]
    unknown = [r for r in rows if r["sl_invtid"] is None]
    assert len(direct) > len(crossed) > 0 and unknown
    assert {r["fulfillment"] for r in rows} == {"MFN", "AFN"}
    assert all(r["sl_invtid"].startswith("WIDGET-") for r in direct + crossed)


def test_the_same_seed_gives_the_same_orders():
    a, b = make_sim(seed=3, orders=20), make_sim(seed=3, orders=20)
    try:
        ids = lambda s: [(o["orderId"], o["items"]) for o in sandbox(s, "orders")["orders"]]  # noqa: E731
        assert ids(a) == ids(b)
    finally:
        a.stop()
        b.stop()


def test_seeded_orders_look_like_real_ones():
    sim = make_sim(seed=1, orders=120)
    try:
        orders = sim.state.orders.values()
        assert {o["channel"] for o in orders} == {"MFN", "AFN"}
        assert any(len(o["items"]) >= 3 for o in orders) and any(i["qty"] > 1 for o in orders for i in o["items"])
        assert any(o["business"] and o["buyer"].get("buyerPurchaseOrderNumber") for o in orders)
        assert any(o["prime"] for o in orders) and any(i["gift"] for o in orders for i in o["items"])
        assert any(i["promo"] for o in orders for i in o["items"])
        assert any(o["address"].get("addressLine3") for o in orders)
        assert len({o["address"]["countryCode"] for o in orders}) >= 3
        assert any(not o["address"]["name"].isascii() for o in orders)
        assert any(o["status"] == "CANCELLED" for o in orders)
    finally:
        sim.stop()


def test_the_rate_header_is_the_published_rate_times_the_time_scale(sim):
    token = requests.post(sim.url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-refresh-token", "client_id": "sandbox-client",
        "client_secret": "sandbox-secret"}, timeout=5).json()["access_token"]
    order_id = sandbox(sim, "orders")["orders"][0]["orderId"]
    resp = requests.get(f"{sim.url}/orders/2026-01-01/orders/{order_id}", headers={"x-amz-access-token": token},
                        timeout=5)
    assert float(resp.headers["x-amzn-RateLimit-Limit"]) == pytest.approx(0.5 * sim.clock.scale)


@pytest.mark.parametrize("flag, rule", [("getOrder:503:0.2", {"op": "getOrder", "kind": "503", "rate": 0.2}),
                                        ("*:latency", {"op": "*", "kind": "latency"})])
def test_fault_flags_parse(flag, rule):
    assert parse_flag(flag) == rule


def test_a_bad_fault_flag_is_refused():
    with pytest.raises(ValueError, match="op:kind"):
        parse_flag("getOrder:teapot")


def test_notifications_can_arrive_out_of_order(sim, sink):
    sim.state.destinations["d"] = {"name": "eb", "destinationId": "d", "resource": {"eventBridge": {
        "name": "aws.partner/x", "region": "us-east-1", "accountId": "123456789012"}}}
    sim.state.subscriptions["LISTINGS_ITEM_STATUS_CHANGE"] = {"subscriptionId": "s", "payloadVersion": "1.0",
                                                              "destinationId": "d"}
    sandbox(sim, "notifications", {"target": sink.url, "reorder": 1.0})
    for n in (1, 2):  # with reorder=1 the first is held back until the second has gone
        sim.outbox.publish("LISTINGS_ITEM_STATUS_CHANGE", {"n": n})
    got = sink.wait_for(2)
    assert [m["detail"]["Payload"]["n"] for m in got] == [2, 1]
    sim.violations.clear()  # the hand-made payloads above are deliberately not ORDER_CHANGE-shaped


def test_the_catalog_is_served_for_other_sandboxes(sim):
    assert sandbox(sim, "catalog")["catalog"] == catalog(1)
