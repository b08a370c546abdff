"""Amazon-fulfilled (FBA) sales, booked as SL books a sale shipped from a warehouse that is not SL's own.

In SL a sale leaves stock through a shipper: once it is confirmed, the Sales Journal writes the AR invoice and an
IN batch whose INTran rows issue the shipped quantity (JrnlType OM, TranType IN, RefNbr = the invoice number,
ShipperID / ShipperLineRef naming the shipper line: ``DMG_10400_Upd_Shipper`` and ``DMG_10400_Upd_Order`` read
the cost back through exactly these keys when IN Release costs the batch; ``SCM_10050_AdjustQtyShipNotInv`` moves
the quantity shipped-not-invoiced of an OM batch). Amazon has already shipped an FBA order when we learn of it, so
the product does in one transaction what SL's warehouse screens and the Sales Journal would have done:

- the order is complete: every line and schedule closed (Status C) with its shipped quantity, the header closed
  with no next step and no unshipped balance, so planning keeps no demand for it and no shipper can bill it again.
  An order created here for an FBA shipment is written closed (nothing queued); an order that was open (a mapping
  that creates AFN orders before they ship) has each schedule queued for planning (PLNSO), as SL's cancel and
  close procedures queue it, so SL's plan drops its demand.
- a confirmed shipper at the FBA site (SOShipHeader Status C, ShippingConfirmed 1, ShipDateAct the ship day,
  InvcNbr / InvcDate / ARBatNbr / INBatNbr / PerPost as the Sales Journal fills them) with one SOShipLine per line.
- the IN batch (Batch Module IN, JrnlType OM) and its INTran issues at the FBA site, left for IN Release as the
  Sales Journal leaves them (Rlsed 0): release computes the cost, relieves on-hand and posts cost of goods.
- the AR invoice for what was shipped (``ar.create_document``), dated the ship day, in the ship day's period.
  An order Amazon priced at zero (a replacement) has no invoice; its INTran rows carry the ShipperID as RefNbr, as
  ``DMG_10400_Upd_Shipper`` allows (``H.INVCNBR = @INVCNBR OR H.SHIPPERID = @INVCNBR``).

The period is SL's own for a date (``ADG_GLPeriod_GetPerFromDateOut``, below), or the current OM period when
SOSetup says "post invoices to the current OM period"; a ship day in a period GL has closed posts to that current
period instead, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.sl import ar, counters, orders
from integration.sl.lookups import Lookups
from integration.sl.rows import Rows
from integration.sl.text import sl_datetime, trim

LINE_STEP = orders.LINE_STEP


@dataclass(frozen=True)
class FbaSale:
    shipper_id: str
    in_bat_nbr: str
    invc_nbr: str          # '' when Amazon priced the order at zero (no invoice)
    ar_bat_nbr: str
    per_post: str
    amount: Decimal
    note: str = ""


def period_of(rows: Rows, date: datetime) -> str:
    """SL's fiscal period (YYYYPP) of a calendar date, as ``ADG_GLPeriod_GetPerFromDateOut`` computes it from
    GLSetup's period ends (MMDD strings, February always read as 0229) and BegFiscalYr (1: the fiscal year is named
    by the calendar year it begins in; 0: by the one it ends in)."""
    row = rows.one('SELECT "BegFiscalYr", "NbrPer", ' + ", ".join(f'"FiscalPerEnd{n:02d}"' for n in range(13))
                   + ' FROM "GLSetup"')
    if row is None:
        raise NeedsReview("missing_setup", "GLSetup has no row", fields=("GLSetup",))
    beg, nbr = int(row[0] or 0), int(row[1] or 12)
    ends = [("0229" if (e or "").strip() == "0228" else (e or "").strip()) for e in row[2:2 + nbr]]
    if nbr < 1 or any(len(e) != 4 or not e.isdigit() for e in ends):
        raise NeedsReview("fiscal_calendar", f"GLSetup's period ends are not MMDD values: {ends}",
                          fields=("GLSetup.FiscalPerEnd00",))
    ymd, md, year = date.strftime("%Y%m%d"), date.strftime("%m%d"), date.year
    first, last = ends[0], ends[-1]
    first_year = year if md > last else (year - 1 if first > last else year)
    last_year = year if md <= last else year + 1
    per, per_year, prev = 0, last_year, ""
    for idx in range(nbr - 1, -1, -1):
        end = ends[idx]
        if prev and prev < end:
            per_year -= 1
        if ymd > f"{per_year:04d}{end}":
            per = idx + 2
        elif idx == 0:
            per = 1
        if per:
            break
        prev = end
    return f"{last_year if beg == 0 else first_year:04d}{per:02d}"


def current_om_period(rows: Rows) -> str:
    """The later of IN's and AR's current periods (what SL posts OM invoices to when told to use the current one)."""
    ar_per = trim(rows.scalar('SELECT "CurrPerNbr" FROM "ARSetup"') or "")
    in_per = trim(rows.scalar('SELECT "CurrPerNbr" FROM "INSetup"') or "")
    return max(ar_per, in_per)


def posting_period(rows: Rows, date: datetime) -> tuple[str, str]:
    """(PerPost, note) for a document dated ``date``: see the module docstring."""
    if rows.has_table("SOSetup") and (trim(rows.scalar('SELECT "S4Future01" FROM "SOSetup"') or "")[:1] == "1"):
        return current_om_period(rows), "SOSetup posts OM invoices to the current period"
    period = period_of(rows, date)
    closed = trim(rows.scalar('SELECT "LastClosePerNbr" FROM "GLSetup"') or "")
    if closed and period <= closed:
        current = current_om_period(rows)
        return current, f"ship day {date:%Y-%m-%d} is in period {period}, closed in GL: posted to {current}"
    return period, ""


def book(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str, *, ship_date: datetime,
         release: str = "hold") -> FbaSale:
    """Book Amazon's shipment of the whole order (see the module docstring); every line ships its ordered quantity
    (the caller holds an order whose shipped quantities differ). NeedsReview, nothing written, when the order is
    cancelled or SL already has a shipper for it."""
    key = {"CpnyID": cpny_id, "OrdNbr": ord_nbr}
    head = rows.lock("SOHeader", ["Status", "Cancelled", "CustID", "SOTypeID", "CustOrdNbr", "OrdDate", "ShipViaID",
                                  "ShipSiteID", "CuryID", "TotMerch", "TotFrt", "TotMisc", "TotTax", "TotOrd",
                                  "ShipName", "ShipAddr1", "ShipCity", "ShipState", "ShipZip", "ShipCountry",
                                  "ARAcct", "ARSub", "TermsID"], key)
    if head is None:
        raise NeedsReview("unknown_order", f"sales order {ord_nbr} does not exist in {cpny_id}", fields=("OrdNbr",))
    (status, cancelled, cust_id, sotype_id, cust_ord_nbr, ord_date, ship_via, ship_site, cury, tot_merch, tot_frt,
     tot_misc, tot_tax, tot_ord, ship_name, addr1, city, state, zip_code, country, ar_acct, ar_sub, terms) = head
    if cancelled:
        raise NeedsReview("order_cancelled", f"sales order {ord_nbr} is cancelled in SL; Amazon shipped it",
                          fields=("SOHeader.Cancelled",))
    taken = rows.scalar('SELECT MIN("ShipperID") FROM "SOShipHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ? '
                        'AND "Cancelled" = 0', [cpny_id, ord_nbr])
    if taken:
        raise NeedsReview("shipper_exists", f"SL already has shipper {trim(taken)} for order {ord_nbr}, which Amazon "
                          "fulfilled: a person decides which shipment is real", fields=("SOShipHeader.ShipperID",))
    day = sl_datetime(ship_date.replace(hour=0, minute=0, second=0, microsecond=0))
    now = datetime.now()
    per_post, note = posting_period(rows, day)
    lines = rows.all('SELECT l."LineRef", l."InvtID", l."Descr", l."SiteID", l."QtyOrd", l."SlsPrice", l."DiscPct", '
                     'l."TotOrd", l."SlsAcct", l."SlsSub", l."COGSAcct", l."COGSSub", l."InvAcct", l."InvSub", '
                     'l."UnitDesc", l."TaxCat", l."Status", COALESCE(s."DfltWhseLoc", \'\'), '
                     'COALESCE(i."DfltWhseLoc", \'\') FROM "SOLine" l '
                     'LEFT JOIN "ItemSite" s ON s."InvtID" = l."InvtID" AND s."SiteID" = l."SiteID" '
                     'LEFT JOIN "Inventory" i ON i."InvtID" = l."InvtID" '
                     'WHERE l."CpnyID" = ? AND l."OrdNbr" = ? ORDER BY l."LineRef"', [cpny_id, ord_nbr])
    if trim(status) != "C":
        _close(rows, look, cpny_id, ord_nbr, cust_id, now)

    amount = Decimal(str(tot_ord or 0))
    invc_nbr = ar_bat = ""
    if amount > 0:
        invc_nbr, amount, ar_bat = ar.create_document(rows, look, cpny_id, ord_nbr, "IN", doc_date=day,
                                                      release=release, per_post=per_post,
                                                      descr=f"Amazon {trim(cust_ord_nbr)} (FBA)")
    shipper_id = counters.next_shipper_number(rows, cpny_id, trim(sotype_id))
    in_bat = counters.next_batch_number(rows, "INSetup", "IN")
    ref = invc_nbr or shipper_id
    site = trim(ship_site) or (trim(lines[0][3]) if lines else "")
    ship_lines, trans, issued = [], [], Decimal(0)
    for i, (line_ref, invt_id, descr, site_id, qty, price, pct, net, sls_acct, sls_sub, cogs_acct, cogs_sub,
            inv_acct, inv_sub, unit, tax_cat, _, site_loc, item_loc) in enumerate(lines, 1):
        qty = float(qty or 0)
        if qty <= 0:
            continue
        ship_ref = f"{i:05d}"
        ship_lines.append({
            "CpnyID": cpny_id, "ShipperID": shipper_id, "LineRef": ship_ref, "LineNbr": -32768 + (i - 1) * LINE_STEP,
            "OrdNbr": ord_nbr, "OrdLineRef": line_ref, "InvtID": invt_id, "Descr": descr, "SiteID": site_id,
            "UnitDesc": unit, "UnitMultDiv": "M", "CnvFact": 1, "QtyOrd": qty, "QtyPick": qty, "QtyShip": qty,
            "SlsPrice": price, "CurySlsPrice": price, "ListPrice": price, "CuryListPrice": price, "DiscPct": pct,
            "ManualPrice": 1, "TotMerch": net, "CuryTotMerch": net, "TotInvc": net, "CuryTotInvc": net,
            "SlsAcct": sls_acct, "SlsSub": sls_sub, "COGSAcct": cogs_acct, "COGSSub": cogs_sub, "InvAcct": inv_acct,
            "InvSub": inv_sub, "TaxCat": tax_cat, "Status": "C"})
        trans.append({
            "BatNbr": in_bat, "CpnyID": cpny_id, "LineID": len(trans) + 1, "LineNbr": -32768 + len(trans) * LINE_STEP,
            "LineRef": ship_ref, "TranType": "IN", "JrnlType": "OM", "InvtMult": -1, "DrCr": "C",
            "InvtID": invt_id, "SiteID": site_id, "WhseLoc": trim(site_loc) or trim(item_loc), "Qty": qty,
            "UnitDesc": unit, "UnitMultDiv": "M", "CnvFact": 1, "UnitPrice": price, "TranAmt": net,
            "Acct": sls_acct, "Sub": sls_sub, "COGSAcct": cogs_acct, "COGSSub": cogs_sub, "InvtAcct": inv_acct,
            "InvtSub": inv_sub, "RefNbr": ref, "ARDocType": "IN" if invc_nbr else "", "ARLineRef": ship_ref,
            "ShipperID": shipper_id, "ShipperLineRef": ship_ref, "ShipperCpnyID": cpny_id, "TranDate": day,
            "TranDesc": (descr or "")[:30], "PerEnt": per_post, "PerPost": per_post, "FiscYr": per_post[:4],
            "Rlsed": 0, "SrcType": "OM", "SrcNbr": ord_nbr, "SrcDate": day, "SrcLineRef": line_ref})
        issued += Decimal(str(qty))
    if not ship_lines:
        raise NeedsReview("nothing_shipped", f"order {ord_nbr} has no quantity to ship", fields=("SOLine.QtyOrd",))
    money = {"TotMerch": tot_merch, "TotFrtInvc": tot_frt, "TotMisc": tot_misc, "TotTax": tot_tax, "TotInvc": tot_ord}
    rows.insert("SOShipHeader", {
        "CpnyID": cpny_id, "ShipperID": shipper_id, "OrdNbr": ord_nbr, "SOTypeID": sotype_id, "Status": "C",
        "CustID": cust_id, "CustOrdNbr": cust_ord_nbr, "OrdDate": ord_date, "SiteID": site, "ShipSiteID": site,
        "ShipDatePlan": day, "ShipDateAct": day, "ShipViaID": ship_via, "ShippingConfirmed": 1, "ShipCmplt": 1,
        "ShipName": ship_name, "ShipAddr1": addr1, "ShipCity": city, "ShipState": state, "ShipZip": zip_code,
        "ShipCountry": country, "CuryID": cury, "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": day,
        **{k: float(v or 0) for k, v in money.items()}, **{"Cury" + k: float(v or 0) for k, v in money.items()},
        "InvcNbr": ref, "InvcDate": day, "ARBatNbr": ar_bat, "INBatNbr": in_bat, "PerPost": per_post,
        "ARAcct": ar_acct, "ARSub": ar_sub, "TermsID": terms, "NextFunctionID": "", "NextFunctionClass": "",
    })
    rows.insert_many("SOShipLine", ship_lines)
    rows.insert("Batch", {
        "Module": "IN", "BatNbr": in_bat, "CpnyID": cpny_id, "JrnlType": "OM", "BatType": "N", "EditScrnNbr": "10020",
        "Status": ar.RELEASE[release], "Rlsed": 0, "DateEnt": day, "PerEnt": per_post, "PerPost": per_post,
        "CuryId": cury, "BaseCuryID": cury, "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": day,
        "CtrlTot": float(issued), "CuryCtrlTot": float(issued), "Descr": f"Amazon {trim(cust_ord_nbr)} (FBA)",
    })
    rows.insert_many("INTran", trans)
    return FbaSale(shipper_id, in_bat, invc_nbr, ar_bat, per_post, amount, note)


def _close(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str, cust_id: str, now: datetime) -> None:
    """Close an open order as shipped in full, each open schedule queued for planning (PLNSO)."""
    key = {"CpnyID": cpny_id, "OrdNbr": ord_nbr}
    open_scheds = orders.open_schedules(rows, cpny_id, ord_nbr)
    rows.execute('UPDATE "SOLine" SET "QtyShip" = "QtyOrd", "QtyOpenShip" = 0, "Status" = \'C\' '
                 'WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    rows.execute('UPDATE "SOSched" SET "QtyShip" = "QtyOrd", "QtyOpenShip" = 0, "Status" = \'C\' '
                 'WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    rows.update("SOHeader", {"Status": "C", "NextFunctionID": "", "NextFunctionClass": "", "UnshippedBalance": 0,
                             "CuryUnshippedBalance": 0}, key)
    cps_off = look.cps_off(rows)
    rows.insert_many("ProcessQueue", [orders.queue_row("PLNSO", 150, now, cps_off, cpny_id, ord_nbr, cust_id,
                                                       line_ref, sched_ref, invt_id, site_id)
                                      for line_ref, sched_ref, invt_id, site_id in open_scheds])
