"""The default mapping's status table and lookups, as finance would read them."""

from __future__ import annotations

import pytest

from integration.errors import NeedsReview
from integration.mapping import load_mapping
from integration.mapping.schema import CHANNELS, SL_STATES, STATUSES


@pytest.fixture(scope="module")
def mapping():
    return load_mapping("")


@pytest.mark.parametrize(("status", "channel", "sl_state", "action"), [
    ("PENDING", "MFN", "none", "wait"),
    ("PENDING_AVAILABILITY", "AFN", "none", "wait"),
    ("UNSHIPPED", "MFN", "none", "create_order"),
    ("UNSHIPPED", "MFN", "open_order", "nothing"),
    ("UNSHIPPED", "AFN", "none", "wait"),
    ("PARTIALLY_SHIPPED", "MFN", "none", "create_order"),
    ("SHIPPED", "AFN", "none", "create_and_invoice"),
    ("SHIPPED", "AFN", "open_order", "invoice"),
    ("SHIPPED", "MFN", "open_order", "nothing"),  # our own shipment closed it
    ("SHIPPED", "MFN", "none", "review"),
    ("CANCELLED", "MFN", "none", "skip"),
    ("CANCELLED", "AFN", "open_order", "cancel_order"),
    ("CANCELLED", "MFN", "invoiced", "credit_memo"),
    ("CANCELLED", "MFN", "cancelled", "nothing"),
    ("UNFULFILLABLE", "AFN", "open_order", "cancel_order"),
])
def test_status_table_rows(mapping, status, channel, sl_state, action):
    assert mapping.action_for(status, channel, sl_state=sl_state) == action


def test_every_status_channel_and_sl_state_has_an_action(mapping):
    for status in STATUSES:
        for channel in CHANNELS:
            for state in SL_STATES:
                assert mapping.action_for(status, channel, sl_state=state)


def test_older_spellings_of_status_and_channel_are_understood(mapping):
    assert mapping.action_for("Canceled", "MERCHANT", sl_state="open_order") == "cancel_order"
    assert mapping.action_for("PartiallyShipped", "MFN", sl_state="none") == "create_order"
    assert mapping.action_for("Shipped", "AMAZON", sl_state="none") == "create_and_invoice"


def test_an_unknown_status_is_held_for_review(mapping):
    with pytest.raises(NeedsReview) as caught:
        mapping.action_for("INVOICE_UNCONFIRMED", "MFN", sl_state="none")
    assert caught.value.reason == "unmapped_status"


def test_an_unknown_sl_state_is_a_programming_error(mapping):
    with pytest.raises(ValueError):
        mapping.action_for("SHIPPED", "MFN", sl_state="posted")


def test_status_rows_list_every_cell(mapping):
    rows = mapping.status_rows()
    assert ("SHIPPED", "AFN", "none", "create_and_invoice") in rows
    assert len(rows) == len(SL_STATES) * sum(len(c) for c in mapping.data["status_table"].values())


@pytest.mark.parametrize(("marketplace", "cust"), [
    ("ATVPDKIKX0DER", "AMZUS"), ("A2EUQ1WTGCTBG2", "AMZCA"), ("A1AM78C64UM0Y8", "AMZMX"),
    ("A1PA6795UKMFR9", "AMZDE"), ("A1F83G8C2ARO7P", "AMZUK"),
])
def test_default_customer_per_marketplace(mapping, marketplace, cust):
    assert mapping.customer_for(marketplace) == cust


def test_an_unmapped_marketplace_is_held(mapping):
    with pytest.raises(NeedsReview) as caught:
        mapping.customer_for("A2Q3Y263D00KWC")
    assert caught.value.reason == "unmapped_marketplace"


@pytest.mark.parametrize(("level", "via", "code"), [
    ("STANDARD", "UPSGND", "UPS"), ("SecondDay", "FEDEX2D", "FedEx"), ("NEXT_DAY", "FEDEXON", "FedEx"),
    ("FreeEconomy", "USPS", "USPS"), ("", "UPSGND", "UPS"), ("BRAND_NEW_LEVEL", "UPSGND", "UPS"),
])
def test_ship_via_and_carrier_per_service_level(mapping, level, via, code):
    assert mapping.ship_via_for(level) == via
    assert mapping.carrier_for(via).carrier_code == code


def test_an_unmapped_ship_via_is_held(mapping):
    with pytest.raises(NeedsReview):
        mapping.carrier_for("PIGEON")


def test_sku_lookups_run_in_the_configured_order(mapping):
    calls = []

    def nowhere(kind):
        return lambda sku: calls.append(kind)

    assert mapping.resolve_sku("AMZ-DEMO-0001", find_invtid=nowhere("invtid"), find_xref=nowhere("xref")) == (
        "DEMO-0001", "map")
    assert calls == ["invtid", "xref"]
    assert mapping.resolve_sku("X", find_invtid=lambda s: "X", find_xref=nowhere("xref")) == ("X", "invtid")


def test_an_unknown_sku_is_held_by_default(mapping):
    with pytest.raises(NeedsReview) as caught:
        mapping.resolve_sku("NOPE", find_invtid=lambda s: None, find_xref=lambda s: None)
    assert caught.value.reason == "unknown_sku"


def test_a_ghost_item_policy_maps_unknown_skus(mapping, tmp_path):
    from integration.mapping.rules import default_mapping_text

    text = default_mapping_text().replace("unknown_sku: hold", "unknown_sku: ghost").replace(
        'ghost_item: ""', "ghost_item: AMZ-UNKNOWN")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    ghost = load_mapping(path)
    assert ghost.resolve_sku("NOPE", find_invtid=lambda s: None, find_xref=lambda s: None) == ("AMZ-UNKNOWN", "ghost")


def test_listing_attributes_come_from_inventory_columns(mapping):
    attrs = mapping.listing_attributes({"Descr": "Demo widget", "StkBasePrc": 12.5, "UPCCode": ""})
    assert attrs["item_name"] == "Demo widget" and str(attrs["list_price"]) == "12.5"
    assert "externally_assigned_product_identifier" not in attrs
