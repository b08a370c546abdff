"""Shippers confirmed since a watermark, FBA transfers in transit, and SKU -> item lookups."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.sl import ItemPolicy, sandbox
from tests.sl.builders import a_binding, an_order


def test_confirmed_shippers_carry_carrier_date_lines_and_tracking(gateway):
    order = an_order(lines=2, ShipViaID="FEDEX2D")
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    assert gateway.shippers_confirmed_since(None) == []
    shipped = datetime(2026, 3, 15, 10, 0)
    first = sandbox.create_confirmed_shipper(gateway.db, "AMZDEMO", ord_nbr, quantities={"00001": Decimal(1)},
                                             tracking_numbers=["794612345678", "794612345679"], ship_date=shipped)
    second = sandbox.create_confirmed_shipper(gateway.db, "AMZDEMO", ord_nbr, quantities={"00002": Decimal(2)},
                                              tracking_numbers=["9400100000000000000001"], ship_via_id="USPS",
                                              header_tracking_only=True)
    found = {s.shipper_id: s for s in gateway.shippers_confirmed_since(datetime.now() - timedelta(hours=1))}
    assert set(found) == {first, second}
    a, b = found[first], found[second]
    assert (a.ord_nbr, a.cust_ord_nbr, a.ship_via_id, a.carrier, a.ship_date) == \
        (ord_nbr, order.CustOrdNbr, "FEDEX2D", "FEDEX", shipped)
    assert [(x.ord_line_ref, x.invt_id, x.qty) for x in a.lines] == [("00001", "WIDGET-0001", Decimal(1))]
    assert a.lines[0].amazon_item_id == order.lines[0].amazon_item_id
    assert [p.tracking_nbr for p in a.packages] == ["794612345678", "794612345679"]
    assert (b.carrier, [p.tracking_nbr for p in b.packages]) == ("USPS", ["9400100000000000000001"])
    later = max(s.changed_at for s in found.values()) + timedelta(minutes=1)
    assert gateway.shippers_confirmed_since(later) == []


def test_a_pushed_shipment_is_bound_once_and_can_be_filtered_out(gateway):
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    shipper = sandbox.create_confirmed_shipper(gateway.db, "AMZDEMO", ord_nbr, tracking_numbers=["1Z1"])
    gateway.bind_shipment(shipper, ord_nbr=ord_nbr, amazon_order_id=order.CustOrdNbr, status="FAILED",
                          response={"code": "429"})
    assert [s.shipper_id for s in gateway.shippers_confirmed_since(None, unpushed_only=True)] == [shipper]
    gateway.bind_shipment(shipper, ord_nbr=ord_nbr, amazon_order_id=order.CustOrdNbr, status="PUSHED")
    assert gateway.shippers_confirmed_since(None, unpushed_only=True) == []
    binding = gateway.get_shipment_binding(shipper)
    assert (binding["status"], binding["attempts"]) == ("PUSHED", 2)


def test_fba_transfers_in_transit_per_item(gateway):
    transfers = gateway.fba_transfers_in_transit("FBA")
    assert transfers and all(t.to_site == "FBA" and t.qty > 0 for t in transfers)
    by_item = gateway.fba_in_transit_by_item("FBA")
    assert sum(by_item.values()) == sum(t.qty for t in transfers)
    sandbox.update_rows(gateway.db, "TrnsfrDoc", {"Status": "R", "RcptDate": datetime.now()})
    assert gateway.fba_transfers_in_transit("FBA") == []


def test_the_item_policy_decides_how_a_sku_finds_its_item(gateway):
    alt, invt = gateway.db.run(lambda r: r.one('SELECT "AlternateID", "InvtID" FROM "ItemXRef"'))
    assert gateway.find_item_for_sku("WIDGET-0001") == "WIDGET-0001"
    assert gateway.find_item_for_sku(alt) == invt
    assert gateway.find_item_for_sku(alt, ItemPolicy(order=("invtid",))) is None
    long_sku = "A-SELLER-SKU-LONGER-THAN-THIRTY-CHARS"
    assert gateway.find_item_for_sku(long_sku) is None
    assert gateway.find_item_for_sku(long_sku, ItemPolicy(mapping={long_sku: "WIDGET-0002"})) == "WIDGET-0002"
    assert gateway.find_item_for_sku("WIDGET-0001", ItemPolicy(order=("map",), mapping={})) is None


def test_a_sku_that_is_an_alternate_id_of_two_items_needs_review(gateway):
    sandbox.insert_rows(gateway.db, {"ItemXRef": [
        {"InvtID": "WIDGET-0001", "AltIDType": "K", "AlternateID": "SHARED-SKU"},
        {"InvtID": "WIDGET-0002", "AltIDType": "G", "AlternateID": "SHARED-SKU"}]})
    with pytest.raises(NeedsReview) as caught:
        gateway.find_item_for_sku("SHARED-SKU")
    assert caught.value.reason == "ambiguous_sku"


def test_holds_cursors_and_events(gateway):
    hold = gateway.create_hold("order", "111-1", "unknown_sku", "SKU X unknown", {"sku": "X"})
    assert gateway.create_hold("order", "111-1", "unknown_sku", "again") == hold
    assert [h.hold_id for h in gateway.list_holds(reason="unknown_sku")] == [hold]
    assert gateway.set_hold_status(hold, "RELEASED", "mapped X") is True
    assert gateway.list_holds() == [] and gateway.get_hold(hold).note == "mapped X"
    assert gateway.get_hold(hold).payload == {"sku": "X"}
    gateway.set_cursor("orders.sweep", "2026-03-14T00:00:00Z")
    gateway.set_cursor("orders.sweep", "2026-03-15T00:00:00Z")
    assert gateway.get_cursor("orders.sweep") == "2026-03-15T00:00:00Z"
    gateway.record_stock_sent("WIDGET-0001", "US-MFN", "WIDGET-0001", 7, "feed-1")
    gateway.record_stock_sent("WIDGET-0001", "US-MFN", "WIDGET-0001", 5, "feed-2")
    assert gateway.last_stock_sent("WIDGET-0001", "US-MFN") == 5
    assert [e.action for e in gateway.events_for("order", "111-1")] == ["held"]


def test_settled_shipments_are_left_out_and_one_shipper_can_be_read(gateway):
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    ids = [sandbox.create_confirmed_shipper(gateway.db, "AMZDEMO", ord_nbr, quantities={"00001": Decimal(1)},
                                            tracking_numbers=[f"1Z{n}"]) for n in range(4)]
    for shipper_id, status in zip(ids, ("SKIPPED_AFN", "NOT_AMAZON", "SENDING"), strict=False):
        gateway.bind_shipment(shipper_id, ord_nbr=ord_nbr, amazon_order_id="", status=status)
    assert [s.shipper_id for s in gateway.shippers_confirmed_since(None, unpushed_only=True)] == ids[2:]
    assert gateway.shipper(ids[0]).packages[0].tracking_nbr == "1Z0"
    assert gateway.shipper("NOPE") is None
