"""Amazon-fulfilled sales booked as SL books a shipped sale (issue 13), on SQLite and PostgreSQL, through the
simulator: the order closed with nothing left to plan or ship, a confirmed shipper at the FBA site, one IN batch
issuing the shipped quantity, one invoice for it dated the day Amazon reported the shipment, in that day's period;
an invoice step that fails (an error, or the process killed inside it) leaves nothing and the retry books it whole;
a replacement order at Amazon's zero price linked to the order it replaces."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal

import pytest

from integration.errors import Transient
from integration.sl import fba
from integration.sl.text import trim
from integration.sync import orders
from integration.timeutil import parse_amazon_time
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
)
from tests.orders.test_cancel_sl import _clean, _rows

FBA_SITE = "FBA"


def _shipped_fba_order(ctx, sim, lines=None, **spec) -> dict:
    sku = sku_known(ctx, "AFN")
    made = sim.create_order(lines or [{"sku": sku, "quantity": 3, "price": "12.50"}], fulfillment="AFN", **spec)
    return sim.change(made["orderId"], "ship")


def _ship_day(ctx, order: dict) -> datetime:
    zone = ctx.mapping.marketplace(order["salesChannel"]["marketplaceId"]).zone
    return parse_amazon_time(order["lastUpdatedTime"]).astimezone(zone).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def _booked(ctx, oid: str) -> dict:
    """What SL holds for an Amazon order: counts a person would look at."""
    b = ctx.sl.get_order_binding(oid)
    ord_nbr = b.ord_nbr.strip()
    return {
        "orders": len(_rows(ctx, 'SELECT "OrdNbr" FROM "SOHeader" WHERE "CustOrdNbr" = ?', oid)),
        "shippers": _rows(ctx, 'SELECT "ShipperID", "Status", "ShippingConfirmed", "SiteID", "INBatNbr", "InvcNbr" '
                               'FROM "SOShipHeader" WHERE "OrdNbr" = ?', ord_nbr),
        "issues": _rows(ctx, 'SELECT "BatNbr", "InvtID", "SiteID", "Qty", "InvtMult", "TranType", "JrnlType", '
                             '"RefNbr", "ShipperID", "PerPost", "Rlsed" FROM "INTran" WHERE "ShipperID" IN '
                             '(SELECT "ShipperID" FROM "SOShipHeader" WHERE "OrdNbr" = ?)', ord_nbr),
        "invoices": _rows(ctx, 'SELECT "RefNbr", "DocDate", "PerPost", "OrigDocAmt" FROM "ARDoc" WHERE "OrdNbr" = ? '
                               'AND "DocType" = ?', ord_nbr, "IN"),
        "binding": b,
    }


def test_an_fba_order_is_closed_shipped_issued_and_invoiced_on_the_ship_day(ctx, sim):
    """Three units shipped by Amazon 40 days from now (a later period than AR's current one): the order and its
    schedules closed, nothing queued for SL's planner, one confirmed shipper at the FBA site, one IN batch of three
    units left for release, one invoice for Amazon's total dated the ship day in the ship day's period."""
    sim.advance(40 * 86400)
    shipped = _shipped_fba_order(ctx, sim)
    oid = shipped["orderId"]
    out = orders.import_order(oid, ctx, fresh=True)
    assert out.value == "invoiced", out
    got = _booked(ctx, oid)
    ord_nbr = got["binding"].ord_nbr.strip()
    day = _ship_day(ctx, shipped)
    period = ctx.sl.db.run(lambda r: fba.period_of(r, day), write=False)
    assert period == f"{day.year}{day.month:02d}"       # the sandbox's calendar is the calendar year
    assert _rows(ctx, 'SELECT "Status", "UnshippedBalance" FROM "SOHeader" WHERE "OrdNbr" = ?', ord_nbr) == [("C", 0)]
    assert _rows(ctx, 'SELECT "Status", "QtyOrd", "QtyShip", "QtyOpenShip" FROM "SOSched" WHERE "OrdNbr" = ?',
                 ord_nbr) == [("C", 3, 3, 0)]
    assert _rows(ctx, 'SELECT COUNT(*) FROM "ProcessQueue" WHERE "SOOrdNbr" = ?', ord_nbr) == [(0,)]
    (shipper_id, status, confirmed, site, in_bat, invc_nbr), = got["shippers"]
    assert (status, confirmed, site) == ("C", 1, FBA_SITE)
    (bat, _, isite, qty, mult, tran_type, jrnl, ref, ship_ref, per_post, rlsed), = got["issues"]
    assert (bat, isite, qty, mult, tran_type, jrnl, ref, ship_ref, per_post, rlsed) == \
        (in_bat, FBA_SITE, 3, -1, "IN", "OM", invc_nbr, shipper_id, period, 0)
    (ref_nbr, doc_date, inv_period, amount), = got["invoices"]
    assert ref_nbr == invc_nbr and inv_period == period and ctx.sl.db.run(lambda r: r.dt(doc_date)) == day
    assert Decimal(str(amount)).quantize(Decimal("0.01")) == Decimal(shipped["proceeds"]["grandTotal"]["amount"])
    assert _rows(ctx, 'SELECT "Qty" FROM "ARTran" WHERE "RefNbr" = ? AND "TranClass" = ?', ref_nbr, "N") == [(3,)]
    b = got["binding"]
    assert (b.sl_status.strip(), b.shipped_at.strip(), b.shipper_id.strip(), b.in_bat_nbr.strip()) == \
        ("INVOICED", shipped["lastUpdatedTime"], shipper_id, in_bat)
    assert orders.import_order(oid, ctx, fresh=True).value == "unchanged"
    _clean(ctx)


def test_an_invoice_step_that_fails_once_leaves_nothing_and_the_retry_books_it_whole(ctx, sim, monkeypatch):
    shipped = _shipped_fba_order(ctx, sim)
    oid = shipped["orderId"]
    real, calls = fba.ar.create_document, []

    def failing(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            real(*args, **kw)        # the invoice rows are written, then the connection drops
            raise Transient("SL connection lost during the invoice")
        return real(*args, **kw)

    monkeypatch.setattr(fba.ar, "create_document", failing)
    with pytest.raises(Transient):
        orders.import_order(oid, ctx, fresh=True)
    assert ctx.sl.get_order_binding(oid) is None
    assert _rows(ctx, 'SELECT COUNT(*) FROM "SOHeader" WHERE "CustOrdNbr" = ?', oid) == [(0,)]
    assert _rows(ctx, 'SELECT COUNT(*) FROM "ARDoc" WHERE "CustOrdNbr" = ?', oid) == [(0,)]
    assert orders.import_order(oid, ctx, fresh=True).value == "invoiced"
    got = _booked(ctx, oid)
    assert (got["orders"], len(got["shippers"]), len(got["issues"]), len(got["invoices"])) == (1, 1, 1, 1)
    _clean(ctx)


CRASH = """
import os, signal, sys
from integration.sl import fba
real = fba.ar.create_document
def crash(*args, **kw):
    real(*args, **kw)
    os.kill(os.getpid(), signal.SIGKILL)     # the process dies with the invoice written, nothing committed
fba.ar.create_document = crash
from integration.sync.context import build_context
from integration.sync import orders
orders.import_order(sys.argv[1], build_context(), fresh=True)
"""


def test_a_process_killed_inside_the_invoice_step_leaves_nothing_and_the_retry_books_it_whole(ctx, sim, env):
    shipped = _shipped_fba_order(ctx, sim)
    oid = shipped["orderId"]
    proc = subprocess.run([sys.executable, "-c", CRASH, oid], env={**os.environ, **env}, capture_output=True,
                          timeout=120, cwd=os.getcwd())
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert ctx.sl.get_order_binding(oid) is None
    assert _rows(ctx, 'SELECT COUNT(*) FROM "SOHeader" WHERE "CustOrdNbr" = ?', oid) == [(0,)]
    assert orders.import_order(oid, ctx, fresh=True).value == "invoiced"
    got = _booked(ctx, oid)
    assert (got["orders"], len(got["shippers"]), len(got["issues"]), len(got["invoices"])) == (1, 1, 1, 1)
    _clean(ctx)


def test_a_replacement_at_zero_is_linked_to_its_original_and_issues_stock_without_an_invoice(ctx, sim):
    first = _shipped_fba_order(ctx, sim)
    assert orders.import_order(first["orderId"], ctx, fresh=True).value == "invoiced"
    sku = sku_known(ctx, "AFN")
    made = sim.create_order([{"sku": sku, "quantity": 1, "price": "0.00"}], fulfillment="AFN",
                            replaces=first["orderId"])
    assert made["associatedOrders"] == [{"orderId": first["orderId"], "associationType": "REPLACEMENT_ORIGINAL_ID"}]
    repl = sim.change(made["orderId"], "ship")
    assert Decimal(repl["proceeds"]["grandTotal"]["amount"]) == 0
    assert orders.import_order(repl["orderId"], ctx, fresh=True).value == "invoiced"
    got = _booked(ctx, repl["orderId"])
    assert got["binding"].original_order_id.strip() == first["orderId"]
    (shipper_id, *_, invc_nbr), = got["shippers"]
    assert invc_nbr == shipper_id and got["invoices"] == []     # DMG_10400_Upd_Shipper's "ShipperID as RefNbr"
    (_, _, _, qty, *_rest), = got["issues"]
    assert qty == 1 and got["issues"][0][7] == shipper_id
    _clean(ctx)


def test_an_fba_order_shipped_in_part_waits_and_one_reported_shipped_short_is_held(ctx, sim):
    """Amazon ships two of three: PARTIALLY_SHIPPED, nothing booked yet (the mapping waits for AFN). A payload that
    says SHIPPED while an item's quantityShipped is short of its quantityOrdered is held, nothing written."""
    sku = sku_known(ctx, "AFN")
    made = sim.create_order([{"sku": sku, "quantity": 3}], fulfillment="AFN")
    item = made["orderItems"][0]["orderItemId"]
    part = sim.change(made["orderId"], "ship", items=[{"orderItemId": item, "quantity": 2}])
    assert part["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert orders.import_order(made["orderId"], ctx, fresh=True).value == "waiting"
    odd = {**part, "fulfillment": {**part["fulfillment"], "fulfillmentStatus": "SHIPPED"}}
    out = orders.apply_order(odd, ctx)
    assert (out.value, out.detail) == ("held", "fba_short_shipment"), out
    assert _rows(ctx, 'SELECT COUNT(*) FROM "SOHeader" WHERE "CustOrdNbr" = ?', made["orderId"]) == [(0,)]
    (hold,) = [h for h in ctx.sl.list_holds(status="OPEN", entity="order") if h.key == made["orderId"]]
    assert "shipped 2 of 3" in hold.message


def test_the_period_of_a_date_follows_sl_for_a_fiscal_year_starting_in_july(ctx):
    """ADG_GLPeriod_GetPerFromDateOut: periods ending 0731 ... 0630; BegFiscalYr 0 names the year it ends in."""
    from integration.sl import sandbox

    ends = ["0731", "0831", "0930", "1031", "1130", "1231", "0131", "0228", "0331", "0430", "0531", "0630"]
    sandbox.update_rows(ctx.sl.db, "GLSetup", {"BegFiscalYr": 0, **{f"FiscalPerEnd{n:02d}": e
                                                                    for n, e in enumerate(ends)}})

    def period(y, m, d):
        return ctx.sl.db.run(lambda r: fba.period_of(r, datetime(y, m, d)), write=False)

    assert [period(2026, 7, 1), period(2026, 12, 31), period(2027, 1, 1), period(2027, 2, 29 - 1),
            period(2027, 6, 30)] == ["202701", "202706", "202707", "202708", "202712"]
    sandbox.update_rows(ctx.sl.db, "GLSetup", {"BegFiscalYr": 1})
    assert period(2026, 8, 15) == "202602" and period(2027, 3, 1) == "202609"
    assert trim(period(2026, 7, 31)) == "202601"


def test_a_merchant_replacement_order_is_linked_to_its_original(ctx, sim):
    first = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    assert orders.import_order(first["orderId"], ctx, fresh=True).value == "created"
    repl = sim.create_order([{"sku": sku_known(ctx), "quantity": 1, "price": "0.00"}], replaces=first["orderId"],
                            exchange=True)
    assert orders.import_order(repl["orderId"], ctx, fresh=True).value == "created"
    assert ctx.sl.get_order_binding(repl["orderId"]).original_order_id.strip() == first["orderId"]
    _clean(ctx)


def test_the_fba_shipper_is_never_offered_to_confirm_shipment(ctx, sim):
    """Our FBA shipper is bound SKIPPED_AFN as it is written: the shipment sweep never hands it out (no getOrder,
    no confirmShipment for an order Amazon shipped)."""
    from integration.sync import fulfillment

    shipped = _shipped_fba_order(ctx, sim)
    assert orders.import_order(shipped["orderId"], ctx, fresh=True).value == "invoiced"
    shipper = ctx.sl.get_order_binding(shipped["orderId"]).shipper_id.strip()
    assert ctx.sl.get_shipment_binding(shipper)["status"].strip() == "SKIPPED_AFN"
    found: list = []
    fulfillment.sweep(ctx, enqueue=found.extend)
    assert found == [] and sim.confirmations() == []
