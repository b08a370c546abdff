"""The sales order as SL's own processes need it (issue 12), on SQLite and on PostgreSQL through ODBC.

Each test states the SL rule it protects; the SL procedures named are SL's own (a production install's database).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.sl import MiscCharge, OrderTax, sandbox
from tests.sl.builders import a_binding, an_order


def _rows(gw, sql, *params):
    return gw.db.run(lambda r: r.all(sql, list(params)), write=False)


def test_schedules_are_born_open_for_planning_and_shipping(gateway):
    """ADG_ProcessMgr_ExpiredSchedules / ADG_UpdtShip_GetZeroScheds expire a schedule whose CancelDate is on or
    before today; planning and shipping take only CancelDate > today. An order from weeks ago is still open."""
    order = an_order(lines=2, OrdDate=datetime.now() - timedelta(days=40))
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for (cancel,) in _rows(gateway, 'SELECT "CancelDate" FROM "SOSched" WHERE "OrdNbr" = ?', ord_nbr) + \
            _rows(gateway, 'SELECT "CancelDate" FROM "SOLine" WHERE "OrdNbr" = ?', ord_nbr):
        assert gateway.db.dialect.from_db_datetime(cancel) > today + timedelta(days=80)


def test_the_order_types_cancel_days_win_over_the_mapping(gateway):
    """SL's order screen takes CancelDate from SOType.CancelDays: where the company set it, we do too."""
    sandbox.update_rows(gateway.db, "SOType", {"CancelDays": 7}, {"CpnyID": "AMZDEMO", "SOTypeID": "SO"})
    gateway.look = type(gateway.look)()   # the order type is read afresh
    ship_by = datetime.now() + timedelta(days=2)
    order = an_order(lines=1, ShipDate=ship_by.replace(second=0, microsecond=0), cancel_days=90)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    (cancel,), = _rows(gateway, 'SELECT "CancelDate" FROM "SOSched" WHERE "OrdNbr" = ?', ord_nbr)
    got = gateway.db.dialect.from_db_datetime(cancel)
    assert ship_by + timedelta(days=6) < got <= ship_by + timedelta(days=7, minutes=1)


def test_amazons_promise_dates_are_the_schedules_dates(gateway):
    """Planning (ADG_Plan_DemandSched) reads SOSched.ReqDate/PromDate/ReqPickDate; the ship-by is when it must leave."""
    ship_by, deliver_by = datetime(2026, 3, 16), datetime(2026, 3, 20)
    order = an_order(lines=1, ReqDate=deliver_by, PromDate=deliver_by, ShipDate=ship_by)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    (req, prom, ship, pick), = _rows(gateway, 'SELECT "ReqDate", "PromDate", "ShipDate", "ReqPickDate" FROM "SOSched" '
                                              'WHERE "OrdNbr" = ?', ord_nbr)
    dt = gateway.db.dialect.from_db_datetime
    assert (dt(req), dt(prom), dt(ship), dt(pick)) == (deliver_by, deliver_by, ship_by, ship_by)


def test_terms_bill_to_and_ship_to_id_come_from_the_customer(gateway):
    """SOHeader.TermsID and the bill-to block are the customer's (AR needs terms for the due date); ShiptoType C
    names an SOAddress row (ADG_CreateShipper_GetAddr reads SOAddress by CustID + ShiptoID), ShipAddrSpecial 1 says
    the order carries its own address."""
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    (terms, bill, ship_to_id, special, typ), = _rows(
        gateway, 'SELECT "TermsID", "BillName", "ShiptoID", "ShipAddrSpecial", "ShiptoType" FROM "SOHeader" '
                 'WHERE "OrdNbr" = ?', ord_nbr)
    assert (terms, bill, ship_to_id, special, typ) == ("30", "Amazon.com", "DEFAULT", 1, "C")
    assert _rows(gateway, 'SELECT 1 FROM "SOAddress" WHERE "CustId" = ? AND "ShipToId" = ?', "AMZUS", ship_to_id)
    (sched_ship_to,), = {r for r in _rows(gateway, 'SELECT "ShiptoID" FROM "SOSched" WHERE "OrdNbr" = ?', ord_nbr)}
    assert sched_ship_to == "DEFAULT"


def test_lines_carry_the_accounts_sl_posts_to_and_are_not_repriced(gateway):
    """SL's sales journal posts from the line's SlsAcct, COGSAcct, InvAcct and DiscAcct; ManualPrice = 1 keeps SL's
    price plans from repricing what Amazon charged."""
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    (row,) = _rows(gateway, 'SELECT "SlsAcct", "COGSAcct", "InvAcct", "DiscAcct", "ManualPrice" FROM "SOLine" '
                            'WHERE "OrdNbr" = ?', ord_nbr)
    assert row == ("4000", "5000", "1300", "4050", 1)


def test_a_ghost_item_order_is_on_admin_hold(gateway):
    """An order booked with a placeholder item must not be planned or shipped until a person fixes it: AdminHold."""
    order = an_order(lines=1, AdminHold=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    assert _rows(gateway, 'SELECT "AdminHold" FROM "SOHeader" WHERE "OrdNbr" = ?', ord_nbr) == [(1,)]


def test_fitted_address_lines_are_never_wrapped_again(gateway):
    """A short Addr1 and a separate Addr2 stay two lines; a 60-character street is not cut mid-word."""
    street = "Apartment 1204, Harborview Residential Tower North Building"[:60]
    order = an_order(lines=1, ShipAddr1="12 Elm St", ShipAddr2=street)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    head = gateway.sales_order(ord_nbr)
    assert (head["ShipAddr1"], head["ShipAddr2"]) == ("12 Elm St", street)


def test_header_money_is_lines_plus_freight_plus_misc_plus_tax(gateway):
    """SOHeader.TotOrd = TotMerch + TotFrt + TotMisc + TotTax, with SOMisc and SOTax rows behind TotMisc and TotTax;
    SL (or a tax engine) finds the tax decided in SOTax and does not add it again."""
    order = an_order(lines=2, TotFrt=Decimal("5.00"), misc=[MiscCharge("GIFTWRAP", Decimal("3.99"))],
                     tax=OrderTax("AMZMF", Decimal("4.21"), Decimal("0.41"), Decimal("0.33")))
    order.expected_total = Decimal("49.09")   # 11.05 + 2 x 12.05 + 5.00 + 3.99 + 4.95
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    (merch, frt, misc, tax, total, cntr), = _rows(gateway, 'SELECT "TotMerch", "TotFrt", "TotMisc", "TotTax", '
                                                           '"TotOrd", "MiscChrgCntr" FROM "SOHeader" WHERE "OrdNbr" = ?',
                                                  ord_nbr)
    assert (merch, frt, misc, tax, total, cntr) == pytest.approx((35.15, 5.00, 3.99, 4.95, 49.09, 1))
    assert _rows(gateway, 'SELECT "MiscChrgID", "MiscAcct" FROM "SOMisc" WHERE "OrdNbr" = ?', ord_nbr) == [
        ("GIFTWRAP", "4020")]
    (tax_row,) = _rows(gateway, 'SELECT "TaxID", "MerchTax", "FrtTax", "MiscTax", "TotTax" FROM "SOTax" '
                                'WHERE "OrdNbr" = ?', ord_nbr)
    assert tax_row == ("AMZMF", pytest.approx(4.21), pytest.approx(0.41), pytest.approx(0.33), pytest.approx(4.95))


def test_an_unknown_tax_id_or_misc_charge_is_held_before_anything_is_written(gateway):
    """SOTax names a SalesTax id and SOMisc a MiscCharge id; SL's release cannot post to ids it does not have."""
    headers = sandbox.count(gateway.db, "SOHeader")
    for kw, reason in ((dict(tax=OrderTax("NOSUCH")), "unknown_tax_id"),
                       (dict(misc=[MiscCharge("NOSUCH", Decimal("1"))]), "unknown_misc_charge")):
        order = an_order(lines=1, **kw)
        with pytest.raises(NeedsReview) as caught:
            gateway.create_sales_order(order, a_binding(order))
        assert caught.value.reason == reason
    assert sandbox.count(gateway.db, "SOHeader") == headers


def test_a_tax_id_whose_prices_include_the_tax_is_refused(gateway):
    """With SalesTax.PrcTaxIncl Y, SL's AR release takes the tax off the line (vp_08220SalesTaxARPrcTaxIncl): with our
    net prices the tax would come off the sales twice."""
    sandbox.update_rows(gateway.db, "SalesTax", {"PrcTaxIncl": "Y"}, {"TaxId": "AMZVAT"})
    order = an_order(lines=1, tax=OrderTax("AMZVAT", Decimal("1.00")))
    with pytest.raises(NeedsReview) as caught:
        gateway.create_sales_order(order, a_binding(order))
    assert caught.value.reason == "tax_id_price_includes_tax"


def test_a_total_that_differs_from_amazons_is_held_with_the_difference(gateway):
    order = an_order(lines=1, TotFrt=Decimal("4.99"))
    order.expected_total = Decimal("20.00")   # 11.05 + 4.99 = 16.04 in SL
    with pytest.raises(NeedsReview) as caught:
        gateway.create_sales_order(order, a_binding(order))
    assert caught.value.reason == "total_mismatch" and caught.value.details["difference"] == "3.96"
    assert gateway.get_order_binding(order.CustOrdNbr) is None


def test_a_closed_history_order_records_what_amazon_shipped_and_leaves_nothing_open(gateway):
    """history: closed: nothing for SL's Process Manager to plan or ship (no ProcessQueue, Status C, no next step),
    and QtyShip is what Amazon shipped, not what was ordered."""
    order = an_order(lines=2)
    order.lines[0].qty_shipped = Decimal(0)
    ord_nbr = gateway.create_sales_order(order, a_binding(order, "SHIPPED"), closed="shipped")
    assert _rows(gateway, 'SELECT "Status", "UnshippedBalance", "NextFunctionID" FROM "SOHeader" WHERE "OrdNbr" = ?',
                 ord_nbr) == [("C", 0, "")]
    assert _rows(gateway, 'SELECT "LineRef", "QtyOrd", "QtyShip", "QtyOpenShip", "Status" FROM "SOLine" '
                          'WHERE "OrdNbr" = ? ORDER BY "LineRef"', ord_nbr) == [("00001", 1, 0, 0, "C"),
                                                                              ("00002", 2, 2, 0, "C")]
    assert sandbox.count(gateway.db, "ProcessQueue", {"SOOrdNbr": ord_nbr}) == 0
    assert gateway.get_order_binding(order.CustOrdNbr).sl_status == "HISTORY"


def test_freight_terms_that_would_add_freight_of_their_own_are_refused(gateway):
    """SL prices a shipper's freight from the order's FrtTermsID (FrtTermDet by order value, ADG_Freight_FrtDet);
    Amazon already charged the buyer's shipping, so the terms the order names must compute nothing."""
    order = an_order(lines=1, FrtTermsID="AMAZON")
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    assert _rows(gateway, 'SELECT "FrtTermsID" FROM "SOHeader" WHERE "OrdNbr" = ?', ord_nbr) == [("AMAZON",)]
    sandbox.update_rows(gateway.db, "FrtTermDet", {"InvcAmtPct": 5}, {"FrtTermsID": "AMAZON"})
    gateway.look = type(gateway.look)()
    for terms, reason in (("AMAZON", "freight_terms_add_freight"), ("NOSUCH", "unknown_freight_terms")):
        order = an_order(lines=1, FrtTermsID=terms)
        with pytest.raises(NeedsReview) as caught:
            gateway.create_sales_order(order, a_binding(order))
        assert caught.value.reason == reason
