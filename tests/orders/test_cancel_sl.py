"""Amazon's cancellations reach SL as SL cancels (issue 13), on SQLite and PostgreSQL, through the simulator:
an item Amazon cancels (its quantityOrdered lowered, ``/_sandbox/orders/{id}/status`` ``cancel_item``) reduces the
open SL line and its schedule and the order still totals Amazon's, instead of a ``total_changed`` hold; the whole
order cancelled with an untouched open shipper cancels both; with a confirmed shipper it is held, nothing written."""

from __future__ import annotations

from decimal import Decimal

from integration.sl import sandbox
from integration.sl.text import trim
from integration.sl.verify import verify
from integration.sync import orders
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
)

CPNY = "AMZDEMO"


def _rows(ctx, statement: str, *params) -> list[tuple]:
    return ctx.sl.db.run(lambda r: [tuple(trim(x) for x in row) for row in r.all(statement, list(params))],
                         write=False)


def _clean(ctx) -> None:
    results = verify(ctx.sl.db, CPNY)
    assert all(r.status == "OK" for r in results), [r.as_dict() for r in results if r.status != "OK"]


def test_an_item_cancelled_at_amazon_reduces_the_open_sl_line(ctx, sim):
    """Two of three units cancelled: SOLine and SOSched QtyOrd 1, the line's money SL's way (its promotion per unit
    with it), SL's total Amazon's new total, no hold, ``slsync db verify`` clean."""
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 3, "price": "20.00", "discount": "6.00"},
                             {"sku": sku_known(ctx), "quantity": 1, "price": "9.50"}])
    oid = made["orderId"]
    assert orders.import_order(oid, ctx, fresh=True).value == "created"
    ord_nbr = ctx.sl.get_order_binding(oid).ord_nbr
    first = made["orderItems"][0]

    after = sim.change(oid, "cancel_item", items=[{"orderItemId": first["orderItemId"], "quantity": 2}])
    item = after["orderItems"][0]
    assert item["quantityOrdered"] == 1 and item["cancellation"]["cancellationExecution"]["cancelledBy"] == "BUYER"
    out = orders.import_order(oid, ctx, fresh=True)
    assert (out.value, out.detail) == ("updated", "items_cancelled"), out
    assert not [h for h in ctx.sl.list_holds(status="OPEN", entity="order") if h.key == oid]
    (qty, open_qty, tot), _ = _rows(ctx, 'SELECT "QtyOrd", "QtyOpenShip", "TotOrd" FROM "SOLine" WHERE "OrdNbr" = ? '
                                         'ORDER BY "LineRef"', ord_nbr)
    assert (qty, open_qty, round(tot, 2)) == (1, 1, 18.00)   # 20.00 less a third of the 6.00 promotion
    assert _rows(ctx, 'SELECT "QtyOrd", "QtyOpenShip" FROM "SOSched" WHERE "OrdNbr" = ? AND "LineRef" = ?',
                 ord_nbr, "00001") == [(1, 1)]
    (sl_total,), = _rows(ctx, 'SELECT "TotOrd" FROM "SOHeader" WHERE "OrdNbr" = ?', ord_nbr)
    amazon_total = Decimal(after["proceeds"]["grandTotal"]["amount"])
    assert Decimal(str(sl_total)).quantize(Decimal("0.01")) == amazon_total
    _clean(ctx)


def test_a_cancelled_order_cancels_its_open_shipper_and_a_confirmed_one_is_held(ctx, sim):
    """CancelShippersWS's way for the shipper nothing was picked on; cancel_after_ship for the confirmed one, whose
    order and shipper stay as they were."""
    open_made = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    shipped_made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    for made in (open_made, shipped_made):
        assert orders.import_order(made["orderId"], ctx, fresh=True).value == "created"
    open_nbr = ctx.sl.get_order_binding(open_made["orderId"]).ord_nbr
    shipped_nbr = ctx.sl.get_order_binding(shipped_made["orderId"]).ord_nbr
    waiting = sandbox.create_confirmed_shipper(ctx.sl.db, CPNY, open_nbr)
    sandbox.update_rows(ctx.sl.db, "SOShipHeader", {"ShippingConfirmed": 0, "ShippingManifested": 0},
                        {"CpnyID": CPNY, "ShipperID": waiting})
    sandbox.update_rows(ctx.sl.db, "SOShipLine", {"QtyPick": 0}, {"CpnyID": CPNY, "ShipperID": waiting})
    gone = sandbox.create_confirmed_shipper(ctx.sl.db, CPNY, shipped_nbr, tracking_numbers=["1Z1"])

    for made in (open_made, shipped_made):
        sim.change(made["orderId"], "cancel")
    assert orders.import_order(open_made["orderId"], ctx, fresh=True).value == "cancelled"
    held = orders.import_order(shipped_made["orderId"], ctx, fresh=True)
    assert (held.value, held.detail) == ("held", "cancel_after_ship")

    assert _rows(ctx, 'SELECT "Status", "Cancelled" FROM "SOShipHeader" WHERE "ShipperID" = ?', waiting) == [("C", 1)]
    assert _rows(ctx, 'SELECT "Status", "Cancelled", "NextFunctionID", "UnshippedBalance" FROM "SOHeader" '
                      'WHERE "OrdNbr" = ?', open_nbr) == [("C", 1, "", 0)]
    assert _rows(ctx, 'SELECT "Status", "Cancelled" FROM "SOHeader" WHERE "OrdNbr" = ?', shipped_nbr) == [("O", 0)]
    assert _rows(ctx, 'SELECT "Cancelled" FROM "SOShipHeader" WHERE "ShipperID" = ?', gone) == [(0,)]
    _clean(ctx)


def test_an_item_cancelled_after_sl_made_a_shipper_is_held_and_the_shipper_left_alone(ctx, sim):
    """The warehouse works from the shipper's quantity: SL's own screen refuses less than is shipped, so Amazon's
    cancelled unit is not taken off by us; held (shipper_exists) naming the line, nothing written."""
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 3, "price": "20.00"}])
    oid = made["orderId"]
    assert orders.import_order(oid, ctx, fresh=True).value == "created"
    ord_nbr = ctx.sl.get_order_binding(oid).ord_nbr
    shipper = sandbox.create_confirmed_shipper(ctx.sl.db, CPNY, ord_nbr)
    before = _rows(ctx, 'SELECT "QtyOrd", "QtyShip", "TotOrd" FROM "SOLine" WHERE "OrdNbr" = ?', ord_nbr)
    sim.change(oid, "cancel_item", items=[{"orderItemId": made["orderItems"][0]["orderItemId"], "quantity": 1}])
    out = orders.import_order(oid, ctx, fresh=True)
    assert (out.value, out.detail) == ("held", "shipper_exists"), out
    assert _rows(ctx, 'SELECT "QtyOrd", "QtyShip", "TotOrd" FROM "SOLine" WHERE "OrdNbr" = ?', ord_nbr) == before
    assert _rows(ctx, 'SELECT "QtyShip" FROM "SOShipLine" WHERE "ShipperID" = ?', shipper) == [(3,)]
