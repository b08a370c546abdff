"""Breakers per operation family against the simulator over HTTP: a 10% 5xx rate on getOrder never opens the orders
breaker; a getOrder outage opens it and stops getOrder/searchOrders, while confirmShipment (its own family) goes on."""

from __future__ import annotations

import pytest
import requests

from integration.amazon.client import AmazonClient
from integration.errors import Transient
from integration.guard.breaker import CircuitOpen, all_states
from tests.amazon.conftest import make_sim, sandbox, settings_for


@pytest.fixture
def fast_sim():
    """No rate limits at Amazon, and a clock fast enough that our own fleet bucket never holds a call back."""
    s = make_sim(rate_limits=False, time_scale=3600.0)
    yield s
    s.stop()
    assert s.violations == [], s.violations[:5]


def _client(sim, r, redis_url):
    s = settings_for(sim, redis_url, BREAKER_MIN_CALLS="20", BREAKER_FAILURE_RATE="0.5", BREAKER_WINDOW="60",
                     BREAKER_RESET_TIMEOUT="60")
    return AmazonClient.from_settings(s, r, session=requests.Session())


def test_a_ten_percent_500_rate_on_get_order_leaves_the_orders_breaker_closed(fast_sim, r, redis_url):
    client = _client(fast_sim, r, redis_url)
    order_id = sandbox(fast_sim, "orders")["orders"][0]["orderId"]
    fast_sim.faults.set([{"op": "getOrder", "kind": "500", "rate": 0.1}])
    failed = 0
    for _ in range(200):
        try:
            client.orders.get(order_id)
        except CircuitOpen:
            pytest.fail("a 10% error rate opened the orders breaker")
        except Transient as exc:
            assert exc.details["status"] == 500
            failed += 1
    assert 8 <= failed <= 40, failed        # the faults did fire, at about their rate
    assert sandbox(fast_sim, "requests")["operations"]["getOrder"]["count"] >= 200   # + a 403 refresh or so
    assert all_states(r)["amazon.orders"] == "closed"


def test_an_orders_outage_opens_its_breaker_and_confirm_shipment_still_goes_through(fast_sim, r, redis_url):
    client = _client(fast_sim, r, redis_url)
    order_id = sandbox(fast_sim, "orders")["orders"][0]["orderId"]
    fast_sim.faults.set([{"op": "getOrder", "kind": "500"}])
    failed = 0
    while True:
        with pytest.raises(Transient) as err:
            client.orders.get(order_id)
        if isinstance(err.value, CircuitOpen):
            rejected = err
            break
        failed += 1
        assert failed <= 20, "20 failed calls out of 20 did not open the breaker"
    assert failed >= 19    # BREAKER_MIN_CALLS (a token refresh on the fast clock may count as one success)
    assert rejected.value.retry_after > 0 and rejected.value.details["breaker"] == "amazon.orders"
    with pytest.raises(CircuitOpen):          # the whole family waits: searchOrders too
        list(client.orders.search(created_after="2020-01-01T00:00:00Z"))
    assert sandbox(fast_sim, "requests")["operations"]["getOrder"]["count"] <= 21   # nothing more reached Amazon

    order = sandbox(fast_sim, "orders", {"lines": [{"sku": "WIDGET-0001", "quantity": 1}]})
    client.orders.confirm_shipment(order["orderId"], marketplace_id="ATVPDKIKX0DER", package_reference_id=1,
                                   carrier_code="UPS", tracking_number="1Z999AA10123456784",
                                   ship_date=sandbox(fast_sim, "clock")["now"],
                                   items=[(order["orderItems"][0]["orderItemId"], 1)])
    assert len(sandbox(fast_sim, "shipment-confirmations")["confirmations"]) == 1
    states = all_states(r)
    assert states["amazon.orders"] == "open" and states["amazon.shipments"] == "closed"
    assert states["amazon"] == "open"


def test_status_shows_each_family(fast_sim, r, redis_url, fresh_settings, monkeypatch, tmp_path):
    import json

    from click.testing import CliRunner

    from integration.commands.status import status

    client = _client(fast_sim, r, redis_url)
    fast_sim.faults.set([{"op": "getOrder", "kind": "503"}])
    order_id = sandbox(fast_sim, "orders")["orders"][0]["orderId"]
    for _ in range(20):
        with pytest.raises(Transient):
            client.orders.get(order_id)
    monkeypatch.setenv("SL_DSN", f"sqlite:///{tmp_path}/sl.db")
    fresh_settings.cache_clear()
    out = CliRunner().invoke(status, ["--json"])
    assert out.exit_code == 0, out.output
    breakers = json.loads(out.output)["breakers"]
    assert breakers["amazon.orders"] == "open" and breakers["amazon.shipments"] == "closed"
    assert {"amazon", "amazon.reports", "amazon.feeds", "amazon.listings", "amazon.notifications", "amazon.fba",
            "amazon.lwa", "sl"} <= set(breakers)
