"""``slsync amazon check`` infers the roles a seller granted, and says that it inferred them."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from integration.amazon import roles
from integration.cli import main
from tests.amazon.conftest import make_sim
from tests.amazon.test_cli import env_for


def _check(sim, redis_url, monkeypatch, fresh_settings) -> list[str]:
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "check"])
    assert result.exit_code == 0, result.output
    assert "credentials OK" in result.output and "inferred" in result.output.splitlines()[
        next(i for i, line in enumerate(result.output.splitlines()) if line.startswith("roles"))]
    return result.output.splitlines()


def _line(lines: list[str], role: str) -> str:
    return next(line for line in lines if line.strip().startswith(role))


@pytest.fixture
def limited_sim():
    """A seller who granted order tracking, FBA and listings, but neither delivery nor finance."""
    s = make_sim(orders=40, roles=[roles.INVENTORY_AND_ORDER_TRACKING, roles.TAX_INVOICING, roles.AMAZON_FULFILLMENT,
                                   roles.PRODUCT_LISTING])
    yield s
    s.stop()
    assert s.violations == [], s.violations[:5]


def test_check_reports_a_missing_delivery_role_and_a_403_as_inferred(limited_sim, r, redis_url, monkeypatch,
                                                                     fresh_settings):
    lines = _check(limited_sim, redis_url, monkeypatch, fresh_settings)
    delivery = _line(lines, roles.DIRECT_TO_CONSUMER_DELIVERY)
    assert "missing (inferred: order " in delivery and "recipient.deliveryAddress.name" in delivery
    assert "missing (inferred: 403 on getReports)" in _line(lines, roles.FINANCE_AND_ACCOUNTING)
    assert "granted (inferred: searchOrders" in _line(lines, roles.INVENTORY_AND_ORDER_TRACKING)
    assert "granted (inferred: order " in _line(lines, roles.TAX_INVOICING)
    assert "granted (inferred: getInventorySummaries" in _line(lines, roles.AMAZON_FULFILLMENT)
    assert "granted (inferred: getListingsItem" in _line(lines, roles.PRODUCT_LISTING)
    assert "not checked" in _line(lines, roles.SELLING_PARTNER_INSIGHTS)
    assert any("slsync holds release --reason missing_field" in line for line in lines)
    # one probe each: searchOrders (one request per 180 s after a burst) once; a 403 may be tried once more by the
    # client with a fresh token, never again
    calls = {op: v["count"] for op, v in limited_sim.stats.snapshot()["operations"].items()}
    assert calls["searchOrders"] == calls["getInventorySummaries"] == calls["getListingsItem"] == 1
    assert calls["getReports"] in (1, 2)


def test_check_without_order_tracking_cannot_tell_the_buyer_data_roles(r, redis_url, monkeypatch, fresh_settings):
    sim = make_sim(orders=40, roles=[roles.DIRECT_TO_CONSUMER_DELIVERY])
    try:
        lines = _check(sim, redis_url, monkeypatch, fresh_settings)
    finally:
        sim.stop()
    assert "missing (inferred: 403 on searchOrders)" in _line(lines, roles.INVENTORY_AND_ORDER_TRACKING)
    assert "unknown (no order to look at; searchOrders: inferred: 403" in _line(lines, roles.DIRECT_TO_CONSUMER_DELIVERY)
    assert sim.violations == []


def test_check_with_no_order_to_look_at_says_unknown(r, redis_url, monkeypatch, fresh_settings):
    sim = make_sim(orders=0)
    try:
        lines = _check(sim, redis_url, monkeypatch, fresh_settings)
    finally:
        sim.stop()
    assert "unknown (no order to look at" in _line(lines, roles.DIRECT_TO_CONSUMER_DELIVERY)
    assert "granted (inferred: getReports" in _line(lines, roles.FINANCE_AND_ACCOUNTING)
