"""Contract: every simulator response, success and error, validates against the official model of its
operation (Amazon's OpenAPI files, shipped in integration/amazon/models)."""

from __future__ import annotations

import pytest
import requests

from integration.sandbox.amazon.models import OPERATIONS
from tests.amazon.conftest import sandbox

OK_CALLS = {  # operation -> (method, path template, params, body)
    "searchOrders": ("GET", "/orders/2026-01-01/orders", {"createdAfter": "2020-01-01T00:00:00Z",
                                                          "includedData": "BUYER,RECIPIENT,PROCEEDS,PROMOTION,"
                                                          "CANCELLATION,FULFILLMENT,PACKAGES,TAX"}, None),
    "getOrder": ("GET", "/orders/2026-01-01/orders/{order}", {"includedData": "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"},
                 None),
    "getReports": ("GET", "/reports/2021-06-30/reports", {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"},
                   None),
    "createReport": ("POST", "/reports/2021-06-30/reports", None,
                     {"reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                      "marketplaceIds": ["ATVPDKIKX0DER"]}),
    "createFeedDocument": ("POST", "/feeds/2021-06-30/documents", None, {"contentType": "application/json"}),
    "getListingsItem": ("GET", "/listings/2021-08-01/items/A2SANDBOXSELLER/WIDGET-0001",
                        {"marketplaceIds": "ATVPDKIKX0DER",
                         "includedData": "summaries,attributes,issues,offers,fulfillmentAvailability"}, None),
    "patchListingsItem": ("PATCH", "/listings/2021-08-01/items/A2SANDBOXSELLER/WIDGET-0001",
                          {"marketplaceIds": "ATVPDKIKX0DER"},
                          {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/x",
                                                                  "value": [{"value": 1}]}]}),
    "getInventorySummaries": ("GET", "/fba/inventory/v1/summaries",
                              {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER",
                               "marketplaceIds": "ATVPDKIKX0DER", "details": "true"}, None),
    "getDestinations": ("GET", "/notifications/v1/destinations", None, None),
    "getMarketplaceParticipations": ("GET", "/sellers/v1/marketplaceParticipations", None, None),
}
ERROR_CALLS = {  # a request Amazon refuses: operation -> (method, path, params, body, status)
    "searchOrders": ("GET", "/orders/2026-01-01/orders", {"createdAfter": "2020-01-01T00:00:00Z",
                                                          "maxResultsPerPage": "101"}, None, 400),
    "getOrder": ("GET", "/orders/2026-01-01/orders/000-0000000-0000000", None, None, 404),
    "getReport": ("GET", "/reports/2021-06-30/reports/nope", None, None, 404),
    "createReport": ("POST", "/reports/2021-06-30/reports", None,
                     {"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "marketplaceIds": ["ATVPDKIKX0DER"]},
                     400),
    "getFeed": ("GET", "/feeds/2021-06-30/feeds/nope", None, None, 404),
    "getListingsItem": ("GET", "/listings/2021-08-01/items/A2SANDBOXSELLER/NOPE", {"marketplaceIds": "ATVPDKIKX0DER"},
                        None, 404),
    "getInventorySummaries": ("GET", "/fba/inventory/v1/summaries", {"granularityType": "Marketplace"}, None, 400),
    "getSubscription": ("GET", "/notifications/v1/subscriptions/ORDER_CHANGE", None, None, 404),
}


def grant(sim, scope: str | None = None) -> str:
    """A seller's access token, or with ``scope`` a grantless one (client_credentials) [reference §2.1]."""
    form = ({"grant_type": "client_credentials", "scope": scope} if scope else
            {"grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-refresh-token"})
    body = requests.post(sim.url + "/auth/o2/token", data={**form, "client_id": "sandbox-client",
                                                           "client_secret": "sandbox-secret"}, timeout=5).json()
    return body["access_token"]


@pytest.fixture
def token(sim):
    """op -> the kind of token Amazon wants for it: grantless for the destinations, the seller's for the rest."""
    from integration.sandbox.amazon.server import GRANTLESS

    seller, grantless = grant(sim), grant(sim, "sellingpartnerapi::notifications")
    return lambda op: grantless if op in GRANTLESS else seller


def call(sim, token, method, path, params=None, body=None):
    order = sandbox(sim, "orders")["orders"][0]["orderId"]
    return requests.request(method, sim.url + path.format(order=order), params=params, json=body,
                            headers={"x-amz-access-token": token}, timeout=10)


@pytest.mark.parametrize("op", sorted(OK_CALLS))
def test_successful_responses_conform(sim, token, models, op):
    method, path, params, body = OK_CALLS[op]
    resp = call(sim, token(op), method, path, params, body)
    assert resp.status_code in (200, 201, 202), resp.text
    assert models.validate_response(op, resp.status_code, resp.json()) == []
    assert "x-amzn-RateLimit-Limit" in resp.headers and resp.headers["x-amzn-RequestId"]


@pytest.mark.parametrize("op", sorted(ERROR_CALLS))
def test_refusals_conform(sim, token, models, op):
    method, path, params, body, status = ERROR_CALLS[op]
    resp = call(sim, token(op), method, path, params, body)
    assert resp.status_code == status, resp.text
    assert models.validate_response(op, status, resp.json()) == []


@pytest.mark.parametrize("kind, status", [("500", 500), ("503", 503), ("429", 429), ("expired_token", 403)])
@pytest.mark.parametrize("op", ["searchOrders", "getOrder", "getReports", "getInventorySummaries", "getDestinations",
                                "getMarketplaceParticipations"])
def test_injected_errors_conform(sim, token, models, op, kind, status):
    sandbox(sim, "faults", {"rules": [{"op": op, "kind": kind}]})
    method, path, params, body = OK_CALLS[op]
    resp = call(sim, token(op), method, path, params, body)
    assert resp.status_code == status
    assert models.validate_response(op, status, resp.json()) == []
    assert "x-amzn-RateLimit-Limit" not in resp.headers  # never on 429/403 [reference §3.1]


def test_a_real_rate_limit_answers_quota_exceeded(sim, token, models):
    seller = token("getMarketplaceParticipations")
    statuses = [call(sim, seller, "GET", "/sellers/v1/marketplaceParticipations").status_code for _ in range(20)]
    assert 429 in statuses  # burst 15 at 0.016 rps x 60
    resp = call(sim, seller, "GET", "/sellers/v1/marketplaceParticipations")
    assert resp.json()["errors"][0]["code"] == "QuotaExceeded"
    assert sandbox(sim, "requests")["operations"]["getMarketplaceParticipations"]["throttled"] >= 1


def test_a_missing_token_is_refused_like_amazon(sim, models):
    resp = requests.get(sim.url + "/sellers/v1/marketplaceParticipations", timeout=5)
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["details"] == "Access token is missing in the request header."


@pytest.mark.parametrize("form, status, error", [
    ({"grant_type": "refresh_token", "refresh_token": "Atzr|x", "client_id": "sandbox-client",
      "client_secret": "sandbox-secret"}, 400, "invalid_grant"),
    ({"grant_type": "refresh_token", "refresh_token": "Atzr|sandbox-refresh-token", "client_id": "sandbox-client",
      "client_secret": "wrong"}, 401, "invalid_client"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({}, 400, "invalid_request"),
])
def test_the_token_endpoint_answers_like_lwa(sim, form, status, error):
    resp = requests.post(sim.url + "/auth/o2/token", data=form, timeout=5)
    assert resp.status_code == status and resp.json()["error"] == error


def test_every_operation_the_simulator_serves_has_a_model(models):
    for op in OPERATIONS:
        assert models.response_validator(op, 429) is not None


def test_the_whole_run_produced_no_violations(sim, client):
    # a client session over most operations; the simulator checks every response it sends
    client.sellers.marketplaces()
    list(client.fba.summaries())
    client.listings.get("WIDGET-0001")
    assert sim.violations == []
