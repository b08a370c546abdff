"""Sales orders: create (SOHeader, SOLine, SOSched, ProcessQueue) and cancel.

What is written mirrors SL's own web-service procedures (``WS_SOHeader_INSERT`` ... ``WS_processqueue_INSERT``)
and reference §10.4: an open order at its next workflow step after entry, one schedule per line, and the
Process Manager queue entries (PLNSO per schedule, as ``ADG_ProcessMgr_QueueSOPlan`` does, and one PRCSO)
so SL plans, allocates and creates shippers itself. ItemSite and SOPlan are never touched.
Cancelling imitates ``WS_CANCELSALESORDER``: header, lines and schedules closed, ``Cancelled = 1``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.sl import counters
from integration.sl.lookups import Lookups
from integration.sl.models import SalesOrder
from integration.sl.rows import Rows
from integration.sl.text import money, sl_datetime, wrap_lines

LINE_STEP = 256   # SL grids number LineNbr from -32768 upward (reference §1.9)


def check_required(order: SalesOrder) -> None:
    """Raise NeedsReview naming every missing value; nothing has been written yet."""
    missing = [name for name in ("CustID", "CustOrdNbr", "OrdDate") if not getattr(order, name)]
    if not order.lines:
        missing.append("lines")
    for i, line in enumerate(order.lines, 1):
        missing += [f"lines[{i}].{name}" for name in ("invt_id", "site_id") if not getattr(line, name)]
        if line.qty is None or Decimal(str(line.qty)) <= 0:
            missing.append(f"lines[{i}].qty")
        if line.unit_price is None:
            missing.append(f"lines[{i}].unit_price")
    if missing:
        raise NeedsReview("missing_field", f"sales order is missing {', '.join(missing)}", fields=missing)


def create(rows: Rows, look: Lookups, cpny_id: str, order: SalesOrder) -> tuple[str, list[str]]:
    """Write the order; returns (OrdNbr, notes about text that had to be cut or wrapped)."""
    otype = look.order_type(rows, cpny_id, order.SOTypeID)
    look.require_customer(rows, order.CustID)
    look.require_ship_via(rows, cpny_id, order.ShipViaID)
    items = look.items(rows, [line.invt_id for line in order.lines])
    base = look.base_currency(rows)
    cury = order.CuryID or base
    if cury != base:
        raise NeedsReview("foreign_currency", f"order currency {cury} is not the base currency {base}",
                          fields=("CuryID",))
    places = look.decimals(rows, cury)
    cps_off = look.cps_off(rows)

    notes: list[str] = []
    (addr1, addr2), overflow = wrap_lines([order.ShipAddr1, order.ShipAddr2, order.ShipAddr3], 60, 2)
    if overflow:
        notes.append(f"ship-to address did not fit SOHeader.ShipAddr1/2; rest: {overflow}")
    date = sl_datetime(order.OrdDate)
    now = datetime.now()

    ord_nbr = counters.next_order_number(rows, cpny_id, order.SOTypeID, order.CustID, date)

    lines, scheds, queue = [], [], []
    merch = Decimal(0)
    for i, line in enumerate(order.lines, 1):
        ref = line.line_ref or f"{i:05d}"
        qty = Decimal(str(line.qty))
        price = Decimal(str(line.unit_price))
        ext = qty * price - Decimal(str(line.discount or 0))
        merch += ext
        item = items[line.invt_id]
        alternate = line.alternate_id
        if len(alternate) > 30:   # informational only (InvtID is resolved): noted, not a reason to hold
            notes.append(f"line {ref}: Amazon SKU {alternate} is longer than SOLine.AlternateID (30)")
            alternate = ""
        sls_price, tot = money(price, places), money(ext, places)
        lines.append({
            "CpnyID": cpny_id, "OrdNbr": ord_nbr, "LineRef": ref, "LineNbr": -32768 + (i - 1) * LINE_STEP,
            "InvtID": line.invt_id, "AlternateID": alternate, "AltIDType": line.alt_id_type if alternate else "",
            "Descr": line.description or item.descr, "SiteID": line.site_id, "UnitDesc": item.stk_unit,
            "UnitMultDiv": "M", "CnvFact": 1, "QtyOrd": qty, "QtyOpenShip": qty,
            "SlsPrice": sls_price, "CurySlsPrice": sls_price, "ListPrice": sls_price, "CuryListPrice": sls_price,
            "TotOrd": tot, "CuryTotOrd": tot,
            "SlsAcct": otype.sls_acct, "SlsSub": otype.sls_sub, "TaxCat": item.tax_cat, "Taxable": 1,
            "Status": "O", "ReqDate": date, "PromDate": date, "SchedCntr": 1, "User1": line.amazon_item_id,
        })
        scheds.append({
            "CpnyID": cpny_id, "OrdNbr": ord_nbr, "LineRef": ref, "SchedRef": "00001", "SiteID": line.site_id,
            "ShipSiteID": line.site_id, "Status": "O", "QtyOrd": qty, "QtyOpenShip": qty, "ReqDate": date,
            "PromDate": date, "ShipViaID": order.ShipViaID, "ShiptoType": "C", "ShipCustID": order.CustID,
            "ShipName": order.ShipName, "ShipZip": order.ShipZip, "TaxCat": item.tax_cat,
            "User1": line.amazon_item_id,
        })
        queue.append(_queue_row("PLNSO", 150, now, cps_off, cpny_id, ord_nbr, order.CustID, ref, "00001",
                                line.invt_id, line.site_id))
    queue.append(_queue_row("PRCSO", 155, now, cps_off, cpny_id, ord_nbr, order.CustID))

    freight, tax = Decimal(str(order.TotFrt or 0)), Decimal(str(order.TotTax or 0))
    total = merch + freight + tax
    note_text = "\n".join(x for x in [order.note, *notes] if x)
    m_merch, m_frt, m_tax, m_total = (money(x, places) for x in (merch, freight, tax, total))
    header = {
        "CpnyID": cpny_id, "OrdNbr": ord_nbr, "SOTypeID": order.SOTypeID, "Status": "O", "CustID": order.CustID,
        "CustOrdNbr": order.CustOrdNbr, "OrdDate": date, "ShipCustID": order.CustID, "ShiptoType": "C",
        "ShipAddrSpecial": 1, "ShipName": order.ShipName, "ShipAttn": order.ShipAttn, "ShipAddr1": addr1,
        "ShipAddr2": addr2, "ShipCity": order.ShipCity, "ShipState": order.ShipState, "ShipZip": order.ShipZip,
        "ShipCountry": order.ShipCountry, "ShipPhone": order.ShipPhone, "ShipViaID": order.ShipViaID,
        "ShipSiteID": order.ShipSiteID or order.lines[0].site_id, "CuryID": cury, "CuryMultDiv": "M",
        "CuryRate": 1, "CuryEffDate": date, "TotMerch": m_merch, "CuryTotMerch": m_merch, "TotFrt": m_frt,
        "CuryTotFrt": m_frt, "TotTax": m_tax, "CuryTotTax": m_tax, "TotOrd": m_total, "CuryTotOrd": m_total,
        "UnshippedBalance": m_total, "CuryUnshippedBalance": m_total,
        "LineCntr": len(lines), "NextFunctionID": otype.next_function_id,
        "NextFunctionClass": otype.next_function_class, "ARAcct": otype.ar_acct, "ARSub": otype.ar_sub,
        **{f"User{n}": getattr(order, f"User{n}") for n in range(1, 11)},
    }
    rows.notes.clear()
    rows.insert("SOHeader", header)
    rows.insert_many("SOLine", lines)
    rows.insert_many("SOSched", scheds)
    rows.insert_many("ProcessQueue", queue)
    notes += rows.notes
    if note_text or rows.notes:
        note_id = rows.insert_returning("Snote", {
            "dtRevisedDate": now, "sLevelName": "SOHeader", "sTableName": "SOHeader",
            "sNoteText": "\n".join(x for x in [note_text, *rows.notes] if x)}, "nID")
        rows.update("SOHeader", {"NoteId": note_id}, {"CpnyID": cpny_id, "OrdNbr": ord_nbr})
    return ord_nbr, notes


def _queue_row(ptype, priority, now, cps_off, cpny_id, ord_nbr, cust_id, line_ref="", sched_ref="",
               invt_id="", site_id="") -> dict:
    return {"ProcessType": ptype, "ProcessPriority": priority, "ProcessAt": now, "ProcessCPSOff": cps_off,
            "CpnyID": cpny_id, "SOOrdNbr": ord_nbr, "SOLineRef": line_ref, "SOSchedRef": sched_ref,
            "InvtID": invt_id, "SiteID": site_id, "CustID": cust_id}


def cancel(rows: Rows, cpny_id: str, ord_nbr: str) -> bool:
    """Close and cancel an open order; False if it was already cancelled. Refuses a shipped order."""
    row = rows.lock("SOHeader", ["Status", "Cancelled"], {"CpnyID": cpny_id, "OrdNbr": ord_nbr})
    if row is None:
        raise NeedsReview("unknown_order", f"sales order {ord_nbr} does not exist in {cpny_id}", fields=("OrdNbr",))
    if row[1]:
        return False
    shipped = rows.scalar('SELECT COUNT(*) FROM "SOShipHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ? '
                          'AND "ShippingConfirmed" = 1 AND "Cancelled" = 0', [cpny_id, ord_nbr])
    if shipped:
        raise NeedsReview("order_shipped", f"sales order {ord_nbr} has a confirmed shipper; SL must return it",
                          fields=("OrdNbr",))
    key = {"CpnyID": cpny_id, "OrdNbr": ord_nbr}
    rows.update("SOHeader", {"Status": "C", "Cancelled": 1}, key)
    rows.update("SOLine", {"Status": "C", "CancelDate": datetime.now()}, key)
    rows.update("SOSched", {"Status": "C"}, key)
    return True


HEADER_FIELDS = ("CustID", "CustOrdNbr", "Status", "Cancelled", "TotOrd", "CuryID", "OrdDate", "LineCntr", "ShipViaID",
                 "ShipSiteID", "ShipName", "ShipAttn", "ShipAddr1", "ShipAddr2", "ShipCity", "ShipState", "ShipZip",
                 "ShipCountry", "User1", "User2", "User3", "User4", "User7", "User8")


def order_header(rows: Rows, cpny_id: str, ord_nbr: str) -> dict | None:
    row = rows.one(f'SELECT {", ".join(chr(34) + k + chr(34) for k in HEADER_FIELDS)} '
                   'FROM "SOHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    if row is None:
        return None
    head = dict(zip(HEADER_FIELDS, row, strict=True))
    head["OrdDate"] = rows.dt(head["OrdDate"])
    return head


def order_lines(rows: Rows, cpny_id: str, ord_nbr: str) -> list[dict]:
    keys = ("LineRef", "InvtID", "Descr", "SiteID", "QtyOrd", "SlsPrice", "TotOrd", "SlsAcct", "SlsSub", "User1",
            "UnitDesc", "TaxCat")
    found = rows.all(f'SELECT {", ".join(chr(34) + k + chr(34) for k in keys)} FROM "SOLine" '
                     'WHERE "CpnyID" = ? AND "OrdNbr" = ? ORDER BY "LineRef"', [cpny_id, ord_nbr])
    return [dict(zip(keys, r, strict=True)) for r in found]
