"""Shipments back to Amazon box by box (issue 12): each box of an SL shipper is one Amazon package with its own
packageReferenceId (unique within the order, the same on a retry), its own whole tracking number and the order
items it carries, found through SOShipLine.OrdLineRef -> SOLine.User1. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from integration.errors import SyncError
from integration.sandbox import sl_seed
from integration.sl import sandbox
from integration.sync import fulfillment, orders
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
)

CPNY = "AMZDEMO"


def _order(ctx, sim, lines):
    made = sim.create_order(lines)
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "created", out
    return made["orderId"], out.ord_nbr, [i["orderItemId"] for i in made["orderItems"]]


def _packages(ctx, oid) -> dict[str, dict]:
    """The order's packages as Amazon shows them (getOrder with PACKAGES), by tracking number."""
    found = ctx.amazon.orders.get(oid, included=("PACKAGES",)).get("packages") or []
    return {p["trackingNumber"]: p for p in found}


def _items(package) -> dict[str, int]:
    return {x["orderItemId"]: x["quantity"] for x in package["packageItems"]}


def _rename(ctx, old: str, new: str) -> str:
    """Give a shipper another ShipperID (SL allows any text: a site's own prefix, no digits at all)."""
    for table in ("SOShipHeader", "SOShipLine", "SOShipPack", "xAMZTracking"):
        sandbox.update_rows(ctx.sl.db, table, {"ShipperID": new}, {"CpnyID": CPNY, "ShipperID": old})
    return new


def _sl_rows(ctx, sql, params):
    return ctx.sl.db.run(lambda r: r.all(sql, params), write=False)


def test_two_shippers_with_non_numeric_ids_on_one_order_get_distinct_references(ctx, sim):
    oid, ord_nbr, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1},
                                             {"sku": sku_known(ctx, via_xref=True), "quantity": 1}])
    east = _rename(ctx, sl_seed.ship_order(ctx.sl, ord_nbr, quantities={"00001": Decimal(1)},
                                           tracking_numbers=["1Z999AA10000000011"]), "WH-EAST")
    west = _rename(ctx, sl_seed.ship_order(ctx.sl, ord_nbr, quantities={"00002": Decimal(1)},
                                           tracking_numbers=["1Z999AA10000000012"]), "WH-WEST")
    assert [fulfillment.confirm(ctx, CPNY, s).value for s in (east, west)] == ["confirmed", "confirmed"]
    refs = [c["packageDetail"]["packageReferenceId"] for c in sim.confirmations()]
    assert len(refs) == 2 and len(set(refs)) == 2 and all(r.isdigit() and int(r) > 0 for r in refs)
    at_amazon = _packages(ctx, oid)
    assert {t: _items(p) for t, p in at_amazon.items()} == {"1Z999AA10000000011": {a: 1},
                                                            "1Z999AA10000000012": {b: 1}}
    assert sorted(p["packageReferenceId"] for p in at_amazon.values()) == sorted(refs)
    assert sim.orders()[oid]["status"] == "SHIPPED"


def test_a_three_box_shipper_is_three_packages_with_three_numbers_and_a_retry_keeps_their_references(ctx, sim):
    oid, ord_nbr, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 2},
                                             {"sku": sku_known(ctx, via_xref=True), "quantity": 2}])
    numbers = ["1Z999AA10000000021", "1Z999AA10000000022", "1Z999AA10000000023"]
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=numbers)
    sim.faults([{"op": "confirmShipment", "kind": "500"}])   # Amazon fails: the worker will retry the shipper
    with pytest.raises(SyncError):
        fulfillment.confirm(ctx, CPNY, shipper)
    chosen = dict(_sl_rows(ctx, 'SELECT "BoxRef", "PackageRef" FROM "xAMZPackage" WHERE "ShipperID" = ?', [shipper]))
    sim.faults([])
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    at_amazon = _packages(ctx, oid)
    assert sorted(at_amazon) == numbers
    by_box = {f"{n:05d}": at_amazon[t]["packageReferenceId"] for n, t in enumerate(numbers, 1)}
    assert by_box == chosen and len(set(chosen.values())) == 3     # the retry sent what the first attempt chose
    carried = [_items(at_amazon[t]) for t in numbers]
    assert all(sum(c.values()) >= 1 for c in carried)             # every box carries something
    assert {i: sum(c.get(i, 0) for c in carried) for i in (a, b)} == {a: 2, b: 2}   # and together what shipped
    assert sim.orders()[oid]["status"] == "SHIPPED"


def test_a_22_digit_usps_number_is_sent_whole(ctx, sim):
    oid, ord_nbr, (a,) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1}])
    number = "9400111899223344556677"
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=[number], ship_via_id="USPS")
    in_sl = _sl_rows(ctx, 'SELECT "TrackingNbr" FROM "SOShipPack" WHERE "ShipperID" = ?', [shipper])
    assert in_sl == [(number[:20],)]                      # SOShipPack.TrackingNbr is CHAR(20)
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    assert [c["packageDetail"]["trackingNumber"] for c in sim.confirmations()] == [number]
    assert _items(_packages(ctx, oid)[number]) == {a: 1}


def test_a_number_that_fills_sl_column_with_nothing_recorded_is_held_not_sent_cut(ctx, sim):
    oid, ord_nbr, _ = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1}])
    number = "9400111899223344556688"
    shipper = sandbox.create_confirmed_shipper(ctx.sl.db, CPNY, ord_nbr, tracking_numbers=[number],
                                               ship_via_id="USPS", record_whole=False)
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "held"
    [hold] = ctx.sl.list_holds(entity="shipper")
    assert (hold.key, hold.reason) == (f"{CPNY}:{shipper}", "tracking_truncated") and "xAMZTracking" in hold.message
    assert sim.confirmations() == []
    # a person records the whole number; the release runs the confirmation again
    sandbox.insert_rows(ctx.sl.db, {"xAMZTracking": [{"CpnyID": CPNY, "ShipperID": shipper, "BoxRef": "00001",
                                                      "TrackingNbr": number, "Source": "person"}]})
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    assert [c["packageDetail"]["trackingNumber"] for c in sim.confirmations()] == [number]


def test_lines_reach_amazon_by_their_order_line_when_the_shipper_lists_them_in_another_order(ctx, sim):
    oid, ord_nbr, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1},
                                             {"sku": sku_known(ctx, via_xref=True), "quantity": 2}])
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=["1Z999AA10000000031", "1Z999AA10000000032"])
    # the shipper's first line is the order's second line and the other way round
    where = {"CpnyID": CPNY, "ShipperID": shipper}
    for old, new in (("00001", "99999"), ("00002", "00001"), ("99999", "00002")):
        sandbox.update_rows(ctx.sl.db, "SOShipLine", {"LineRef": new}, {**where, "LineRef": old})
    lines = _sl_rows(ctx, 'SELECT "LineRef", "OrdLineRef" FROM "SOShipLine" WHERE "ShipperID" = ? ORDER BY "LineRef"',
                     [shipper])
    assert lines == [("00001", "00002"), ("00002", "00001")]
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    at_amazon = _packages(ctx, oid)
    # one line per box in the shipper's LineRef order; each line's item is its own order line's, whatever its place
    assert _items(at_amazon["1Z999AA10000000031"]) == {b: 2}
    assert _items(at_amazon["1Z999AA10000000032"]) == {a: 1}
    assert sim.orders()[oid]["status"] == "SHIPPED"


@pytest.mark.parametrize("sl_dsn", ["sqlite"], indirect=True)
def test_the_simulator_takes_a_repeated_reference_as_an_edit_and_refuses_one_reused_for_another_package(ctx, sim):
    oid, _, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 2},
                                       {"sku": sku_known(ctx, via_xref=True), "quantity": 1}])
    confirm = ctx.amazon.orders.confirm_shipment
    base = {"marketplace_id": sim.orders()[oid]["marketplaceId"], "carrier_code": "UPS",
            "ship_date": "2026-03-02T10:00:00Z"}
    confirm(oid, package_reference_id=1, tracking_number="1Z999AA10000000041", items=[(a, 1)], **base)
    confirm(oid, package_reference_id=1, tracking_number="1Z999AA10000000042", items=[(a, 1)], **base)  # an edit
    assert {t: _items(p) for t, p in _packages(ctx, oid).items()} == {"1Z999AA10000000042": {a: 1}}
    refused = [((1, [(b, 1)]), "already identifies another package"),     # the same reference, another box
               ((2, [("99999999999999", 1)]), "is not part of order"),
               ((2, [(a, 2)]), "exceeds the quantity not yet shipped"),  # one of the two already went
               ((2, [(a, 1), (a, 1)]), "exceeds the quantity not yet shipped")]
    for (ref, items), words in refused:
        with pytest.raises(SyncError) as caught:
            confirm(oid, package_reference_id=ref, tracking_number="1Z999AA10000000043", items=items, **base)
        assert words in str(caught.value)
    assert len(_packages(ctx, oid)) == 1


def test_boxes_sharing_a_master_tracking_number_are_each_confirmed_once_after_a_crash_between_them(ctx, sim):
    """Some carriers print one master number on every box of a shipment. The first box reaches Amazon but its answer
    is lost (the worker's request times out while Amazon still applies it): the retry must still send the second box,
    whose tracking number Amazon already shows, and must not send the first again."""
    oid, ord_nbr, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1},
                                             {"sku": sku_known(ctx, via_xref=True), "quantity": 1}])
    master = "1Z999AA10000000051"
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=[master, master])
    ctx.amazon.orders.t.timeout = 0.3                       # a short client time-out, and Amazon slow to answer
    sim.faults([{"op": "confirmShipment", "kind": "hang", "seconds": 0.8, "count": 1}])
    with pytest.raises(SyncError):
        fulfillment.confirm(ctx, CPNY, shipper)
    deadline = time.monotonic() + 5
    while not sim.confirmations() and time.monotonic() < deadline:   # Amazon applies the first box all the same
        time.sleep(0.05)
    assert [c["packageDetail"]["orderItems"] for c in sim.confirmations()] == [[{"orderItemId": a, "quantity": 1}]]
    assert ctx.sl.get_shipment_binding(shipper)["status"] == "SENDING"
    sim.faults([])
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    sent = [(c["packageDetail"]["packageReferenceId"], c["packageDetail"]["orderItems"]) for c in sim.confirmations()]
    assert [items for _, items in sent] == [[{"orderItemId": a, "quantity": 1}], [{"orderItemId": b, "quantity": 1}]]
    assert len({ref for ref, _ in sent}) == 2                # two packages, each sent once
    packages = ctx.amazon.orders.get(oid, included=("PACKAGES",))["packages"]
    assert {p["packageReferenceId"]: _items(p) for p in packages} == {ref: dict([(i["orderItemId"], i["quantity"])
                                                                                 for i in items]) for ref, items in sent}
    assert sim.orders()[oid]["status"] == "SHIPPED" and ctx.sl.get_shipment_binding(shipper)["status"] == "PUSHED"
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "already_confirmed" and len(sim.confirmations()) == 2


@pytest.mark.parametrize("sl_dsn", ["sqlite"], indirect=True)
def test_a_box_already_confirmed_in_seller_central_is_not_sent_again_but_its_sibling_with_the_same_number_is(ctx, sim):
    oid, ord_nbr, (a, b) = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1},
                                             {"sku": sku_known(ctx, via_xref=True), "quantity": 1}])
    master = "1Z999AA10000000061"
    # a person confirmed the first box by hand in Seller Central (a reference the product never gave)
    ctx.amazon.orders.confirm_shipment(oid, marketplace_id=sim.orders()[oid]["marketplaceId"], carrier_code="UPS",
                                       package_reference_id=7, tracking_number=master,
                                       ship_date="2026-03-02T10:00:00Z", items=[(a, 1)])
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=[master, master])
    assert fulfillment.confirm(ctx, CPNY, shipper).value == "confirmed"
    sent = [c["packageDetail"] for c in sim.confirmations()][1:]
    assert [(p["trackingNumber"], p["orderItems"]) for p in sent] == [(master, [{"orderItemId": b, "quantity": 1}])]
    assert sent[0]["packageReferenceId"] != "7" and sim.orders()[oid]["status"] == "SHIPPED"
