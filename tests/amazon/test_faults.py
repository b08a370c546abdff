"""Each injected fault ends in the right taxonomy error, and the next call recovers."""

from __future__ import annotations

import logging

import pytest
import requests

from integration.amazon.client import AmazonClient
from integration.errors import Permanent, Transient
from tests.amazon.conftest import sandbox, settings_for


def first_order(sim) -> str:
    return sandbox(sim, "orders")["orders"][0]["orderId"]


def fault(sim, kind: str, count: int = 1, **extra) -> None:
    sandbox(sim, "faults", {"rules": [{"op": "getOrder", "kind": kind, "count": count, **extra}]})


@pytest.mark.parametrize("kind, status", [("500", 500), ("503", 503)])
def test_server_errors_are_transient_then_recover(sim, client, kind, status):
    order_id = first_order(sim)
    fault(sim, kind)
    with pytest.raises(Transient) as err:
        client.orders.get(order_id)
    assert err.value.details["status"] == status and err.value.details["request_id"]
    assert client.orders.get(order_id)["orderId"] == order_id


def test_a_429_drains_the_local_bucket_and_is_transient(sim, client, r):
    order_id = first_order(sim)
    fault(sim, "429")
    with pytest.raises(Transient) as err:
        client.orders.get(order_id)
    assert err.value.details["status"] == 429 and err.value.retry_after > 0
    limiter = client.transport.limiter
    assert limiter.tokens("getOrder") < 1
    with pytest.raises(Transient) as again:  # our own limiter now holds the worker back, no request is sent
        client.orders.get(order_id)
    assert again.value.details.get("throttled") is True
    assert sandbox(sim, "requests")["operations"]["getOrder"]["count"] == 1


def test_an_expired_token_403_refreshes_once_and_retries(sim, client):
    order_id = first_order(sim)
    client.orders.get(order_id)
    fault(sim, "expired_token")
    assert client.orders.get(order_id)["orderId"] == order_id  # no error reaches the caller
    assert sandbox(sim, "requests")["operations"]["lwa:refresh_token"]["count"] == 2


def test_a_token_expired_on_the_simulated_clock_is_refreshed(sim, client, r):
    order_id = first_order(sim)
    client.orders.get(order_id)
    sandbox(sim, "clock", {"advance_seconds": 7200})  # the cached token is now expired at Amazon
    assert client.orders.get(order_id)["orderId"] == order_id


def test_a_403_that_persists_is_permanent(sim, client):
    fault(sim, "forbidden", count=5)   # a fresh token refused too: a permission, not the token
    with pytest.raises(Permanent, match="403"):
        client.orders.get(first_order(sim))


def test_a_body_cut_short_is_transient_with_the_raw_body(sim, client):
    """Not JSON at all (a connection cut mid-body): retried like a 5xx; the next answer is whole."""
    order_id = first_order(sim)
    fault(sim, "malformed")
    with pytest.raises(Transient, match="not JSON") as err:
        client.orders.get(order_id)
    assert err.value.details["raw"].startswith('{"orders"')
    assert client.orders.get(order_id)["orderId"] == order_id


def test_a_hang_past_the_client_timeout_is_transient(sim, r, redis_url):
    client = AmazonClient.from_settings(settings_for(sim, redis_url, SPAPI_HTTP_TIMEOUT="0.3"), r,
                                        session=requests.Session())
    order_id = first_order(sim)
    fault(sim, "hang", seconds=1.0)
    with pytest.raises(Transient, match="timed out"):
        client.orders.get(order_id)
    assert client.orders.get(order_id)["orderId"] == order_id


def test_latency_slows_but_does_not_fail(sim, client):
    fault(sim, "latency", count=2, latency_ms=[50, 60])
    order_id = first_order(sim)
    assert client.orders.get(order_id)["orderId"] == order_id


def test_a_refused_connection_is_transient(r, redis_url, sim):
    from types import SimpleNamespace

    dead = SimpleNamespace(url="http://127.0.0.1:9", clock=sim.clock)
    s = settings_for(dead, redis_url, LWA_TOKEN_URL=sim.url + "/auth/o2/token")
    client = AmazonClient.from_settings(s, r, session=requests.Session())
    with pytest.raises(Transient, match="connection"):
        client.orders.get("111-0000000-0000000")


def test_bad_credentials_stop_calls_and_never_echo_the_secret(sim, r, redis_url, caplog):
    caplog.set_level(logging.DEBUG)
    client = AmazonClient.from_settings(settings_for(sim, redis_url, LWA_CLIENT_SECRET="s3cr3t-wrong-value"), r,
                                        session=requests.Session())
    with pytest.raises(Transient, match="invalid_client") as err:   # a wait for a person (tests/amazon/test_auth.py)
        client.orders.get(first_order(sim))
    assert "s3cr3t" not in str(err.value) and "s3cr3t" not in repr(err.value.to_dict())
    assert "s3cr3t" not in caplog.text


def test_global_fault_rate_applies_to_every_operation(sim, client):
    sandbox(sim, "faults", {"rules": [{"op": "*", "kind": "503", "rate": 1.0, "count": 2}]})
    with pytest.raises(Transient):
        client.sellers.marketplaces()
    with pytest.raises(Transient):
        client.orders.get(first_order(sim))
    assert client.sellers.marketplaces()


def test_repeated_server_errors_open_the_breaker_and_calls_stop_reaching_amazon(sim, r, redis_url):
    from integration.guard.breaker import CircuitOpen

    client = AmazonClient.from_settings(settings_for(sim, redis_url, BREAKER_MIN_CALLS="3", BREAKER_RESET_TIMEOUT="60"),
                                        r, session=requests.Session())
    order_id = first_order(sim)
    fault(sim, "503", count=3)
    for _ in range(3):
        with pytest.raises(Transient):
            client.orders.get(order_id)
    with pytest.raises(CircuitOpen) as err:
        client.orders.get(order_id)
    assert err.value.retry_after > 0
    assert sandbox(sim, "requests")["operations"]["getOrder"]["count"] == 3
