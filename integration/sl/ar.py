"""AR documents for an Amazon order: an invoice (DocType IN) or a credit memo (CM), unreleased.

This imitates what SL's OM Sales Journal produces for a shipped order (reference §3.5: OM has no module of
its own and creates AR batches, EditScrnNbr 08010 "invoices/memos (also used by OM)"): an AR Batch, one
ARDoc, and ARTran rows, left on hold (H) or balanced (B) for AR Release (08.400), which applies SL's own checks
and posts to GL. What release needs, and where we take it:

- ``ARDoc.BankAcct/BankSub``, the receivable: ``pp_08400PrepWrk`` refuses a document without them and
  ``pp_08400CreateOffset`` builds the offset line from them. The order's ``SOHeader.ARAcct/ARSub`` (OM copies
  them to the invoice), else the customer's (``ADG_ARDoc_CustARAcct``), else AR setup's (``ADG_ARDoc_DfltARAcct``).
- Currency: ARDoc and every ARTran carry ``CuryId``, ``CuryMultDiv`` 'M', ``CuryRate`` 1 and ``CuryEffDate``
  (the order is booked at rate 1 in its own currency; release converts with these, pp_08400InsertARAdjust).
- ``ARDoc.Terms`` from ``SOHeader.TermsID`` (else ``Customer.Terms``); ``DueDate`` from ``Terms.DueType`` /
  ``DueIntrv`` (D: days after the document date; E: days after the end of its month; M: day ``DueIntrv`` of the
  next month); ``DiscDate`` the same from ``DiscType``/``DiscIntrv`` when the terms give a discount.
- Lines (TranClass as SL's own procedures read them; SCM_10400_Upd_ARTran, pp_08400SalesTax): a sales line per
  order line on its sales account ('N'), freight on the order type's ``FrtAcct`` ('F'), each SOMisc charge on its
  ``MiscAcct/MiscSub`` ('M'), and each SOTax row's tax on its SalesTax's ``SlsTaxAcct/SlsTaxSub`` ('T'), so a
  whole-order invoice totals ``SOHeader.TotOrd``. DrCr C for an invoice, D for a credit memo.
- Numbers: an invoice takes the number SL's shipper screen would (``counters.next_invoice_number``:
  ``ADG_SOType_InvcNbr``), a credit memo ``ARSetup.LastCrMemoNbr`` where the company keeps one, else
  ``LastRefNbr``; either skips a RefNbr any ARDoc already holds. Batches ``ARSetup.LastBatNbr``. Each under a lock.
- A credit memo applied to an invoice is written as SL's Invoice and Memo screen leaves an application for release:
  ``ARDoc.ApplBatNbr/ApplAmt/CuryApplAmt`` on the memo and an ARTran with DrCr 'U' naming the invoice (SiteID =
  its RefNbr, CostType = its DocType). AR Release (``pp_08400InsertARAdjust``) turns that line into the ARAdjust
  row and reduces both documents' balances; until then SL shows both balances in full, and so do we.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from decimal import Decimal

from integration.errors import NeedsReview
from integration.sl import counters, orders
from integration.sl.lookups import Lookups
from integration.sl.rows import Rows
from integration.sl.text import money, sl_datetime, to_decimal

RELEASE = {"hold": "H", "balanced": "B"}


def create_document(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str, doc_type: str, *,
                    doc_date: datetime, amounts: dict[str, Decimal] | None = None, freight: Decimal | None = None,
                    descr: str = "", release: str = "hold", apply_to: str = "",
                    per_post: str = "") -> tuple[str, Decimal, str]:
    """Write an IN or CM for the order; returns (RefNbr, document amount, BatNbr).

    ``amounts`` (LineRef -> amount) limits a credit memo to some lines and ``freight`` (default: none then);
    without them the document is the whole order: every line, freight, misc charges and tax. ``apply_to`` (an
    invoice's RefNbr) applies a credit memo to that invoice, up to the invoice's balance. ``per_post`` is the period
    to post to (default: AR's current period, ``ARSetup.CurrPerNbr``).
    """
    if doc_type not in ("IN", "CM"):
        raise ValueError("doc_type is IN or CM")
    header = orders.order_header(rows, cpny_id, ord_nbr)
    if header is None:
        raise NeedsReview("unknown_order", f"sales order {ord_nbr} does not exist in {cpny_id}", fields=("OrdNbr",))
    lines = orders.order_lines(rows, cpny_id, ord_nbr)
    base = look.base_currency(rows)
    places = look.decimals(rows, header["CuryID"] or base)
    extra = rows.one('SELECT h."SOTypeID", h."TermsID", h."ARAcct", h."ARSub", h."TotFrt", h."TotTax", t."FrtAcct", '
                     't."FrtSub" FROM "SOHeader" h LEFT JOIN "SOType" t ON t."CpnyID" = h."CpnyID" '
                     'AND t."SOTypeID" = h."SOTypeID" WHERE h."CpnyID" = ? AND h."OrdNbr" = ?', [cpny_id, ord_nbr])
    sotype_id, terms_id, ar_acct, ar_sub, head_frt, head_tax, frt_acct, frt_sub = extra
    per_post = per_post or rows.scalar('SELECT "CurrPerNbr" FROM "ARSetup"') or ""
    date = sl_datetime(doc_date)
    whole = amounts is None and freight is None

    details = []
    for line in lines:
        if amounts is not None and line["LineRef"] not in amounts:
            continue
        amount = Decimal(str(amounts[line["LineRef"]])) if amounts is not None else Decimal(str(line["TotOrd"]))
        details.append((line, to_decimal(amount, places)))
    freight_amount = to_decimal(Decimal(str(head_frt or 0)) if whole else Decimal(str(freight or 0)), places)
    misc = _misc(rows, cpny_id, ord_nbr, places) if whole else []
    taxes = _taxes(rows, cpny_id, ord_nbr, places) if whole else []
    if whole and sum((t[2] for t in taxes), Decimal(0)) != to_decimal(Decimal(str(head_tax or 0)), places):
        raise NeedsReview("tax_without_account", f"order {ord_nbr}'s TotTax has no SOTax row naming its SalesTax",
                          fields=("SOTax.TaxID",))
    total = (sum((a for _, a in details), Decimal(0)) + freight_amount + sum((m[2] for m in misc), Decimal(0))
             + sum((t[2] for t in taxes), Decimal(0)))
    if total <= 0:
        raise NeedsReview("empty_document", f"{doc_type} for {ord_nbr} would be {total}", fields=("amounts",))
    bank_acct, bank_sub = receivable_account(rows, header["CustID"], ar_acct, ar_sub)
    terms_id = (terms_id or "").strip() or (rows.scalar('SELECT "Terms" FROM "Customer" WHERE "CustId" = ?',
                                                        [header["CustID"]]) or "").strip()
    due, disc_date, disc_pct = terms_dates(rows, terms_id, doc_date)

    bat_nbr = counters.next_batch_number(rows, "ARSetup", "AR")
    if doc_type == "IN":
        ref_nbr = counters.next_invoice_number(rows, cpny_id, sotype_id)
    else:
        column = "LastCrMemoNbr" if (rows.scalar('SELECT "LastCrMemoNbr" FROM "ARSetup"') or "").strip() \
            else "LastRefNbr"
        ref_nbr = counters.next_ar_reference(rows, column)
    amt = money(total, places)
    cury = header["CuryID"] or base
    applied = Decimal(0)
    if apply_to:
        inv_bal = rows.scalar('SELECT "CuryDocBal" FROM "ARDoc" WHERE "CustId" = ? AND "DocType" = ? '
                              'AND "RefNbr" = ?', [header["CustID"], "IN", apply_to])
        applied = min(to_decimal(total, places), to_decimal(inv_bal or 0, places))
    rows.insert("Batch", {
        "Module": "AR", "BatNbr": bat_nbr, "CpnyID": cpny_id, "BaseCuryID": base, "CuryId": cury,
        "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": date, "Status": RELEASE[release], "Rlsed": 0,
        "BatType": "N", "JrnlType": "AR", "EditScrnNbr": "08010", "PerEnt": per_post, "PerPost": per_post,
        "DateEnt": date, "Descr": descr or f"Amazon {header['CustOrdNbr']}", "CtrlTot": amt, "CuryCtrlTot": amt,
        "DrTot": amt, "CuryDrTot": amt, "CrTot": amt, "CuryCrTot": amt,
    })
    disc = money(total * disc_pct / 100, places) if disc_pct and doc_type == "IN" else 0.0
    rows.insert("ARDoc", {
        "CustId": header["CustID"], "DocType": doc_type, "RefNbr": ref_nbr, "BatNbr": bat_nbr, "BatSeq": 1,
        "CpnyID": cpny_id, "DocClass": "N", "DocDate": date, "DueDate": sl_datetime(due),
        "DiscDate": sl_datetime(disc_date), "DiscBal": disc, "CuryDiscBal": disc, "Terms": terms_id,
        "BankAcct": bank_acct, "BankSub": bank_sub,
        "DocDesc": descr or f"Amazon {header['CustOrdNbr']}", "OrigDocAmt": amt, "DocBal": amt,
        "CuryOrigDocAmt": amt, "CuryDocBal": amt, "CuryId": cury, "CuryMultDiv": "M", "CuryRate": 1,
        "CuryRateType": header.get("CuryRateType") or "", "CuryEffDate": date,
        "ApplBatNbr": bat_nbr if applied else "", "ApplAmt": float(applied), "CuryApplAmt": float(applied),
        "PerEnt": per_post, "PerPost": per_post, "Rlsed": 0, "OpenDoc": 1, "OrdNbr": ord_nbr,
        "CustOrdNbr": header["CustOrdNbr"],
    })
    drcr = "C" if doc_type == "IN" else "D"
    trans = []
    common = (header, doc_type, ref_nbr, bat_nbr, cpny_id)
    for line, amount in details:
        qty = Decimal(str(line["QtyOrd"]))
        trans.append(_tran(*common, len(trans) + 1, line["SlsAcct"], line["SlsSub"], drcr, amount, cury, date,
                           per_post, invt_id=line["InvtID"], qty=qty,
                           unit_price=to_decimal(amount / qty, places) if qty else 0, site_id=line["SiteID"],
                           ord_nbr=ord_nbr, desc=line["Descr"], line_ref=line["LineRef"], unit=line["UnitDesc"],
                           tax_cat=line["TaxCat"]))
    if freight_amount:
        trans.append(_tran(*common, len(trans) + 1, frt_acct or "", frt_sub or "", drcr, freight_amount, cury, date,
                           per_post, ord_nbr=ord_nbr, desc="Freight", tran_class="F"))
    for acct, sub, amount, desc, tax_cat in misc:
        trans.append(_tran(*common, len(trans) + 1, acct, sub, drcr, amount, cury, date, per_post, ord_nbr=ord_nbr,
                           desc=desc, tax_cat=tax_cat, tran_class="M"))
    for acct, sub, amount, tax_id, _ in taxes:
        trans.append(_tran(*common, len(trans) + 1, acct, sub, drcr, amount, cury, date, per_post, ord_nbr=ord_nbr,
                           desc=f"Tax {tax_id}", tran_class="T"))
    if applied:
        # The application SL's screen leaves for release: DrCr U, the invoice named by SiteID/CostType, its rate
        # in UnitPrice (pp_08400InsertARAdjust converts through it); not part of the document's total.
        trans.append({**_tran(*common, len(trans) + 1, bank_acct, bank_sub, "U", applied, cury, date, per_post,
                              ord_nbr=ord_nbr, desc=f"Applied to {apply_to}", site_id=apply_to),
                      "CostType": "IN", "UnitPrice": 1, "CuryUnitPrice": 0, "Qty": 0})
    rows.insert_many("ARTran", trans)
    return ref_nbr, total, bat_nbr


def receivable_account(rows: Rows, cust_id: str, ar_acct: str | None, ar_sub: str | None) -> tuple[str, str]:
    """ARDoc.BankAcct/BankSub as OM fills them: the order's, else the customer's, else AR setup's default."""
    for acct, sub in ((ar_acct, ar_sub),
                      rows.one('SELECT "ArAcct", "ArSub" FROM "Customer" WHERE "CustId" = ?', [cust_id]) or ("", ""),
                      rows.one('SELECT "ArAcct", "ArSub" FROM "ARSetup"') or ("", "")):
        if (acct or "").strip() and (sub or "").strip():
            return acct.strip(), sub.strip()
    raise NeedsReview("missing_ar_account", f"no AR account for customer {cust_id} (order, Customer or ARSetup)",
                      fields=("ARSetup.ArAcct", "ARSetup.ArSub"))


def terms_dates(rows: Rows, terms_id: str, doc_date: datetime) -> tuple[datetime, datetime, Decimal]:
    """(DueDate, DiscDate, DiscPct) of a document dated ``doc_date`` under SL terms ``terms_id``."""
    if not terms_id:
        return doc_date, doc_date, Decimal(0)
    row = rows.one('SELECT "DueType", "DueIntrv", "DiscType", "DiscIntrv", "DiscPct" FROM "Terms" '
                   'WHERE "TermsId" = ?', [terms_id])
    if row is None:
        raise NeedsReview("unknown_terms", f"terms {terms_id!r} do not exist in SL", fields=("Terms.TermsId",))
    due_type, due_intrv, disc_type, disc_intrv, disc_pct = row
    due = _term_date(terms_id, (due_type or "D").strip() or "D", int(due_intrv or 0), doc_date, "DueType")
    pct = Decimal(str(disc_pct or 0))
    disc = _term_date(terms_id, (disc_type or "D").strip() or "D", int(disc_intrv or 0), doc_date, "DiscType") \
        if pct else doc_date
    return due, disc, pct


def _term_date(terms_id: str, kind: str, interval: int, doc_date: datetime, field: str) -> datetime:
    if kind == "D":
        return doc_date + timedelta(days=interval)
    month_end = doc_date.replace(day=calendar.monthrange(doc_date.year, doc_date.month)[1])
    if kind == "E":
        return month_end + timedelta(days=interval)
    if kind == "M":
        nxt = month_end + timedelta(days=1)
        return nxt.replace(day=min(max(interval, 1), calendar.monthrange(nxt.year, nxt.month)[1]))
    raise NeedsReview("unsupported_terms", f"terms {terms_id}: {field} {kind!r} is not computed here",
                      fields=(f"Terms.{field}",))


def _misc(rows: Rows, cpny_id: str, ord_nbr: str, places: int) -> list[tuple]:
    found = rows.all('SELECT "MiscAcct", "MiscSub", "CuryMiscChrg", "Descr", "TaxCat" FROM "SOMisc" '
                     'WHERE "CpnyID" = ? AND "OrdNbr" = ? ORDER BY "MiscChrgRef"', [cpny_id, ord_nbr])
    return [(a, s, to_decimal(Decimal(str(v or 0)), places), d, c) for a, s, v, d, c in found if v]


def _taxes(rows: Rows, cpny_id: str, ord_nbr: str, places: int) -> list[tuple]:
    found = rows.all('SELECT s."SlsTaxAcct", s."SlsTaxSub", t."CuryTotTax", t."TaxID", t."TaxCat" FROM "SOTax" t '
                     'LEFT JOIN "SalesTax" s ON s."TaxId" = t."TaxID" AND s."TaxType" = \'T\' '
                     'WHERE t."CpnyID" = ? AND t."OrdNbr" = ? ORDER BY t."TaxID"', [cpny_id, ord_nbr])
    out = []
    for acct, sub, amount, tax_id, cat in found:
        if not amount:
            continue
        if not (acct or "").strip():
            raise NeedsReview("tax_without_account", f"SalesTax {tax_id} has no SlsTaxAcct",
                              fields=("SalesTax.SlsTaxAcct",))
        out.append((acct, sub, to_decimal(Decimal(str(amount)), places), tax_id, cat))
    return out


def _tran(header, doc_type, ref_nbr, bat_nbr, cpny_id, i, acct, sub, drcr, amount, cury, date, per_post, *,
          invt_id="", qty=0, unit_price=0, site_id="", ord_nbr="", desc="", line_ref="", unit="", tax_cat="",
          tran_class="N") -> dict:
    return {"CustId": header["CustID"], "TranType": doc_type, "RefNbr": ref_nbr, "LineNbr": -32768 + i - 1,
            "BatNbr": bat_nbr, "CpnyID": cpny_id, "LineId": i, "LineRef": line_ref, "Acct": acct, "Sub": sub,
            "DrCr": drcr, "TranAmt": float(amount), "CuryTranAmt": float(amount), "CuryId": cury, "CuryMultDiv": "M",
            "CuryRate": 1, "InvtId": invt_id, "Qty": float(qty), "CnvFact": 1 if invt_id else 0,
            "UnitDesc": unit, "UnitPrice": float(unit_price), "CuryUnitPrice": float(unit_price), "SiteId": site_id,
            "OrdNbr": ord_nbr, "TaxCat": tax_cat, "TranDate": date, "TranDesc": desc, "TranClass": tran_class,
            "JrnlType": "AR", "PerEnt": per_post, "PerPost": per_post, "FiscYr": per_post[:4], "Rlsed": 0}
