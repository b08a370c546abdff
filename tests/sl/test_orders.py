"""Sales orders through the gateway, on SQLite and on PostgreSQL through ODBC."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.sl import Event, sandbox
from integration.sl.rows import Rows
from tests.sl.builders import a_binding, an_order


def _count(gw, table, **where):
    return sandbox.count(gw.db, table, where or None)


def test_an_order_writes_header_lines_schedules_queue_binding_and_event(gateway):
    order = an_order(lines=3)
    ord_nbr = gateway.create_sales_order(order, a_binding(order), Event("order", order.CustOrdNbr, "imported", "t-1"))
    so = gateway.sales_order(ord_nbr)
    assert so["CustOrdNbr"] == order.CustOrdNbr and so["Status"] == "O" and so["LineCntr"] == 3
    # 1x10.05*... : merch = 1*11.05 + 2*12.05 + 3*13.05 = 74.30, freight 4.99
    assert so["TotOrd"] == pytest.approx(79.29)
    assert [line["InvtID"] for line in so["lines"]] == ["WIDGET-0001", "WIDGET-0002", "WIDGET-0003"]
    assert so["lines"][0]["User1"].endswith("001")
    assert _count(gateway, "SOSched", OrdNbr=ord_nbr) == 3
    assert _count(gateway, "ProcessQueue", SOOrdNbr=ord_nbr, ProcessType="PLNSO") == 3
    assert _count(gateway, "ProcessQueue", SOOrdNbr=ord_nbr, ProcessType="PRCSO") == 1
    binding = gateway.get_order_binding(order.CustOrdNbr)
    assert (binding.ord_nbr, binding.status, binding.sl_status) == (ord_nbr, "UNSHIPPED", "OPEN")
    assert [e.action for e in gateway.events_for("order", order.CustOrdNbr)] == ["imported"]
    assert sandbox.read_counter(gateway.db, "AMZDEMO", "SO") == ord_nbr[1:]


def test_creating_an_already_bound_order_returns_its_number_and_writes_nothing(gateway):
    order = an_order()
    first = gateway.create_sales_order(order, a_binding(order))
    before = [_count(gateway, t) for t in ("SOHeader", "SOLine", "xAMZEvent")]
    counter = sandbox.read_counter(gateway.db, "AMZDEMO", "SO")
    assert gateway.create_sales_order(order, a_binding(order)) == first
    assert [_count(gateway, t) for t in ("SOHeader", "SOLine", "xAMZEvent")] == before
    assert sandbox.read_counter(gateway.db, "AMZDEMO", "SO") == counter


def test_a_duplicate_key_on_the_binding_is_already_done(gateway, monkeypatch):
    """A concurrent import won the race: our xAMZOrder insert collides and everything of ours rolls back."""
    from integration.sl import state

    order = an_order()
    first = gateway.create_sales_order(order, a_binding(order))
    headers, counter = _count(gateway, "SOHeader"), sandbox.read_counter(gateway.db, "AMZDEMO", "SO")
    real, calls = state.lock_binding, []

    def blind_first_time(rows, entity, where, fence):
        calls.append(where)
        return None if len(calls) == 1 else real(rows, entity, where, fence)

    monkeypatch.setattr(state, "lock_binding", blind_first_time)
    assert gateway.create_sales_order(order, a_binding(order)) == first
    assert _count(gateway, "SOHeader") == headers
    assert sandbox.read_counter(gateway.db, "AMZDEMO", "SO") == counter


def test_a_failure_between_header_and_lines_leaves_neither_and_no_binding(gateway, monkeypatch):
    order = an_order()
    counter = sandbox.read_counter(gateway.db, "AMZDEMO", "SO")
    real = Rows.insert_many

    def failing(self, table, rows):
        if table == "SOLine":
            raise RuntimeError("simulated crash after the header was written")
        return real(self, table, rows)

    monkeypatch.setattr(Rows, "insert_many", failing)
    with pytest.raises(Exception, match="simulated crash"):
        gateway.create_sales_order(order, a_binding(order))
    monkeypatch.undo()
    assert _count(gateway, "SOHeader", CustOrdNbr=order.CustOrdNbr) == 0
    assert _count(gateway, "SOLine") == 0 and _count(gateway, "ProcessQueue") == 0
    assert gateway.get_order_binding(order.CustOrdNbr) is None
    assert sandbox.read_counter(gateway.db, "AMZDEMO", "SO") == counter


def test_a_missing_value_needs_review_naming_the_field_and_writes_nothing(gateway):
    order = an_order()
    order.CustID = ""
    order.lines[1].site_id = ""
    with pytest.raises(NeedsReview) as caught:
        gateway.create_sales_order(order, a_binding(order))
    assert caught.value.reason == "missing_field"
    assert set(caught.value.fields) == {"CustID", "lines[2].site_id"}
    assert _count(gateway, "SOHeader") == 0 and _count(gateway, "xAMZOrder") == 0


def test_an_identifier_that_does_not_fit_is_never_truncated(gateway):
    order = an_order(order_id="X" * 26)
    with pytest.raises(NeedsReview) as caught:
        gateway.create_sales_order(order, a_binding(order))
    assert caught.value.fields == ("SOHeader.CustOrdNbr",)
    assert _count(gateway, "SOHeader") == 0 and _count(gateway, "xAMZOrder") == 0


def test_a_long_address_is_wrapped_and_the_rest_noted(gateway):
    order = an_order(ShipAddr1="Building 7, Long Industrial Estate Road With A Very Long Name Indeed",
                     ShipAddr2="Unit 12, Third Floor, Receiving Dock B", ShipAddr3="Attention receiving clerk",
                     ShipName="N" * 70)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    event = gateway.events_for("order", order.CustOrdNbr)[0]
    assert "cut to 60" in event.detail and "rest:" in event.detail
    assert gateway.sales_order(ord_nbr)["CustOrdNbr"] == order.CustOrdNbr
    note = gateway.db.run(lambda r: r.scalar('SELECT n."sNoteText" FROM "Snote" n JOIN "SOHeader" h '
                                             'ON h."NoteId" = n."nID" WHERE h."OrdNbr" = ?', [ord_nbr]))
    assert "N" * 70 in note


def test_unknown_item_customer_or_ship_via_need_review(gateway):
    for change, reason in ((lambda o: setattr(o.lines[0], "invt_id", "NO-SUCH-ITEM"), "unknown_item"),
                           (lambda o: setattr(o, "CustID", "NOBODY"), "unknown_customer"),
                           (lambda o: setattr(o, "ShipViaID", "PONY"), "unknown_ship_via")):
        order = an_order()
        change(order)
        with pytest.raises(NeedsReview) as caught:
            gateway.create_sales_order(order, a_binding(order))
        assert caught.value.reason == reason
    assert _count(gateway, "SOHeader") == 0


def test_cancelling_closes_the_order_once_and_marks_the_binding(gateway):
    order = an_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    assert gateway.cancel_sales_order(ord_nbr, a_binding(order, "CANCELED")) is True
    assert gateway.cancel_sales_order(ord_nbr, a_binding(order, "CANCELED")) is False
    so = gateway.sales_order(ord_nbr)
    assert (so["Status"], so["Cancelled"]) == ("C", 1)
    assert _count(gateway, "SOLine", OrdNbr=ord_nbr, Status="C") == 3
    assert gateway.get_order_binding(order.CustOrdNbr).sl_status == "CANCELLED"


def test_a_shipped_order_cannot_be_cancelled(gateway):
    order = an_order()
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    sandbox.create_confirmed_shipper(gateway.db, "AMZDEMO", ord_nbr, tracking_numbers=["1Z1"])
    with pytest.raises(NeedsReview) as caught:
        gateway.cancel_sales_order(ord_nbr)
    assert caught.value.reason == "order_shipped"


def test_invoice_and_credit_memo_are_written_once(gateway):
    order = an_order(lines=2)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    invoice = gateway.create_invoice(ord_nbr)
    assert gateway.create_invoice(ord_nbr) == invoice
    assert _count(gateway, "ARDoc", DocType="IN", RefNbr=invoice) == 1
    assert _count(gateway, "ARTran", TranType="IN", RefNbr=invoice) == 3          # 2 lines + freight
    amount = gateway.db.run(lambda r: r.scalar('SELECT "OrigDocAmt" FROM "ARDoc" WHERE "RefNbr" = ?', [invoice]))
    assert amount == pytest.approx(1 * 11.05 + 2 * 12.05 + 4.99)
    memo = gateway.create_credit_memo(ord_nbr, amounts={"00001": Decimal("11.05")}, freight=Decimal(0))
    assert memo != invoice and gateway.create_credit_memo(ord_nbr) == memo
    assert _count(gateway, "ARTran", TranType="CM", RefNbr=memo, DrCr="D") == 1
    binding = gateway.get_order_binding(order.CustOrdNbr)
    assert (binding.invc_ref_nbr, binding.cm_ref_nbr, binding.sl_status) == (invoice, memo, "CREDITED")


def test_a_sku_too_long_for_alternate_id_is_noted_not_held(gateway):
    order = an_order(lines=1)
    order.lines[0].alternate_id = "S" * 40
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    assert gateway.sales_order(ord_nbr)["lines"][0]["InvtID"] == "WIDGET-0001"
    assert "S" * 40 in gateway.events_for("order", order.CustOrdNbr)[0].detail


def test_the_customers_sl_version_decides_the_columns_written(pg_database):
    """Another SL version's tables have columns our definition (SL's scripts) lacks, without defaults as in GLTran /
    ARDoc, and older versions lack some of ours: the gateway reads the live column list and fills SL's blanks."""
    import pyodbc

    from integration.sl import open_gateway

    dsn = pg_database[0]
    admin = pyodbc.connect(dsn, autocommit=True)
    admin.execute('ALTER TABLE "SOHeader" ADD COLUMN "S4Future13" CHAR(30) NOT NULL')
    admin.execute('ALTER TABLE "SOLine" ADD COLUMN "S4Future19" TIMESTAMP(0) NOT NULL')
    admin.execute('ALTER TABLE "SOLine" ADD COLUMN "S4Future13" DOUBLE PRECISION NOT NULL')
    admin.execute('ALTER TABLE "SOHeader" DROP COLUMN "EDIPOID"')
    admin.close()
    gw = open_gateway(dsn, "AMZDEMO")
    order = an_order(lines=2)
    ord_nbr = gw.create_sales_order(order, a_binding(order))
    row = gw.db.run(lambda r: r.one('SELECT h."S4Future13", l."S4Future19", l."S4Future13" FROM "SOHeader" h '
                                    'JOIN "SOLine" l ON l."OrdNbr" = h."OrdNbr" WHERE h."OrdNbr" = ?', [ord_nbr]))
    assert row[0] == "" and row[1].year == 1900 and row[2] == 0
    gw.close()
