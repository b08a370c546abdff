"""AR documents for an Amazon order: an invoice (DocType IN) or a credit memo (CM), unreleased.

This imitates what SL's OM Sales Journal produces for a shipped order (reference §3.5: OM has no module of
its own and creates AR batches, EditScrnNbr 08010 "invoices/memos (also used by OM)"): an AR Batch, one
ARDoc, and an ARTran per sales line (TranType = DocType, sales account of the line, DrCr C for an invoice,
D for a credit memo) plus freight on the order type's freight account. The batch is left on hold (H) or
balanced (B) for AR Release (08.400), which applies SL's own checks and posts to GL; sales tax is Amazon's
as marketplace facilitator and is not written. Numbers: ``ARSetup.LastBatNbr`` and ``LastRefNbr`` (credit
memos ``LastCrMemoNbr`` where the company keeps one), each under a lock.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.sl import counters, orders
from integration.sl.lookups import Lookups
from integration.sl.rows import Rows
from integration.sl.text import money, sl_datetime

RELEASE = {"hold": "H", "balanced": "B"}


def create_document(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str, doc_type: str, *,
                    doc_date: datetime, amounts: dict[str, Decimal] | None = None, freight: Decimal | None = None,
                    descr: str = "", release: str = "hold") -> tuple[str, Decimal, str]:
    """Write an IN or CM for the order; returns (RefNbr, document amount, BatNbr).

    ``amounts`` (LineRef -> amount) limits a credit memo to some lines (default: every line in full).
    """
    if doc_type not in ("IN", "CM"):
        raise ValueError("doc_type is IN or CM")
    header = orders.order_header(rows, cpny_id, ord_nbr)
    if header is None:
        raise NeedsReview("unknown_order", f"sales order {ord_nbr} does not exist in {cpny_id}", fields=("OrdNbr",))
    lines = orders.order_lines(rows, cpny_id, ord_nbr)
    base = look.base_currency(rows)
    places = look.decimals(rows, header["CuryID"] or base)
    frt = rows.one('SELECT t."FrtAcct", t."FrtSub" FROM "SOType" t JOIN "SOHeader" h ON h."CpnyID" = t."CpnyID" '
                   'AND h."SOTypeID" = t."SOTypeID" WHERE h."CpnyID" = ? AND h."OrdNbr" = ?', [cpny_id, ord_nbr])
    head_frt = rows.scalar('SELECT "TotFrt" FROM "SOHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    per_post = rows.scalar('SELECT "CurrPerNbr" FROM "ARSetup"') or ""
    date = sl_datetime(doc_date)

    details = []
    for line in lines:
        if amounts is not None and line["LineRef"] not in amounts:
            continue
        amount = Decimal(str(amounts[line["LineRef"]])) if amounts is not None else Decimal(str(line["TotOrd"]))
        details.append((line, amount))
    freight_amount = Decimal(str(head_frt or 0)) if freight is None else Decimal(str(freight))
    total = sum((a for _, a in details), Decimal(0)) + freight_amount
    if total <= 0:
        raise NeedsReview("empty_document", f"{doc_type} for {ord_nbr} would be {total}", fields=("amounts",))

    bat_nbr = counters.next_batch_number(rows, "ARSetup", "AR")
    column = "LastRefNbr"
    if doc_type == "CM" and (rows.scalar('SELECT "LastCrMemoNbr" FROM "ARSetup"') or "").strip():
        column = "LastCrMemoNbr"
    ref_nbr = counters.next_reference(rows, "ARSetup", column)
    amt = money(total, places)
    cury = header["CuryID"] or base
    rows.insert("Batch", {
        "Module": "AR", "BatNbr": bat_nbr, "CpnyID": cpny_id, "BaseCuryID": base, "CuryId": cury,
        "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": date, "Status": RELEASE[release], "Rlsed": 0,
        "BatType": "N", "JrnlType": "AR", "EditScrnNbr": "08010", "PerEnt": per_post, "PerPost": per_post,
        "DateEnt": date, "Descr": descr or f"Amazon {header['CustOrdNbr']}", "CtrlTot": amt, "CuryCtrlTot": amt,
        "DrTot": amt, "CuryDrTot": amt, "CrTot": amt, "CuryCrTot": amt,
    })
    rows.insert("ARDoc", {
        "CustId": header["CustID"], "DocType": doc_type, "RefNbr": ref_nbr, "BatNbr": bat_nbr, "BatSeq": 1,
        "CpnyID": cpny_id, "DocClass": "N", "DocDate": date, "DueDate": date,
        "DocDesc": descr or f"Amazon {header['CustOrdNbr']}", "OrigDocAmt": amt, "DocBal": amt,
        "CuryOrigDocAmt": amt, "CuryDocBal": amt, "CuryId": cury, "CuryMultDiv": "M", "CuryRate": 1,
        "PerEnt": per_post, "PerPost": per_post, "Rlsed": 0, "OpenDoc": 1, "OrdNbr": ord_nbr,
        "CustOrdNbr": header["CustOrdNbr"],
    })
    drcr = "C" if doc_type == "IN" else "D"
    trans = []
    for i, (line, amount) in enumerate(details, 1):
        qty = Decimal(str(line["QtyOrd"]))
        trans.append(_tran(header, doc_type, ref_nbr, bat_nbr, cpny_id, i, line["SlsAcct"], line["SlsSub"], drcr,
                           money(amount, places), cury, date, per_post, invt_id=line["InvtID"], qty=qty,
                           unit_price=money(amount / qty, places) if qty else 0, site_id=line["SiteID"],
                           ord_nbr=ord_nbr, desc=line["Descr"], line_ref=line["LineRef"], unit=line["UnitDesc"],
                           tax_cat=line["TaxCat"]))
    if freight_amount:
        acct, sub = frt or ("", "")
        trans.append(_tran(header, doc_type, ref_nbr, bat_nbr, cpny_id, len(trans) + 1, acct, sub, drcr,
                           money(freight_amount, places), cury, date, per_post, ord_nbr=ord_nbr, desc="Freight"))
    rows.insert_many("ARTran", trans)
    return ref_nbr, total, bat_nbr


def _tran(header, doc_type, ref_nbr, bat_nbr, cpny_id, i, acct, sub, drcr, amount, cury, date, per_post, *,
          invt_id="", qty=0, unit_price=0, site_id="", ord_nbr="", desc="", line_ref="", unit="", tax_cat="") -> dict:
    return {"CustId": header["CustID"], "TranType": doc_type, "RefNbr": ref_nbr, "LineNbr": -32768 + i - 1,
            "BatNbr": bat_nbr, "CpnyID": cpny_id, "LineId": i, "LineRef": line_ref, "Acct": acct, "Sub": sub,
            "DrCr": drcr, "TranAmt": amount, "CuryTranAmt": amount, "CuryId": cury, "InvtId": invt_id, "Qty": qty,
            "UnitDesc": unit, "UnitPrice": unit_price, "CuryUnitPrice": unit_price, "SiteId": site_id,
            "OrdNbr": ord_nbr, "TaxCat": tax_cat, "TranDate": date, "TranDesc": desc, "TranClass": "N",
            "JrnlType": "AR", "PerEnt": per_post, "PerPost": per_post, "FiscYr": per_post[:4], "Rlsed": 0}
