"""An FBA sale booked on an order SL already has open (a mapping that creates Amazon-fulfilled orders before they
ship), on SQLite and PostgreSQL: the order closed, each open schedule queued for SL's planner (PLNSO) so its demand
goes, the shipper, IN batch and invoice written once; an order SL already made a shipper for is held, nothing
written; ``slsync db verify``'s fba_sales_booked finds an invoiced order left open."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from integration.errors import NeedsReview
from integration.sl import sandbox
from integration.sl.text import trim
from tests.sl.builders import a_binding, an_order
from tests.sl.test_cancel import _open_shipper, _read, _snapshot
from tests.sl.test_verify import CPNY, verify

SHIP_DAY = datetime(2026, 3, 16)


def _fba_order():
    order = an_order(lines=2)
    order.lines = [replace(line, site_id="FBA") for line in order.lines]
    order.ShipSiteID = "FBA"
    return order


def _shipped(order, shipped_at="2026-03-16T18:00:00Z"):
    return replace(a_binding(order, "SHIPPED"), last_updated=shipped_at, payload_hash="shipped", shipped_at=shipped_at)


def test_an_open_fba_order_is_closed_planned_away_and_booked_once(gateway, dsn):
    order = _fba_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    booked = gateway.book_fba_sale(_shipped(order), order=None, ship_date=SHIP_DAY)
    assert (booked.sl_status.strip(), booked.ord_nbr.strip()) == ("INVOICED", ord_nbr)
    assert _read(gateway, 'SELECT "Status", "UnshippedBalance", "NextFunctionID" FROM "SOHeader" WHERE "OrdNbr" = ?',
                 ord_nbr) == [("C", 0, "")]
    assert _read(gateway, 'SELECT "Status", "QtyShip", "QtyOpenShip" FROM "SOSched" WHERE "OrdNbr" = ? '
                          'ORDER BY "LineRef"', ord_nbr) == [("C", 1, 0), ("C", 2, 0)]
    plans = _read(gateway, 'SELECT "SOLineRef", "SOSchedRef" FROM "ProcessQueue" WHERE "SOOrdNbr" = ? '
                           'AND "ProcessType" = ? ORDER BY "ProcessQueueID"', ord_nbr, "PLNSO")
    assert plans[-2:] == [("00001", "00001"), ("00002", "00001")]      # after the two of the order's creation
    issued = _read(gateway, 'SELECT "InvtID", "Qty", "SiteID", "PerPost" FROM "INTran" WHERE "BatNbr" = ? '
                            'ORDER BY "LineRef"', trim(booked.in_bat_nbr))
    assert issued == [("WIDGET-0001", 1, "FBA", "202603"), ("WIDGET-0002", 2, "FBA", "202603")]
    (doc_date, per_post), = _read(gateway, 'SELECT "DocDate", "PerPost" FROM "ARDoc" WHERE "RefNbr" = ? '
                                           'AND "DocType" = ?', trim(booked.invc_ref_nbr), "IN")
    assert per_post == "202603" and gateway.db.run(lambda r: r.dt(doc_date)) == SHIP_DAY
    before = _snapshot(gateway, ord_nbr)
    again = gateway.book_fba_sale(_shipped(order, "2026-03-17T09:00:00Z"), order=None, ship_date=SHIP_DAY)
    assert again.shipper_id == booked.shipper_id and _snapshot(gateway, ord_nbr) == before
    code, _, output = verify(dsn)
    assert code == 0, output


def test_an_fba_order_sl_already_made_a_shipper_for_is_held_and_nothing_written(gateway):
    order = _fba_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    _open_shipper(gateway, ord_nbr)
    before = _snapshot(gateway, ord_nbr)
    with pytest.raises(NeedsReview) as held:
        gateway.book_fba_sale(_shipped(order), order=None, ship_date=SHIP_DAY)
    assert held.value.reason == "shipper_exists"
    assert _snapshot(gateway, ord_nbr) == before
    assert not gateway.get_order_binding(order.CustOrdNbr).shipper_id.strip()


def test_verify_finds_an_fba_sale_left_open_and_an_issue_short_of_the_shipment(gateway, dsn):
    order = _fba_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    booked = gateway.book_fba_sale(_shipped(order), order=None, ship_date=SHIP_DAY)
    sandbox.update_rows(gateway.db, "SOHeader", {"Status": "O"}, {"CpnyID": CPNY, "OrdNbr": ord_nbr})
    sandbox.update_rows(gateway.db, "INTran", {"Qty": 1}, {"BatNbr": trim(booked.in_bat_nbr), "LineRef": "00002"})
    code, _, output = verify(dsn)
    assert code == 1 and "fba_sales_booked" in output and "order Status O" in output
    assert "INTran issues 2 of 3 shipped" in output, output
