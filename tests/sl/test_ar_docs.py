"""AR documents as SL's AR release needs them (issue 13), on SQLite and PostgreSQL.

Release builds the receivable from ARDoc.BankAcct/BankSub (pp_08400CreateOffset) and refuses a blank one
(pp_08400PrepWrk); it converts with CuryMultDiv/CuryRate; an invoice takes the order type's numbering
(ADG_SOType_InvcNbr); a credit memo's application is the 'U' line that pp_08400InsertARAdjust turns into ARAdjust.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from integration.sl import verify
from integration.sl.models import MiscCharge, OrderTax
from tests.sl.builders import a_binding, an_order

DOC_DATE = datetime(2026, 3, 20)


def _one(gw, sql, params=()):
    return gw.db.run(lambda r: r.one(sql, list(params)), write=False)


def _all(gw, sql, params=()):
    return gw.db.run(lambda r: r.all(sql, list(params)), write=False)


def _rule(gw, name="ar_documents"):
    return verify.verify(gw.db, "AMZDEMO", rules=[verify.AR_DOCUMENTS])[0]


def _order_with_misc_and_tax(gw):
    order = an_order(lines=2, misc=[MiscCharge("GIFTWRAP", Decimal("3.99"))],
                     tax=OrderTax("AMZMF", merch=Decimal("3.21"), freight=Decimal("0.45"), misc=Decimal("0.36")))
    return order, gw.create_sales_order(order, a_binding(order))


def test_an_invoice_has_the_ar_account_currency_terms_due_date_and_the_orders_total(gateway):
    order, ord_nbr = _order_with_misc_and_tax(gateway)
    ref = gateway.create_invoice(ord_nbr, doc_date=DOC_DATE)
    assert ref == "I0000002"   # the SO type's own numbering: InvcNbrPrefix I + LastInvcNbr 0000001 + 1
    doc = _one(gateway, 'SELECT "BankAcct", "BankSub", "CuryMultDiv", "CuryRate", "Terms", "DueDate", "OrigDocAmt", '
                        '"CuryDocBal" FROM "ARDoc" WHERE "DocType" = ? AND "RefNbr" = ?', ["IN", ref])
    tot_ord = _one(gateway, 'SELECT "TotOrd" FROM "SOHeader" WHERE "OrdNbr" = ?', [ord_nbr])[0]
    assert (doc[0].strip(), doc[1].strip() != "", doc[2], doc[3], doc[4].strip()) == ("1050", True, "M", 1, "30")
    assert gateway.db.run(lambda r: r.dt(doc[5]), write=False).date() == datetime(2026, 4, 19).date()   # Net 30
    # 1x11.05 + 2x12.05 + freight 4.99 + gift wrap 3.99 + tax 4.02
    assert doc[6] == pytest.approx(tot_ord) == pytest.approx(35.15 + 4.99 + 3.99 + 4.02)
    trans = _all(gateway, 'SELECT "TranClass", "Acct", "TranAmt", "CuryMultDiv", "CuryRate" FROM "ARTran" '
                          'WHERE "TranType" = ? AND "RefNbr" = ? ORDER BY "LineId"', ["IN", ref])
    assert [(t[0], t[1].strip()) for t in trans] == [("N", "4000"), ("N", "4000"), ("F", "4010"), ("M", "4020"),
                                                     ("T", "2150")]
    assert sum(t[2] for t in trans) == pytest.approx(tot_ord)
    assert {(t[3], t[4]) for t in trans} == {("M", 1)}
    assert _rule(gateway).status == "OK"


def test_invoice_numbering_skips_a_number_sl_already_used(gateway):
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    gateway.db.run(lambda r: r.insert("ARDoc", {"CustId": "AMZUS", "DocType": "IN", "RefNbr": "I0000002",
                                                "BatNbr": "999999", "BatSeq": 0, "CpnyID": "AMZDEMO"}))
    assert gateway.create_invoice(ord_nbr, doc_date=DOC_DATE) == "I0000003"
    assert _one(gateway, 'SELECT "LastInvcNbr" FROM "SOType" WHERE "SOTypeID" = ?', ["SO"])[0].strip() == "0000003"


def test_a_credit_memo_after_invoicing_is_applied_to_its_invoice(gateway):
    order, ord_nbr = _order_with_misc_and_tax(gateway)
    invoice = gateway.create_invoice(ord_nbr, doc_date=DOC_DATE)
    memo = gateway.create_credit_memo(ord_nbr, amounts={"00002": Decimal("24.10")}, freight=Decimal(0),
                                      doc_date=DOC_DATE)
    assert gateway.create_credit_memo(ord_nbr) == memo   # one per cancellation
    cm = _one(gateway, 'SELECT "ApplBatNbr", "BatNbr", "ApplAmt", "CuryApplAmt", "CuryDocBal", "BankAcct" '
                       'FROM "ARDoc" WHERE "DocType" = ? AND "RefNbr" = ?', ["CM", memo])
    assert cm[0] == cm[1] and cm[2] == cm[3] == pytest.approx(24.10) and cm[5].strip() == "1050"
    # the application AR Release turns into ARAdjust (pp_08400InsertARAdjust): DrCr U naming the invoice
    appl = _all(gateway, 'SELECT "SiteId", "CostType", "CuryTranAmt", "CuryMultDiv", "CuryRate", "UnitPrice" '
                         'FROM "ARTran" WHERE "TranType" = ? AND "RefNbr" = ? AND "DrCr" = ?', ["CM", memo, "U"])
    assert [(a[0].strip(), a[1].strip(), a[2], a[3], a[4], a[5]) for a in appl] == [
        (invoice, "IN", pytest.approx(24.10), "M", 1, 1)]
    # unreleased, both balances stand in full as SL leaves them until release applies the memo
    inv_bal = _one(gateway, 'SELECT "CuryDocBal", "OrigDocAmt" FROM "ARDoc" WHERE "DocType" = ? AND "RefNbr" = ?',
                   ["IN", invoice])
    assert inv_bal[0] == pytest.approx(inv_bal[1]) and cm[4] == pytest.approx(24.10)
    assert _rule(gateway).status == "OK"


def test_verify_fails_on_a_blank_receivable_account_and_an_unapplied_memo(gateway):
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    invoice = gateway.create_invoice(ord_nbr, doc_date=DOC_DATE)
    memo = gateway.create_credit_memo(ord_nbr, doc_date=DOC_DATE)
    assert _rule(gateway).status == "OK"
    gateway.db.run(lambda r: r.update("ARDoc", {"BankAcct": ""}, {"DocType": "IN", "RefNbr": invoice}))
    gateway.db.run(lambda r: r.execute('DELETE FROM "ARTran" WHERE "RefNbr" = ? AND "DrCr" = ?', [memo, "U"]))
    found = _rule(gateway)
    assert found.status == "FAIL" and found.failed == 2
    assert {e["key"] for e in found.examples} == {f"IN/{invoice}", memo}
