"""Roles by report and feed type, as Amazon checks them: the product's table (integration.amazon.roles) and the
simulator's own (integration.sandbox.amazon.roles, never imported from the product) must agree entry by entry, and a
seller's missing role is named for the report a call is about: the backfill's all-orders report needs Inventory and
Order Tracking, a settlement needs Finance and Accounting."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from integration.amazon import role_probe, roles
from integration.amazon.client import AmazonClient
from integration.amazon.reports import ALL_ORDERS, SETTLEMENT
from integration.errors import Permanent
from integration.sandbox.amazon import roles as sim_roles
from integration.sync import backfill
from tests.amazon.conftest import make_sim, sandbox, settings_for

SANDBOX = Path(__file__).resolve().parents[2] / "integration" / "sandbox"


def _client(sim, r, redis_url) -> AmazonClient:
    return AmazonClient.from_settings(settings_for(sim, redis_url), r, session=requests.Session())


def _ctx(client) -> SimpleNamespace:
    events: list = []
    return SimpleNamespace(amazon=client, task_id="t-roles", events=events,
                           sl=SimpleNamespace(record_event=events.append, set_cursor=lambda *a: None))


# -- the two tables agree -----------------------------------------------------------------------------------------

def test_the_simulator_never_imports_the_products_role_table():
    offenders = []
    for path in SANDBOX.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("integration.amazon.roles")]
    assert offenders == []


def test_the_role_names_are_amazons_on_both_sides():
    assert roles.ALL == sim_roles.ALL


def test_every_operation_names_the_role_the_simulator_checks():
    wrong = []
    for op, role in roles.OPERATIONS.items():
        theirs = sim_roles.OPERATIONS.get(op)
        if theirs is None:
            wrong.append(f"{op}: not in the simulator's table")
        elif op in roles.REPORT_OPERATIONS | roles.FEED_OPERATIONS:
            if role is not None or op not in sim_roles.REPORT_OPERATIONS | sim_roles.FEED_OPERATIONS | {
                    "createFeedDocument"}:
                wrong.append(f"{op}: the product {role!r}, the simulator checks the type's role")
        elif (role,) != theirs and not (role is None and theirs == ()):
            wrong.append(f"{op}: the product {role!r}, the simulator {theirs}")
    assert wrong == []


@pytest.mark.parametrize(("ours", "theirs", "kind"), [(roles.REPORT_TYPES, sim_roles.REPORT_TYPES, "report type"),
                                                      (roles.FEED_TYPES, sim_roles.FEED_TYPES, "feed type")])
def test_every_report_and_feed_type_names_a_role_the_simulator_accepts(ours, theirs, kind):
    wrong = [f"{kind} {t}: the product {role!r}, the simulator {theirs.get(t)}"
             for t, role in ours.items() if role not in theirs.get(t, ())]
    wrong += [f"{kind} {t}: the simulator accepts only {theirs[t][0]!r}, the product names {ours[t]!r}"
              for t in ours if t in theirs and len(theirs[t]) == 1 and ours[t] != theirs[t][0]]
    assert wrong == []


def test_the_types_the_product_uses_are_in_both_tables():
    used = {ALL_ORDERS, SETTLEMENT, *role_probe.REPORT_PROBES.values()}
    assert {t for t in used if t not in roles.REPORT_TYPES or t not in sim_roles.REPORT_TYPES} == set()
    assert roles.for_report_type(ALL_ORDERS) == roles.INVENTORY_AND_ORDER_TRACKING   # not Finance: the backfill
    assert roles.for_report_type(SETTLEMENT) == roles.FINANCE_AND_ACCOUNTING
    assert roles.for_feed_type("JSON_LISTINGS_FEED") == roles.PRODUCT_LISTING
    assert {role: roles.for_report_type(t) for role, t in role_probe.REPORT_PROBES.items()} == \
        {role: role for role in role_probe.REPORT_PROBES}   # check probes each role with a type that role opens


def test_the_withheld_buyer_fields_agree():
    assert roles.RESTRICTED_FIELDS == sim_roles.RESTRICTED_FIELDS


# -- what a seller meets --------------------------------------------------------------------------------------

def test_without_finance_the_backfill_runs_but_a_settlement_is_refused_naming_finance(r, redis_url):
    sim = make_sim(orders=30, roles=[x for x in roles.ALL if x != roles.FINANCE_AND_ACCOUNTING])
    try:
        client = _client(sim, r, redis_url)
        ctx = _ctx(client)
        report_id = backfill.start(ctx, client.server_now(fresh=True) - timedelta(days=10))
        sandbox(sim, "clock", {"advance_seconds": 200})
        result = backfill.resume(ctx, report_id, lambda ids: None)
        assert result.status == "DONE" and result.orders > 0

        settled = next(x for x in sim.state.reports.values()
                       if x["reportType"] == SETTLEMENT and x.get("reportDocumentId"))
        with pytest.raises(Permanent) as err:
            client.reports.download(settled["reportDocumentId"], report_type=SETTLEMENT)
        assert err.value.details["role"] == roles.FINANCE_AND_ACCOUNTING
        assert roles.FINANCE_AND_ACCOUNTING in err.value.message and "getReportDocument" in err.value.message
        with pytest.raises(Permanent) as err:
            list(client.reports.list([SETTLEMENT]))
        assert err.value.details["role"] == roles.FINANCE_AND_ACCOUNTING
    finally:
        sim.stop()


def test_without_order_tracking_the_all_orders_report_is_refused_naming_that_role(r, redis_url):
    sim = make_sim(orders=10, roles=[x for x in roles.ALL if x != roles.INVENTORY_AND_ORDER_TRACKING])
    try:
        client = _client(sim, r, redis_url)
        with pytest.raises(Permanent) as err:
            backfill.start(_ctx(client), client.server_now(fresh=True) - timedelta(days=10))
        assert (err.value.details["reason"], err.value.details["role"]) == \
            ("missing_role", roles.INVENTORY_AND_ORDER_TRACKING)
        assert roles.FINANCE_AND_ACCOUNTING not in err.value.message
        assert sandbox(sim, "requests")["operations"]["createReport"]["statuses"] == {"403": 2}
        # the settlements need Finance and Accounting only: still listed
        assert all(x.report_type == SETTLEMENT for x in client.reports.list([SETTLEMENT]))
    finally:
        sim.stop()


def test_a_report_refused_without_a_known_type_says_the_type_decides(r, redis_url):
    sim = make_sim(orders=10, roles=[x for x in roles.ALL if x != roles.FINANCE_AND_ACCOUNTING])
    try:
        settled = next(x for x in sim.state.reports.values() if x["reportType"] == SETTLEMENT)
        with pytest.raises(Permanent) as err:
            _client(sim, r, redis_url).reports.get(settled["reportId"])
        assert "role of the report or feed type" in err.value.message and err.value.details["role"] is None
    finally:
        sim.stop()


def test_the_simulator_checks_each_report_and_feed_type():
    granted = [x for x in sim_roles.ALL if x != sim_roles.PRODUCT_LISTING]
    assert sim_roles.missing(granted, "createFeed", ["JSON_LISTINGS_FEED"]) == sim_roles.PRODUCT_LISTING
    assert sim_roles.missing(granted, "createFeed", ["POST_ORDER_FULFILLMENT_DATA"]) is None
    assert sim_roles.missing(granted, "getReports", [SETTLEMENT, "GET_MERCHANT_LISTINGS_ALL_DATA"]) == \
        sim_roles.PRODUCT_LISTING                           # every type in the filter is checked
    only_orders = [sim_roles.INVENTORY_AND_ORDER_TRACKING]
    assert sim_roles.missing(only_orders, "createReport", ["GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING"]) == \
        sim_roles.DIRECT_TO_CONSUMER_DELIVERY               # a PII report also needs the restricted role
    assert sim_roles.missing(only_orders, "createReport", ["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"]) is None
    assert sim_roles.missing([], "createReport", [ALL_ORDERS]) == sim_roles.INVENTORY_AND_ORDER_TRACKING


def test_without_the_tax_role_the_items_gift_message_is_absent_but_the_wrap_stays(r, redis_url):
    sim = make_sim(orders=60, roles=[x for x in roles.ALL if x != roles.TAX_INVOICING])
    try:
        order = next((o for o in sim.state.orders.values() if any(i["gift"] for i in o["items"])
                      and o["status"] != "PENDING"), None)
        assert order is not None, "the seed has a gift order"
        got = _client(sim, r, redis_url).orders.get(order["id"])
        gifts = [i["fulfillment"]["packing"]["giftOption"] for i in got["orderItems"]
                 if i.get("fulfillment", {}).get("packing")]
        assert gifts and all("giftMessage" not in g and g["giftWrapLevel"] for g in gifts)
        sandbox(sim, "roles", {"grant": [roles.TAX_INVOICING]})
        got = _client(sim, r, redis_url).orders.get(order["id"])
        assert any(i["fulfillment"]["packing"]["giftOption"].get("giftMessage") for i in got["orderItems"]
                   if i.get("fulfillment", {}).get("packing"))
    finally:
        sim.stop()
