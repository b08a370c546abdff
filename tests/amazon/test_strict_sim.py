"""The simulator is as strict as Amazon: its own rate table from the models, every request checked against its
operation's model, grantless and seller tokens not interchangeable, listings patches applied later with ``merge``
keeping what it does not name, and an empty requested report cancelled (which the product reads as "no data")."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from integration.guard.limits import PUBLISHED
from integration.sandbox.amazon.limits import model_plans
from integration.sandbox.amazon.models import OPERATIONS
from integration.sandbox.amazon.server import GRANTLESS
from integration.sync import backfill
from tests.amazon.conftest import granted_queue, sandbox
from tests.amazon.test_contract import grant

ORDERS = "/orders/2026-01-01/orders"
SCOPE = "sellingpartnerapi::notifications"


def get(sim, path, params=None, token=None):
    return requests.get(sim.url + path, params=params, headers={"x-amz-access-token": token or grant(sim)},
                        timeout=10)


def refused(resp) -> list[dict]:
    assert resp.status_code == 400, resp.text
    return resp.json()["errors"]


# -- rate limits ------------------------------------------------------------------------------------------------

def test_the_clients_rate_table_agrees_with_the_usage_plans_in_the_models(models):
    plans = model_plans(models)
    by_op: dict[str, set] = {}
    for (_, op), plan in plans.items():
        by_op.setdefault(op, set()).add(plan)
    compared = {op for op in PUBLISHED if op in by_op}
    assert {"searchOrders", "getOrder", "createReport", "patchListingsItem", "getMarketplaceParticipations"} <= compared
    disagree = {op: (PUBLISHED[op], sorted(by_op[op])) for op in compared if by_op[op] != {PUBLISHED[op]}}
    assert disagree == {}


def test_the_simulator_takes_every_rate_from_the_models_not_the_client(sim, models):
    plans = model_plans(models)
    assert sim.buckets.plans == {op: plans[where] for op, where in OPERATIONS.items()}
    resp = get(sim, "/sellers/v1/marketplaceParticipations")
    assert resp.headers["x-amzn-RateLimit-Limit"] == f"{0.016 * sim.clock.scale:g}"  # sellers.json: 0.016 / 15


# -- requests checked against the model --------------------------------------------------------------------------

def test_an_unknown_query_parameter_is_refused_as_the_orders_model_words_it(sim):
    errors = refused(get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z", "maxResults": "10"}))
    # orders_2026-01-01.json, 400 example: {"code": "InvalidInput", "message": "Invalid Input"}
    assert [(e["code"], e["message"]) for e in errors] == [("InvalidInput", "Invalid Input")]
    assert "maxResults" in errors[0]["details"]


def test_an_enum_violation_is_refused(sim):
    errors = refused(get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z", "fulfillmentStatuses": "UNSHIPPED,Shipped"}))
    assert "'Shipped' is not one of" in errors[0]["details"]
    errors = refused(get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z", "includedData": "buyer"}))
    assert "includedData" in errors[0]["details"]  # Amazon's values are upper case; no kinder spelling


@pytest.mark.parametrize("size, ok", [("0", False), ("1", True), ("100", True), ("101", False), ("ten", False)])
def test_max_results_per_page_must_be_an_integer_from_1_to_100(sim, size, ok):
    resp = get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z", "maxResultsPerPage": size})
    if ok:
        assert resp.status_code == 200, resp.text
    else:
        assert "maxResultsPerPage" in refused(resp)[0]["details"]


def test_query_types_formats_array_limits_and_required_parameters(sim):
    assert "createdAfter" in refused(get(sim, ORDERS, {"createdAfter": "yesterday"}))[0]["details"]
    many = ",".join(f"A{i:012d}" for i in range(51))  # marketplaceIds maxItems 50
    assert "at most 50" in refused(get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z",
                                                     "marketplaceIds": many}))[0]["details"]
    # a csv list is one parameter: Amazon's models give arrays collectionFormat csv, never multi
    resp = get(sim, ORDERS, [("createdAfter", "2020-01-01T00:00:00Z"), ("fulfilledBy", "AMAZON"),
                             ("fulfilledBy", "MERCHANT")])
    assert "fulfilledBy" in refused(resp)[0]["details"]
    fba = refused(get(sim, "/fba/inventory/v1/summaries", {"granularityType": "Marketplace",
                                                            "marketplaceIds": "ATVPDKIKX0DER", "details": "yes"}))
    assert {"Missing required parameter: granularityId"} <= {e["details"] for e in fba}
    assert any("details" in e["details"] and "true or false" in e["details"] for e in fba)


def test_reports_and_listings_refuse_in_their_own_models_words(sim):
    # reports_2021-06-30.json getReports 400 example: code "400", message "Invalid input" (bad processing status)
    errors = refused(get(sim, "/reports/2021-06-30/reports", {"reportTypes": "GET_AFN_INVENTORY_DATA",
                                                              "processingStatuses": "BAD_VALUE,IN_PROGRESS"}))
    assert (errors[0]["code"], errors[0]["message"]) == ("400", "Invalid input")
    assert "BAD_VALUE" in errors[0]["details"]
    assert "pageSize" in refused(get(sim, "/reports/2021-06-30/reports", {"reportTypes": "GET_AFN_INVENTORY_DATA",
                                                                          "pageSize": "500"}))[0]["details"]
    listing = "/listings/2021-08-01/items/A2SANDBOXSELLER/WIDGET-0001"
    errors = refused(get(sim, listing, {"marketplaceIds": "ATVPDKIKX0DER", "includedData": "summaries,prices"}))
    assert (errors[0]["code"], errors[0]["message"]) == ("BAD_REQUEST", "Invalid input")
    assert "Missing required parameter: marketplaceIds" in refused(get(sim, listing))[0]["details"]


def test_a_bad_body_is_refused_against_the_body_schema(sim):
    seller = grant(sim)

    def post(path, body, method="POST", params=None):
        return requests.request(method, sim.url + path, json=body, params=params, timeout=10,
                                headers={"x-amz-access-token": seller})

    details = refused(post("/reports/2021-06-30/reports", {"reportType": "GET_AFN_INVENTORY_DATA",
                                                           "marketplaceIds": []}))[0]["details"]
    assert "marketplaceIds" in details  # minItems 1
    details = refused(post("/reports/2021-06-30/reports", {"reportType": "GET_AFN_INVENTORY_DATA",
                                                           "marketplaceIds": ["ATVPDKIKX0DER"],
                                                           "dataStartTime": "last week"}))[0]["details"]
    assert "date-time" in details
    details = [e["details"] for e in refused(post(
        "/listings/2021-08-01/items/A2SANDBOXSELLER/WIDGET-0001",
        {"productType": "PRODUCT", "patches": [{"op": "upsert", "path": "/attributes/x", "value": [{"a": 1}]}]},
        "PATCH", {"marketplaceIds": "ATVPDKIKX0DER"}))]
    assert any("'upsert' is not one of" in d for d in details)
    ship = refused(post("/orders/v0/orders/111-0000000-0000000/shipmentConfirmation", {"marketplaceId": "ATVPDKIKX0DER"}))
    assert "'packageDetail' is a required property" in ship[0]["details"]
    assert refused(post("/feeds/2021-06-30/documents", None))[0]["details"] == "The request body is required."


def test_a_refused_request_costs_a_token_and_says_so_like_amazon(sim):
    # the 400 carries x-amzn-RateLimit-Limit, as Amazon's 400s do [reference §3.1]
    resp = get(sim, ORDERS, {"createdAfter": "2020-01-01T00:00:00Z", "bogus": "1"})
    assert resp.status_code == 400 and "x-amzn-RateLimit-Limit" in resp.headers
    assert sim.violations == []  # the 400 body conforms to the model's ErrorList


# -- grantless vs seller tokens --------------------------------------------------------------------------------

def test_the_grantless_operations_are_those_the_model_calls_grantless(models):
    described = {op for op, (model, op_id) in OPERATIONS.items()
                 if "grantless" in models._operation(model, op_id).get("description", "").lower()}
    assert GRANTLESS == described
    assert "createSubscription" not in GRANTLESS and "getSubscription" not in GRANTLESS  # seller-token ops [§2.4]


def test_a_token_of_the_wrong_kind_is_refused(sim):
    seller, grantless = grant(sim), grant(sim, SCOPE)
    for resp in (get(sim, "/notifications/v1/destinations", token=seller),
                 get(sim, "/notifications/v1/subscriptions/ORDER_CHANGE", token=grantless),
                 get(sim, "/sellers/v1/marketplaceParticipations", token=grantless)):
        assert resp.status_code == 403
        assert resp.json()["errors"][0]["code"] == "Unauthorized"
    assert get(sim, "/notifications/v1/destinations", token=grantless).status_code == 200
    assert get(sim, "/sellers/v1/marketplaceParticipations", token=seller).status_code == 200


def test_the_client_uses_the_right_token_for_each_notifications_call(sim, client):
    dests, subs = client.notifications.ensure("slsync", sqs_arn=granted_queue(sim, "slsync"))
    assert subs and {s.destination_id for s in subs} <= {d.destination_id for d in dests}
    client.notifications.unsubscribe(subs[0])
    client.notifications.delete_destination(dests[0].destination_id)
    assert sim.stats.statuses[("getDestinations", 403)] == 0 and sim.stats.statuses[("createSubscription", 403)] == 0


# -- listings: applied later, merge keeps what it does not name -------------------------------------------------

def test_a_patch_takes_effect_later_and_merge_keeps_the_lead_time(sim, client):
    sku = next(s for s, x in sim.state.listings.items()
               if x["attributes"]["fulfillment_availability"][0]["fulfillment_channel_code"] == "DEFAULT")
    before = client.listings.get(sku, ("attributes",))["attributes"]["fulfillment_availability"][0]
    assert before["lead_time_to_ship_max_days"] == 2
    assert client.listings.set_quantity(sku, before["quantity"] + 7).status == "ACCEPTED"
    assert client.listings.get(sku, ("attributes",))["attributes"]["fulfillment_availability"] == [before]
    sandbox(sim, "clock", {"advance_seconds": 150})
    after = client.listings.get(sku, ("attributes",))["attributes"]["fulfillment_availability"]
    assert after == [{**before, "quantity": before["quantity"] + 7}]  # lead time kept by merge


def test_replace_replaces_the_attribute_and_delete_removes_it(sim, client):
    sim.state.listings_delay = 0
    sku = next(iter(sim.state.listings))
    client.listings.patch(sku, [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                 "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]},
                                {"op": "delete", "path": "/attributes/item_name"}])
    attrs = client.listings.get(sku, ("attributes",))["attributes"]
    assert attrs["fulfillment_availability"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]
    assert "item_name" not in attrs


def test_a_listings_feed_patch_merges_too(sim, client):
    sku = next(s for s, x in sim.state.listings.items()
               if x["attributes"]["fulfillment_availability"][0]["fulfillment_channel_code"] == "DEFAULT")
    client.feeds.submit_listings([{"messageId": 1, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
                                   "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}]}]}])
    sandbox(sim, "clock", {"advance_seconds": 200})
    fa = sandbox(sim, "listings")["listings"][sku]["attributes"]["fulfillment_availability"]
    assert fa == [{"fulfillment_channel_code": "DEFAULT", "quantity": 9, "lead_time_to_ship_max_days": 2}]


# -- an empty report is cancelled by Amazon; the product reads that as no data --------------------------------

def test_an_empty_report_is_cancelled_and_the_backfill_finds_no_orders(sim, client, caplog):
    from types import SimpleNamespace

    future = sim.state.now() + timedelta(days=400)  # a window no order falls in
    report_id = client.reports.create("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                                      start=future, end=future + timedelta(days=1))
    sandbox(sim, "clock", {"advance_seconds": 200})
    report = client.reports.get(report_id)
    assert report.status == "CANCELLED" and report.document_id is None and report.no_data

    events, queued = [], []
    ctx = SimpleNamespace(amazon=client, task_id="t-1",
                          sl=SimpleNamespace(record_event=events.append))
    with caplog.at_level("INFO", logger="slsync.sync"):
        result = backfill.resume(ctx, report_id, queued.extend)
    assert (result.orders, result.status, queued) == (0, "DONE", [])
    assert "no data" in caplog.text and events[0].detail["orders"] == 0
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_a_report_with_data_is_still_done(sim, client):
    report_id = client.reports.create("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL")
    sandbox(sim, "clock", {"advance_seconds": 200})
    deadline = time.monotonic() + 10
    while (report := client.reports.get(report_id)).status != "DONE" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert report.status == "DONE" and report.document_id and not report.no_data
