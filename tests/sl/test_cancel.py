"""Cancellation as SL cancels (issue 13), on SQLite and PostgreSQL: the union of WS_CANCELSALESORDER and
ADG_UpdtShip_CancelOrder, an open shipper cancelled as CancelShippersWS does, a picked or confirmed shipper held with
nothing written, PLNSO queued per schedule; Amazon's item-level cancellation reduces the line, its schedule and the
order's money; ``slsync db verify``'s cancellations_complete finds a half-cancelled order."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.sl import OrderBinding, sandbox
from integration.sl.models import OrderTax
from integration.sl.rows import Rows
from integration.sl.text import NO_DATE, trim
from tests.sl.builders import a_binding, an_order
from tests.sl.test_verify import CPNY, sql, verify


def _cancelled(oid: str) -> OrderBinding:
    return OrderBinding(oid, "2026-03-14T10:00:00Z", "h2", "CANCELED")


def _read(gateway, statement: str, *params) -> list[tuple]:
    return gateway.db.run(lambda r: [tuple(trim(x) for x in row) for row in r.all(statement, list(params))],
                          write=False)


def _open_shipper(gateway, ord_nbr: str, picked: float = 0, confirmed: int = 0) -> str:
    """A shipper SL's Process Manager made for the order (PRCSO): open, not confirmed, picked as given."""
    shipper = sandbox.create_confirmed_shipper(gateway.db, CPNY, ord_nbr, tracking_numbers=["1Z999"])
    sandbox.update_rows(gateway.db, "SOShipHeader", {"ShippingConfirmed": confirmed, "ShippingManifested": 0,
                                                     "ShipDateAct": NO_DATE, "NextFunctionID": "4011000",
                                                     "NextFunctionClass": "0100"},
                        {"CpnyID": CPNY, "ShipperID": shipper})
    sandbox.update_rows(gateway.db, "SOShipLine", {"QtyPick": picked, "Status": "O"},
                        {"CpnyID": CPNY, "ShipperID": shipper})
    return shipper


def _snapshot(gateway, ord_nbr: str) -> tuple:
    return tuple(_read(gateway, f'SELECT * FROM "{t}" WHERE "CpnyID" = ? AND "{k}" = ?', CPNY, ord_nbr)
                 for t, k in (("SOHeader", "OrdNbr"), ("SOLine", "OrdNbr"), ("SOSched", "OrdNbr"),
                              ("SOShipHeader", "OrdNbr"), ("ProcessQueue", "SOOrdNbr")))


def test_cancel_closes_the_order_and_cancels_its_open_shipper(gateway, dsn):
    """Header dated, cancelled, closed, no next step, no unshipped balance; lines, schedules and SOLot closed; the
    unpicked open shipper Cancelled 1 / Status C / DateCancelled with PLNSH and PRCSH queued; PLNSO per schedule;
    verify clean."""
    order = an_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    shipper = _open_shipper(gateway, ord_nbr)
    sql(gateway, 'INSERT INTO "SOLot" ("CpnyID", "OrdNbr", "LineRef", "SchedRef", "LotSerRef", "InvtID", "Status") '
                 'VALUES (?, ?, ?, ?, ?, ?, ?)', CPNY, ord_nbr, "00001", "00001", "00001", "WIDGET-0001", "O")
    before = _read(gateway, 'SELECT COUNT(*) FROM "ProcessQueue" WHERE "SOOrdNbr" = ? AND "ProcessType" = ?',
                   ord_nbr, "PLNSO")[0][0]

    assert gateway.cancel_sales_order(ord_nbr, _cancelled(order.CustOrdNbr)) is True

    (status, cancelled, cancel_date, date_cancelled, step, cls, unshipped, cury_unshipped), = _read(
        gateway, 'SELECT "Status", "Cancelled", "CancelDate", "DateCancelled", "NextFunctionID", "NextFunctionClass", '
        '"UnshippedBalance", "CuryUnshippedBalance" FROM "SOHeader" WHERE "OrdNbr" = ?', ord_nbr)
    assert (status, cancelled, step, cls, unshipped, cury_unshipped) == ("C", 1, "", "", 0, 0)
    assert gateway.db.run(lambda r: r.dt(cancel_date) > NO_DATE and r.dt(date_cancelled) > NO_DATE, write=False)
    for table in ("SOLine", "SOSched", "SOLot"):
        assert {s for (s,) in _read(gateway, f'SELECT "Status" FROM "{table}" WHERE "OrdNbr" = ?', ord_nbr)} == {"C"}
    (ship_status, ship_cancelled), = _read(gateway, 'SELECT "Status", "Cancelled" FROM "SOShipHeader" '
                                                    'WHERE "ShipperID" = ?', shipper)
    assert (ship_status, ship_cancelled) == ("C", 1)
    queued = _read(gateway, 'SELECT "ProcessType", "SOLineRef", "SOSchedRef", "ProcessPriority" FROM "ProcessQueue" '
                            'WHERE "SOOrdNbr" = ? AND "ProcessType" = ? ORDER BY "ProcessQueueID"', ord_nbr, "PLNSO")
    assert queued[before:] == [("PLNSO", f"{n:05d}", "00001", 150) for n in (1, 2, 3)]
    assert sorted(_read(gateway, 'SELECT "ProcessType", "ProcessPriority" FROM "ProcessQueue" '
                                 'WHERE "SOShipperID" = ?', shipper)) == [("PLNSH", 250), ("PRCSH", 255)]
    assert gateway.cancel_sales_order(ord_nbr, _cancelled(order.CustOrdNbr)) is False   # once

    code, lines, output = verify(dsn)
    assert code == 0 and lines["cancellations_complete"].startswith("OK"), output


@pytest.mark.parametrize("picked,confirmed,reason", [(1, 0, "shipper_picked"), (0, 1, "order_shipped")])
def test_cancel_with_a_picked_or_confirmed_shipper_is_held_and_writes_nothing(gateway, picked, confirmed, reason):
    order = an_order(lines=2)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    _open_shipper(gateway, ord_nbr, picked=picked, confirmed=confirmed)
    before = _snapshot(gateway, ord_nbr)
    with pytest.raises(NeedsReview) as caught:
        gateway.cancel_sales_order(ord_nbr, _cancelled(order.CustOrdNbr))
    assert caught.value.reason == reason
    assert _snapshot(gateway, ord_nbr) == before


def _taxed_order():
    order = an_order(lines=3, tax=OrderTax("AMZMF", Decimal("6.48"), Decimal("0.50")))
    # lines: 1 x 11.05, 2 x 12.05, 3 x 13.05 = 74.30; + 4.99 freight + 6.98 tax = 86.27
    order.lines[1].discount = Decimal("2.00")   # a promotion: 22.10 on line 2, stated as its DiscPct
    return order


def test_item_cancellation_reduces_line_schedule_and_money(gateway, dsn):
    """Amazon cancels one of line 2's two units and all of line 3: line 2 QtyOrd 1 at its price less its discount
    percent (SL's way), line 3 closed with 0; schedules follow; header = lines + freight + misc + tax, SOTax and
    schedules' tax Amazon's new tax; PLNSO for each changed schedule; verify clean."""
    order = _taxed_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    now = an_order(lines=3, order_id=order.CustOrdNbr, tax=OrderTax("AMZMF", Decimal("2.04"), Decimal("0.50")))
    now.lines = [order.lines[0], order.lines[1]]
    now.lines[1] = replace(order.lines[1], qty=Decimal(1), discount=Decimal("1.00"))
    now.expected_total = Decimal("11.05") + Decimal("11.05") + Decimal("4.99") + Decimal("2.54")   # 29.63
    binding = OrderBinding(order.CustOrdNbr, "2026-03-14T11:00:00Z", "h3", "UNSHIPPED")

    changed = gateway.reduce_sales_order(ord_nbr, now, binding)
    assert [(c["LineRef"], c["from"], c["to"]) for c in changed] == [("00002", "2", "1"), ("00003", "3", "0")]
    lines = _read(gateway, 'SELECT "LineRef", "QtyOrd", "QtyOpenShip", "TotOrd", "Status" FROM "SOLine" '
                           'WHERE "OrdNbr" = ? ORDER BY "LineRef"', ord_nbr)
    assert [(r, q, o, round(t, 2), s) for r, q, o, t, s in lines] == [
        ("00001", 1, 1, 11.05, "O"), ("00002", 1, 1, 11.05, "O"), ("00003", 0, 0, 0, "C")]
    scheds = _read(gateway, 'SELECT "QtyOrd", "QtyOpenShip", "Status", "TaxAmt00" FROM "SOSched" WHERE "OrdNbr" = ? '
                            'ORDER BY "LineRef"', ord_nbr)
    assert [s[:3] for s in scheds] == [(1, 1, "O"), (1, 1, "O"), (0, 0, "C")]
    assert round(sum(s[3] for s in scheds), 2) == 2.04
    (merch, frt, tax, total, unshipped), = _read(gateway, 'SELECT "TotMerch", "TotFrt", "TotTax", "TotOrd", '
                                                          '"UnshippedBalance" FROM "SOHeader" WHERE "OrdNbr" = ?',
                                                 ord_nbr)
    assert [round(x, 2) for x in (merch, frt, tax, total, unshipped)] == [22.10, 4.99, 2.54, 29.63, 29.63]
    assert _read(gateway, 'SELECT "SOLineRef", "SOSchedRef" FROM "ProcessQueue" WHERE "SOOrdNbr" = ? AND '
                          '"ProcessType" = ? AND "SOLineRef" IN (?, ?) ORDER BY "ProcessQueueID"', ord_nbr, "PLNSO",
                 "00002", "00003")[-2:] == [("00002", "00001"), ("00003", "00001")]
    assert gateway.get_order_binding(order.CustOrdNbr).payload_hash == "h3"
    assert gateway.reduce_sales_order(ord_nbr, now, binding) == []   # applied once
    code, _, output = verify(dsn)
    assert code == 0, output


def test_item_cancellation_that_does_not_explain_the_total_writes_nothing(gateway):
    order = _taxed_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    now = an_order(lines=1, order_id=order.CustOrdNbr, tax=OrderTax("AMZMF", Decimal("0.99"), Decimal("0.50")))
    now.lines = [order.lines[0]]
    now.expected_total = Decimal("30.00")
    before = _snapshot(gateway, ord_nbr)
    with pytest.raises(NeedsReview) as caught:
        gateway.reduce_sales_order(ord_nbr, now, OrderBinding(order.CustOrdNbr, "2026-03-14T11:00:00Z", "h3",
                                                              "UNSHIPPED"))
    assert caught.value.reason == "total_changed" and caught.value.details["amazon_total"] == "30.00"
    assert _snapshot(gateway, ord_nbr) == before


def test_verify_cancellations_complete_finds_a_half_cancelled_order(gateway, dsn):
    """A cancelled order still at a next step with its unshipped balance and an open shipper fails (SL's old
    product cancel: Status and Cancelled only); one the product cancels passes."""
    order = an_order(lines=1)
    half = gateway.create_sales_order(order, a_binding(order))
    _open_shipper(gateway, half)

    def old_cancel(rows: Rows) -> None:
        rows.update("SOHeader", {"Status": "C", "Cancelled": 1}, {"CpnyID": CPNY, "OrdNbr": half})
        rows.update("SOLine", {"Status": "C"}, {"CpnyID": CPNY, "OrdNbr": half})
        rows.update("SOSched", {"Status": "C"}, {"CpnyID": CPNY, "OrdNbr": half})
    gateway.db.run(old_cancel)
    other = an_order(lines=1)
    done = gateway.create_sales_order(other, a_binding(other))
    gateway.cancel_sales_order(done, _cancelled(other.CustOrdNbr))

    code, lines, output = verify(dsn)
    line = lines["cancellations_complete"]
    assert code == 1 and line.startswith("FAIL") and "1 of 2" in line, output
    assert f"{half} (CancelDate not set, next step " in line and "UnshippedBalance" in line, output
    assert "1 open shipper(s)" in line and done not in line
    assert lines["cancelled_consistent"].startswith("OK")
