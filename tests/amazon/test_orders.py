"""The client against the simulator over HTTP: Orders v2026 searchOrders / getOrder and v0 confirmShipment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integration.errors import Permanent
from integration.timeutil import parse_amazon_time
from tests.amazon.conftest import sandbox


def now_of(sim):
    return parse_amazon_time(sandbox(sim, "clock")["now"])


def test_search_pages_through_every_order_in_the_window(sim, client):
    until = now_of(sim) - timedelta(minutes=3)
    found = list(client.orders.search(created_after=until - timedelta(days=30), created_before=until, page_size=7))
    expected = [o for o in sandbox(sim, "orders")["orders"] if parse_amazon_time(o["createdTime"]) <= until]
    assert sorted(o["orderId"] for o in found) == sorted(o["orderId"] for o in expected)
    assert len(found) > 7  # really paginated
    assert sim.violations == []


def test_search_filters_by_status_and_channel(sim, client):
    until = now_of(sim) - timedelta(minutes=3)
    rows = list(client.orders.search(last_updated_after=until - timedelta(days=30), last_updated_before=until,
                                     statuses=["SHIPPED"], fulfilled_by=["AMAZON"]))
    assert rows and all(o["fulfillment"]["fulfillmentStatus"] == "SHIPPED" for o in rows)
    assert all(o["fulfillment"]["fulfilledBy"] == "AMAZON" for o in rows)


def test_get_order_returns_the_official_shape_with_items(sim, client, models):
    order_id = sandbox(sim, "orders")["orders"][0]["orderId"]
    order = client.orders.get(order_id)
    assert order["orderId"] == order_id and order["orderItems"]
    assert models.validate_response("getOrder", 200, {"order": order}) == []


def test_a_window_ending_less_than_two_minutes_ago_is_refused(sim, client):
    now = now_of(sim)
    with pytest.raises(Permanent) as err:
        list(client.orders.search(created_after=now - timedelta(days=1), created_before=now))
    assert err.value.details["status"] == 400
    assert err.value.details["errors"][0]["code"] == "InvalidInput"


def test_page_size_over_100_is_refused(sim, client):
    now = now_of(sim)
    with pytest.raises(Permanent) as err:
        list(client.orders.search(created_after=now - timedelta(days=1), page_size=101))
    assert err.value.details["status"] == 400  # Amazon's generic message; which parameter is in the details
    assert "maxResultsPerPage" in err.value.details["errors"][0]["details"]


def test_an_expired_pagination_token_is_refused(sim, client):
    now = now_of(sim) - timedelta(minutes=3)
    pages = client.orders.search(created_after=now - timedelta(days=30), created_before=now, page_size=2)
    next(pages), next(pages)  # first page read
    sandbox(sim, "clock", {"advance_seconds": 25 * 3600})
    with pytest.raises(Permanent, match="paginationToken"):
        list(pages)


def an_order(sim, lines=(("WIDGET-0001", 3), ("WIDGET-0002", 2)), **spec):
    return sandbox(sim, "orders", {"lines": [{"sku": s, "quantity": q} for s, q in lines], **spec})


def test_confirm_shipment_ships_the_order_partially_then_fully(sim, client):
    order = an_order(sim)
    first, second = order["orderItems"]
    ship = dict(marketplace_id="ATVPDKIKX0DER", carrier_code="UPS", tracking_number="1Z999", ship_date=now_of(sim))
    client.orders.confirm_shipment(order["orderId"], package_reference_id=1, items=[(first["orderItemId"], 1)], **ship)
    assert client.orders.get(order["orderId"])["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    client.orders.confirm_shipment(order["orderId"], package_reference_id=2,
                                   items=[(first["orderItemId"], 2), (second["orderItemId"], 2)], **ship)
    got = client.orders.get(order["orderId"])
    assert got["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [p["trackingNumber"] for p in got["packages"]] == ["1Z999", "1Z999"]
    assert len(sandbox(sim, "shipment-confirmations")["confirmations"]) == 2


@pytest.mark.parametrize("item, qty, message", [("99999999999999", 1, "not part of"), (None, 4, "exceeds")])
def test_confirm_shipment_refuses_unknown_items_and_excess_quantity(sim, client, item, qty, message):
    order = an_order(sim)
    item = item or order["orderItems"][0]["orderItemId"]
    with pytest.raises(Permanent, match=message) as err:
        client.orders.confirm_shipment(order["orderId"], marketplace_id="ATVPDKIKX0DER", package_reference_id=1,
                                       carrier_code="UPS", tracking_number="1Z", ship_date=now_of(sim),
                                       items=[(item, qty)])
    assert err.value.details["request_id"]


def test_orders_move_through_their_lifecycle_on_the_simulated_clock(sim, client):
    pending = an_order(sim, status="PENDING", fulfillment="AFN", lines=(("WIDGET-0004", 2),))
    assert client.orders.get(pending["orderId"])["fulfillment"]["fulfillmentStatus"] == "PENDING"
    sandbox(sim, f"orders/{pending['orderId']}/status", {"action": "release"})
    assert client.orders.get(pending["orderId"])["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    sandbox(sim, f"orders/{pending['orderId']}/status", {"action": "ship"})
    assert client.orders.get(pending["orderId"])["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    cancelled = an_order(sim)
    sandbox(sim, f"orders/{cancelled['orderId']}/status", {"action": "cancel"})
    got = client.orders.get(cancelled["orderId"])
    assert got["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert got["orderItems"][0]["cancellation"]["cancellationExecution"]["cancelledBy"] == "BUYER"


def test_seeded_orders_evolve_as_the_clock_advances(sim):
    before = {o["orderId"]: o["status"] for o in sandbox(sim, "orders")["orders"]}
    sandbox(sim, "clock", {"advance_seconds": 2 * 86400})
    after = {o["orderId"]: o["status"] for o in sandbox(sim, "orders")["orders"]}
    assert len(after) > len(before)  # new orders arrived
    assert any(before[k] != after[k] for k in before)  # and some moved on
