"""The simulator's roles: what a seller did not grant, Amazon leaves out (buyer data) or refuses (403 Unauthorized,
the body Amazon sends); every response still conforms to the official model."""

from __future__ import annotations

import pytest
import requests

from integration.amazon import roles
from integration.sandbox.amazon import roles as sim_roles
from tests.amazon.conftest import make_sim, sandbox

STREET_AND_NAME = {"name", "companyName", "addressLine1", "addressLine2", "addressLine3", "phone", "addressType"}


@pytest.fixture
def no_delivery_sim():
    s = make_sim(orders=40, roles=[r for r in roles.ALL if r != roles.DIRECT_TO_CONSUMER_DELIVERY])
    yield s
    s.stop()
    assert s.violations == [], s.violations[:5]


def _token(sim) -> str:
    return requests.post(sim.url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-refresh-token", "client_id": "sandbox-client",
        "client_secret": "sandbox-secret"}, timeout=5).json()["access_token"]


def _get(sim, path: str, token: str, **params) -> requests.Response:
    return requests.get(sim.url + path, params=params, headers={"x-amz-access-token": token}, timeout=5)


def _shipped_to(sim) -> str:
    """An MFN order Amazon has an address for (not pending, not cancelled)."""
    return next(o["orderId"] for o in sandbox(sim, "orders")["orders"]
                if o["channel"] == "MFN" and o["status"] in ("UNSHIPPED", "SHIPPED", "PARTIALLY_SHIPPED"))


def test_without_the_delivery_role_the_address_keeps_only_city_region_postcode_and_country(no_delivery_sim):
    sim, token = no_delivery_sim, _token(no_delivery_sim)
    oid = _shipped_to(sim)
    full = sim.state.orders[oid]["address"]
    assert full.get("name") and full.get("addressLine1")       # the seller's buyer has them; Amazon withholds them
    order = _get(sim, f"/orders/2026-01-01/orders/{oid}", token, includedData="RECIPIENT,BUYER").json()["order"]
    address = order["recipient"]["deliveryAddress"]
    assert not STREET_AND_NAME & set(address)
    assert address == {k: full[k] for k in ("city", "stateOrRegion", "postalCode", "countryCode") if k in full}
    assert order["buyer"]["buyerName"] == sim.state.orders[oid]["buyer"]["buyerName"]   # the tax role is granted
    found = _get(sim, "/orders/2026-01-01/orders", token, createdAfter="2000-01-01T00:00:00Z",
                 includedData="RECIPIENT").json()["orders"]
    assert found and all(not STREET_AND_NAME & set(o["recipient"]["deliveryAddress"]) for o in found if "recipient" in o)

    assert sandbox(sim, "roles", {"grant": [roles.DIRECT_TO_CONSUMER_DELIVERY]})["roles"] == list(roles.ALL)
    order = _get(sim, f"/orders/2026-01-01/orders/{oid}", token, includedData="RECIPIENT").json()["order"]
    assert order["recipient"]["deliveryAddress"] == full


def test_without_the_tax_role_the_buyer_has_no_name_company_or_po(no_delivery_sim):
    sim, token = no_delivery_sim, _token(no_delivery_sim)
    sandbox(sim, "roles", {"revoke": ["tax"]})
    business = next(o for o in sim.state.orders.values() if o["business"] and o["channel"] == "MFN")
    order = _get(sim, f"/orders/2026-01-01/orders/{business['id']}", token, includedData="BUYER").json()["order"]
    assert set(order["buyer"]) == {"buyerEmail"}


def test_an_operation_without_its_role_answers_amazons_403_and_others_still_work(no_delivery_sim):
    sim, token = no_delivery_sim, _token(no_delivery_sim)
    assert sandbox(sim, "roles", {"roles": ["inventory and order tracking"]})["roles"] == \
        [roles.INVENTORY_AND_ORDER_TRACKING]
    denied = _get(sim, "/reports/2021-06-30/reports", token, reportTypes="GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2")
    assert (denied.status_code, denied.json()) == (403, {"errors": [{
        "code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]})
    assert _get(sim, "/fba/inventory/v1/summaries", token, granularityType="Marketplace",
                granularityId="ATVPDKIKX0DER", marketplaceIds="ATVPDKIKX0DER").status_code == 403
    assert _get(sim, "/sellers/v1/marketplaceParticipations", token).status_code == 200   # needs no role
    # Reports: the type's role decides. The all-orders report is an order report (Inventory and Order Tracking)
    report = requests.post(sim.url + "/reports/2021-06-30/reports", headers={"x-amz-access-token": token}, timeout=5,
                           json={"reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                                 "marketplaceIds": ["ATVPDKIKX0DER"]})
    assert report.status_code == 202
    assert _get(sim, f"/reports/2021-06-30/reports/{report.json()['reportId']}", token).status_code == 200
    settlement = next(r for r in sim.state.reports.values() if r["reportType"].startswith("GET_V2_SETTLEMENT"))
    assert _get(sim, f"/reports/2021-06-30/reports/{settlement['reportId']}", token).status_code == 403
    assert _get(sim, f"/orders/2026-01-01/orders/{_shipped_to(sim)}", token).status_code == 200


def test_an_unknown_role_is_refused_with_the_names_it_knows(no_delivery_sim):
    resp = requests.post(no_delivery_sim.url + "/_sandbox/roles", json={"grant": ["Shipping Wizard"]}, timeout=5)
    assert resp.status_code == 400 and roles.DIRECT_TO_CONSUMER_DELIVERY in resp.json()["errors"][0]["message"]
    assert roles.DIRECT_TO_CONSUMER_DELIVERY not in sandbox(no_delivery_sim, "roles")["roles"]


def test_role_names_on_the_command_line():
    assert sim_roles.parse("all") == sim_roles.ALL and sim_roles.parse("none") == ()
    assert sim_roles.parse("Inventory and Order Tracking, delivery,direct-to-consumer-delivery-restricted") == \
        (sim_roles.INVENTORY_AND_ORDER_TRACKING, sim_roles.DIRECT_TO_CONSUMER_DELIVERY)
    with pytest.raises(ValueError, match="unknown role 'a'"):
        sim_roles.parse("a")   # in more than one role's name


def test_amazon_sim_refuses_a_role_it_does_not_know_before_it_starts():
    from click.testing import CliRunner

    from integration.commands.amazon_sim import amazon_sim

    result = CliRunner().invoke(amazon_sim, ["--port", "0", "--roles", "inventory,shipping wizard"])
    assert result.exit_code == 2 and "unknown role 'shipping wizard'" in result.output
