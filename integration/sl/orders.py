"""Sales orders: create (SOHeader, SOLine, SOSched, ProcessQueue) and cancel.

What is written mirrors SL's own web-service procedures (``WS_SOHeader_INSERT`` ... ``WS_processqueue_INSERT``)
and reference §10.4: an open order at its next workflow step after entry, one schedule per line, and the
Process Manager queue entries (PLNSO per schedule, as ``ADG_ProcessMgr_QueueSOPlan`` does, and one PRCSO)
so SL plans, allocates and creates shippers itself. ItemSite and SOPlan are never touched.
Cancelling does what SL's cancel procedures do together (``cancel``); an item Amazon cancels reduces its line
(``reduce_lines``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from integration.errors import NeedsReview
from integration.sl import counters
from integration.sl.lookups import Lookups
from integration.sl.models import SalesOrder
from integration.sl.rows import Rows
from integration.sl.text import sl_datetime, to_decimal, trim, wrap_lines

LINE_STEP = 256   # SL grids number LineNbr from -32768 upward (reference §1.9)
ADDR_WIDTH = 60   # SOHeader.ShipAddr1/2 CHAR(60)
# SOSched.CancelDate: SL expires a schedule once it is on or before today (ADG_ProcessMgr_ExpiredSchedules,
# ADG_ProcessMgr_SOReducedQty, ADG_UpdtShip_GetZeroScheds: "CancelDate <= today"), and plans and ships only
# schedules cancelling after today. The order screen sets it from SOType.CancelDays; where the order type has none,
# the mapping's ``schedules.cancel_days`` (default below) after the latest promised date. SMALLDATETIME ends
# 2079-06-06, SL's own "never" in its procedures.
DEFAULT_CANCEL_DAYS = 90
LAST_SMALLDATETIME = datetime(2079, 6, 6)


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


def _ceil(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)


def sl_line_total(price, qty, pct, places: int) -> Decimal:
    """What SL makes of a line: ``SlsPrice x QtyOrd x (1 - DiscPct/100)`` in its FLOATs, rounded to the currency
    (``ADG_Book_Order``)."""
    value = Decimal(repr(float(price) * float(qty) * (1 - float(pct or 0) / 100)))
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _rounder(places: int):
    """``text.to_decimal`` for one currency, a missing amount being 0."""
    return lambda x: to_decimal(x or 0, places)


def _tax_amounts(merch: Decimal, freight: Decimal, misc: Decimal, t_merch: Decimal, t_frt: Decimal,
                 t_misc: Decimal) -> dict[str, float]:
    """An SOTax row's amounts and their Cury twins: a part is taxable only where Amazon taxed it."""
    amounts = {"MerchTxbl": merch, "MerchTax": t_merch, "FrtTxbl": freight if t_frt else 0, "FrtTax": t_frt,
               "MiscTxbl": misc if t_misc else 0, "MiscTax": t_misc,
               "TotTxbl": merch + (freight if t_frt else 0) + (misc if t_misc else 0), "TotTax": t_merch + t_frt + t_misc}
    return _with_cury(amounts)


def _with_cury(amounts: dict) -> dict[str, float]:
    """Amounts as SL's FLOATs with their Cury* twins (base currency only: the same values)."""
    return {**{k: float(v) for k, v in amounts.items()}, **{"Cury" + k: float(v) for k, v in amounts.items()}}


def line_money(price: Decimal, qty: Decimal, net: Decimal, places: int, price_places: int) -> tuple[float, float]:
    """(SlsPrice, DiscPct) so that SL's own line price, ``SlsPrice x QtyOrd x (1 - DiscPct/100)`` rounded to the
    currency (``ADG_Book_Order``), is exactly ``net``: a promotion becomes the line's discount percent, never a
    lower TotOrd beside an unchanged price. SL has no discount-amount column on SOLine (DiscPct, DiscPrcType and
    ChainDisc only), so a fixed promotion is stated as the percent that gives the same cents. The price is rounded
    up to SL's price places so the percent is never negative."""
    sls_price = _ceil(price, price_places)
    if qty and sls_price * qty < net:
        sls_price = _ceil(net / qty, price_places)
    gross = sls_price * qty
    pct = 0.0 if not gross or gross == net else float((1 - net / gross) * 100)
    if sl_line_total(sls_price, qty, pct, places) != net:
        raise NeedsReview("total_mismatch", f"line price {sls_price} x {qty} cannot be discounted to {net} in SL",
                          fields=("DiscPct",), details={"price": str(sls_price), "qty": str(qty), "net": str(net)})
    return float(sls_price), pct


def _spread(total: Decimal, weights: list[Decimal], places: int) -> list[Decimal]:
    """``total`` split over ``weights`` in proportion, rounded, the last part taking the remainder (sums exactly)."""
    whole = sum(weights, Decimal(0))
    quantum = Decimal(1).scaleb(-places)
    out, left = [], total
    for i, w in enumerate(weights):
        part = left if i == len(weights) - 1 else ((total * w / whole) if whole else Decimal(0)).quantize(quantum)
        out.append(part)
        left -= part
    return out


def create(rows: Rows, look: Lookups, cpny_id: str, order: SalesOrder, closed: str = "") -> tuple[str, list[str]]:
    """Write the order; returns (OrdNbr, notes about text that had to be cut).

    ``closed`` (``shipped`` or ``cancelled``) writes a history document instead (an order Amazon shipped or cancelled
    before go-live, the mapping's ``history: closed``): header, lines and schedules closed (Status C; Cancelled for a
    cancelled one; shipped quantities as Amazon shipped them), nothing open to plan, ship or bill (no Process
    Manager entries, no next step, no unshipped balance).

    Money is composed the SL way (``ADG_Book_Order``, SOHeader/SOMisc/SOTax): each line's merchandise is its price
    less its discount percent; shipping less shipping promotions is the header's freight (``TotFrt``, on the order
    type's freight account); gift wrap, COD and other charges are SOMisc rows (``TotMisc``); Amazon's tax is one
    SOTax row under the marketplace's TaxID with its merchandise / freight / misc parts (``TotTax``), spread over
    the schedules' TaxAmt00 for merchandise. ``TotOrd = TotMerch + TotFrt + TotMisc + TotTax``; when the caller
    states Amazon's total (``expected_total``) a difference of a cent holds the order before anything is written.
    """
    otype = look.order_type(rows, cpny_id, order.SOTypeID)
    cust = look.customer(rows, order.CustID)
    look.require_ship_via(rows, cpny_id, order.ShipViaID)
    items = look.items(rows, [line.invt_id for line in order.lines])
    base = look.base_currency(rows)
    cury = order.CuryID or base
    if cury != base:
        raise NeedsReview("foreign_currency", f"order currency {cury} is not the base currency {base}",
                          fields=("CuryID",))
    places = look.decimals(rows, cury)
    price_places = max(places, look.price_places(rows))
    cps_off = look.cps_off(rows)
    quantum = Decimal(1).scaleb(-places)
    if order.FrtTermsID:
        look.require_freight_terms(rows, order.FrtTermsID)
    rnd = _rounder(places)

    # -- money, all of it decided before a row is written -------------------------------------------------------
    priced = []
    for line in order.lines:
        qty, price = Decimal(str(line.qty)), Decimal(str(line.unit_price))
        net = rnd(line.net if line.net is not None else qty * price - Decimal(str(line.discount or 0)))
        if net < 0:
            raise NeedsReview("total_mismatch", f"line {line.invt_id}: promotions exceed the price ({net})",
                              fields=("DiscPct",))
        sls_price, pct = line_money(price, qty, net, places, price_places)
        priced.append((qty, net, sls_price, pct))
    merch = sum((p[1] for p in priced), Decimal(0))
    freight = rnd(order.TotFrt)
    misc = [(m, rnd(m.amount)) for m in order.misc if rnd(m.amount)]
    misc_total = sum((a for _, a in misc), Decimal(0))
    tax = order.tax
    if tax is not None:
        t_merch, t_frt, t_misc = rnd(tax.merch), rnd(tax.freight), rnd(tax.misc)
        tax_total = t_merch + t_frt + t_misc
        tax_id = look.require_tax(rows, tax.tax_id)
    else:
        t_merch, t_frt, t_misc, tax_id = Decimal(0), Decimal(0), Decimal(0), ""
        tax_total = rnd(order.TotTax)
    total = merch + freight + misc_total + tax_total
    if order.expected_total is not None and total != rnd(order.expected_total):
        diff = rnd(order.expected_total) - total
        raise NeedsReview("total_mismatch", f"SL total {total} differs from Amazon's {rnd(order.expected_total)} "
                          f"by {diff}", fields=("TotOrd",),
                          details={"sl_total": str(total), "amazon_total": str(rnd(order.expected_total)),
                                   "difference": str(diff), "merchandise": str(merch), "freight": str(freight),
                                   "misc": str(misc_total), "tax": str(tax_total)})
    line_tax = _spread(t_merch, [p[1] for p in priced], places) if tax_id else [Decimal(0)] * len(priced)

    # -- dates: SL plans and ships only schedules whose CancelDate is after today -------------------------------
    notes: list[str] = []
    date = sl_datetime(order.OrdDate)
    req = sl_datetime(order.ReqDate) if order.ReqDate else date
    prom = sl_datetime(order.PromDate) if order.PromDate else req
    ship = sl_datetime(order.ShipDate) if order.ShipDate else prom
    cancel_days = otype.cancel_days or order.cancel_days or DEFAULT_CANCEL_DAYS
    cancel = min(max(req, prom, ship, datetime.now()) + timedelta(days=cancel_days), LAST_SMALLDATETIME)
    now = datetime.now()

    ord_nbr = counters.next_order_number(rows, cpny_id, order.SOTypeID, order.CustID, date)
    ship_to_id = cust.ship_to_id
    status = "C" if closed else "O"

    def open_qty(qty):
        return 0 if closed else qty

    def shipped(line, qty):
        if closed != "shipped":
            return 0
        return min(qty, Decimal(str(line.qty_shipped))) if line.qty_shipped is not None else qty

    lines, scheds, queue = [], [], []
    for i, (line, (qty, net, sls_price, pct), ltax) in enumerate(zip(order.lines, priced, line_tax, strict=True), 1):
        ref = line.line_ref or f"{i:05d}"
        item = items[line.invt_id]
        alternate = line.alternate_id
        if len(alternate) > 30 or rows.codepage.convert(alternate) != alternate:
            # informational only (InvtID is resolved): noted, never a reason to hold nor a SKU changed by the code page
            notes.append(f"line {ref}: Amazon SKU {alternate} does not fit SOLine.AlternateID (30 characters of the "
                         "database's code page)")
            alternate = ""
        m_net = float(net)
        lines.append({
            "CpnyID": cpny_id, "OrdNbr": ord_nbr, "LineRef": ref, "LineNbr": -32768 + (i - 1) * LINE_STEP,
            "InvtID": line.invt_id, "AlternateID": alternate, "AltIDType": line.alt_id_type if alternate else "",
            "Descr": line.description or item.descr, "SiteID": line.site_id, "UnitDesc": item.stk_unit,
            "UnitMultDiv": "M", "CnvFact": 1, "QtyOrd": qty, "QtyOpenShip": open_qty(qty),
            "QtyShip": shipped(line, qty),
            "SlsPrice": sls_price, "CurySlsPrice": sls_price, "SlsPriceOrig": sls_price, "CurySlsPriceOrig": sls_price,
            "ListPrice": sls_price, "CuryListPrice": sls_price, "DiscPct": pct, "ManualPrice": 1,
            "TotOrd": m_net, "CuryTotOrd": m_net,
            "SlsAcct": otype.sls_acct, "SlsSub": otype.sls_sub, "COGSAcct": item.cogs_acct or otype.cogs_acct,
            "COGSSub": item.cogs_sub or otype.cogs_sub, "InvAcct": item.invt_acct, "InvSub": item.invt_sub,
            "DiscAcct": otype.disc_acct, "DiscSub": otype.disc_sub, "TaxCat": item.tax_cat,
            "Taxable": 1 if tax_id else 0, "Status": status, "ReqDate": req, "PromDate": prom, "CancelDate": cancel,
            "SchedCntr": 1, "User1": line.amazon_item_id,
        })
        scheds.append({
            "CpnyID": cpny_id, "OrdNbr": ord_nbr, "LineRef": ref, "SchedRef": "00001", "SiteID": line.site_id,
            "ShipSiteID": line.site_id, "Status": status, "QtyOrd": qty, "QtyOpenShip": open_qty(qty),
            "QtyShip": shipped(line, qty), "ReqDate": req,
            "PromDate": prom, "ShipDate": ship, "ReqPickDate": ship, "PriorityDate": date, "CancelDate": cancel,
            "ShipViaID": order.ShipViaID, "ShiptoType": "C", "ShiptoID": ship_to_id, "ShipCustID": order.CustID,
            "ShipName": order.ShipName, "ShipZip": order.ShipZip, "TaxCat": item.tax_cat,
            "TaxID00": tax_id, "TaxAmt00": float(ltax), "CuryTaxAmt00": float(ltax),
            "TxblAmt00": m_net if tax_id else 0, "CuryTxblAmt00": m_net if tax_id else 0,
            "User1": line.amazon_item_id,
        })
        if not closed:
            queue.append(queue_row("PLNSO", 150, now, cps_off, cpny_id, ord_nbr, order.CustID, ref, "00001",
                                    line.invt_id, line.site_id))
    if not closed:
        queue.append(queue_row("PRCSO", 155, now, cps_off, cpny_id, ord_nbr, order.CustID))

    misc_rows = []
    for n, (m, amount) in enumerate(misc, 1):
        setup = look.misc_charge(rows, m.misc_chrg_id)
        misc_rows.append({"CpnyID": cpny_id, "OrdNbr": ord_nbr, "MiscChrgRef": f"{n:05d}", "MiscChrgID": m.misc_chrg_id,
                          "Descr": m.descr or setup.descr, "MiscChrg": float(amount), "CuryMiscChrg": float(amount),
                          "MiscAcct": setup.acct or otype.misc_acct, "MiscSub": setup.sub or otype.misc_sub,
                          "TaxCat": setup.tax_cat})
    tax_rows = []
    if tax_id:
        rate = float((t_merch / merch * 100).quantize(Decimal("0.0001"))) if merch else 0.0   # on the goods
        tax_rows.append({"CpnyID": cpny_id, "OrdNbr": ord_nbr, "TaxID": tax_id, "TaxCat": "", "TaxRate": rate,
                         **_tax_amounts(merch, freight, misc_total, t_merch, t_frt, t_misc)})

    (addr1, addr2), overflow = _ship_lines(order)
    if overflow:
        notes.append(f"ship-to address did not fit SOHeader.ShipAddr1/2; rest: {overflow}")
    note_text = "\n".join(x for x in [order.note, *notes] if x)
    line_disc = sum((Decimal(str(p[2])) * p[0] - p[1] for p in priced), Decimal(0)).quantize(quantum)
    money = _with_cury({"TotMerch": merch, "TotFrt": freight, "TotMisc": misc_total, "TotTax": tax_total,
                        "TotTxbl": merch if tax_id else 0, "TotLineDisc": line_disc, "TotOrd": total,
                        "UnshippedBalance": 0 if closed else total})
    header = {
        "CpnyID": cpny_id, "OrdNbr": ord_nbr, "SOTypeID": order.SOTypeID, "CustID": order.CustID,
        "CustOrdNbr": order.CustOrdNbr, "OrdDate": date, "ShipCustID": order.CustID, "ShiptoType": "C",
        "ShiptoID": ship_to_id, "Status": status, "Cancelled": 1 if closed == "cancelled" else 0,
        # a cancelled history order is cancelled as SL cancels (WS_CANCELSALESORDER, ADG_SOHeader_UpdateCancelled)
        "CancelDate": now if closed == "cancelled" else None, "DateCancelled": now if closed == "cancelled" else None,
        "ShipAddrSpecial": 1, "ShipName": order.ShipName, "ShipAttn": order.ShipAttn,
        "ShipAddr1": addr1, "ShipAddr2": addr2, "ShipCity": order.ShipCity, "ShipState": order.ShipState,
        "ShipZip": order.ShipZip, "ShipCountry": order.ShipCountry, "ShipPhone": order.ShipPhone,
        "ShipViaID": order.ShipViaID, "ShipSiteID": order.ShipSiteID or order.lines[0].site_id,
        "BillName": cust.name, "BillAttn": cust.attn, "BillAddr1": cust.addr1, "BillAddr2": cust.addr2,
        "BillCity": cust.city, "BillState": cust.state, "BillZip": cust.zip, "BillCountry": cust.country,
        "BillPhone": cust.phone, "TermsID": cust.terms, "CuryID": cury, "CuryMultDiv": "M",
        "CuryRate": 1, "CuryEffDate": date, "CuryRateType": "",
        **money, "FrtAcct": otype.frt_acct, "FrtSub": otype.frt_sub, "FrtTermsID": order.FrtTermsID,
        "MiscChrgCntr": len(misc_rows), "TaxID00": tax_id,
        "AdminHold": 1 if order.AdminHold and not closed else 0,
        "LineCntr": len(lines), "NextFunctionID": "" if closed else otype.next_function_id,
        "NextFunctionClass": "" if closed else otype.next_function_class, "ARAcct": otype.ar_acct, "ARSub": otype.ar_sub,
        "SlsperID": cust.slsper_id,
        **{f"User{n}": getattr(order, f"User{n}") for n in range(1, 11)},
    }
    rows.notes.clear()
    rows.insert("SOHeader", header)
    rows.insert_many("SOLine", lines)
    rows.insert_many("SOSched", scheds)
    rows.insert_many("SOMisc", misc_rows)
    rows.insert_many("SOTax", tax_rows)
    rows.insert_many("ProcessQueue", queue)
    notes += rows.notes
    if note_text or rows.notes:
        note_id = rows.insert_returning("Snote", {
            "dtRevisedDate": now, "sLevelName": "SOHeader", "sTableName": "SOHeader",
            "sNoteText": "\n".join(x for x in [note_text, *rows.notes] if x)}, "nID")
        rows.update("SOHeader", {"NoteId": note_id}, {"CpnyID": cpny_id, "OrdNbr": ord_nbr})
    return ord_nbr, notes


def _ship_lines(order: SalesOrder) -> tuple[tuple[str, str], str]:
    """ShipAddr1/2 as the mapping fitted them: never wrapped again (a fitted Addr2 stays Addr2, a street is not
    cut mid-word). Only a third line (SL has two) is folded in, at word boundaries, the rest returned for the note."""
    a1, a2, a3 = (" ".join((x or "").split()) for x in (order.ShipAddr1, order.ShipAddr2, order.ShipAddr3))
    if not a3 and len(a1) <= ADDR_WIDTH and len(a2) <= ADDR_WIDTH:
        return (a1, a2), ""
    if a3 and len(a1) <= ADDR_WIDTH and len(f"{a2}, {a3}".strip(", ")) <= ADDR_WIDTH:
        return (a1, f"{a2}, {a3}".strip(", ")), ""
    (x1, x2), overflow = wrap_lines([a1, a2, a3], ADDR_WIDTH, 2)
    return (x1, x2), overflow


def queue_row(ptype, priority, now, cps_off, cpny_id, ord_nbr, cust_id, line_ref="", sched_ref="",
               invt_id="", site_id="") -> dict:
    return {"ProcessType": ptype, "ProcessPriority": priority, "ProcessAt": now, "ProcessCPSOff": cps_off,
            "CpnyID": cpny_id, "SOOrdNbr": ord_nbr, "SOLineRef": line_ref, "SOSchedRef": sched_ref,
            "InvtID": invt_id, "SiteID": site_id, "CustID": cust_id}


def _shippers(rows: Rows, cpny_id: str, ord_nbr: str) -> list[tuple[str, str, int, int, float]]:
    """(ShipperID, Status, ShippingConfirmed, ShippingManifested, picked quantity) of the order's shippers that are
    not cancelled."""
    return rows.all('SELECT h."ShipperID", h."Status", h."ShippingConfirmed", h."ShippingManifested", '
                    'COALESCE((SELECT SUM(l."QtyPick") FROM "SOShipLine" l WHERE l."CpnyID" = h."CpnyID" '
                    'AND l."ShipperID" = h."ShipperID"), 0) FROM "SOShipHeader" h '
                    'WHERE h."CpnyID" = ? AND h."OrdNbr" = ? AND h."Cancelled" = 0 ORDER BY h."ShipperID"',
                    [cpny_id, ord_nbr])


def _refuse_shipped(ord_nbr: str, shippers: list[tuple]) -> None:
    """NeedsReview when a shipper has left the warehouse's hands: confirmed (or closed by SL's update) -> the goods
    went, SL must return them (``order_shipped``); picked or manifested -> the goods are off the shelf, a person
    stops the box (``shipper_picked``). Nothing has been written."""
    for shipper_id, status, confirmed, manifested, picked in shippers:
        if confirmed or trim(status) == "C":
            raise NeedsReview("order_shipped", f"sales order {ord_nbr} has a confirmed shipper {trim(shipper_id)}; "
                              "SL must return it", fields=("OrdNbr",), details={"shipper": trim(shipper_id)})
        if manifested or float(picked or 0) > 0:
            raise NeedsReview("shipper_picked", f"sales order {ord_nbr} has shipper {trim(shipper_id)} already "
                              f"picked ({float(picked or 0):g}) or manifested; the warehouse must stop it before SL "
                              "can cancel", fields=("OrdNbr",), details={"shipper": trim(shipper_id)})


def cancel(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str) -> bool:
    """Cancel an open order the way SL cancels one; False if it was already cancelled.

    The union of SL's two cancel procedures: ``WS_CANCELSALESORDER`` (SOHeader Status C, Cancelled 1, CancelDate
    today; SOLine, SOSched and SOLot Status C) and ``ADG_UpdtShip_CancelOrder`` (SOLot/SOSched/SOLine still open ->
    C; SOHeader NextFunctionID/Class blank, UnshippedBalance and CuryUnshippedBalance 0), with
    ``ADG_SOHeader_UpdateCancelled``'s DateCancelled and ``ADG_X_CancelBackorder``'s SOLine.CancelDate today.

    Open shippers go first, as ``CancelShippersWS`` cancels them (an open shipper, Status O and not cancelled, that
    nothing was picked on): Cancelled 1, DateCancelled today, Status C, and PLNSH + PRCSH queued for the shipper
    so SL's Process Manager releases what it had allocated. A shipper confirmed, closed, picked (SOShipLine.QtyPick)
    or manifested means the goods are, or may be, on their way: NeedsReview, nothing written.

    Each schedule that was open is queued for planning (PLNSO, as ``ADG_ProcessMgr_QueueSOPlan`` queues it, and as
    ``ADG_X_CancelBackorder`` does after closing an order): SL's plan of a closed schedule drops its SOPlan demand,
    so ItemSite's customer-order and allocated quantities fall; without it the cancelled goods stay promised.
    """
    row = rows.lock("SOHeader", ["Status", "Cancelled", "CustID"], {"CpnyID": cpny_id, "OrdNbr": ord_nbr})
    if row is None:
        raise NeedsReview("unknown_order", f"sales order {ord_nbr} does not exist in {cpny_id}", fields=("OrdNbr",))
    if row[1]:
        return False
    shippers = _shippers(rows, cpny_id, ord_nbr)
    _refuse_shipped(ord_nbr, shippers)
    now, cps_off = datetime.now(), look.cps_off(rows)
    key = {"CpnyID": cpny_id, "OrdNbr": ord_nbr}
    queue = []
    for shipper_id, *_ in shippers:   # every one left is open and untouched (CancelShippersWS, RecCount 0)
        rows.update("SOShipHeader", {"Cancelled": 1, "DateCancelled": now, "Status": "C"},
                    {"CpnyID": cpny_id, "ShipperID": shipper_id})
        for ptype, priority in (("PLNSH", 250), ("PRCSH", 255)):
            queue.append({**queue_row(ptype, priority, now, cps_off, cpny_id, "", ""), "SOShipperID": shipper_id})
    open_scheds = open_schedules(rows, cpny_id, ord_nbr)
    rows.update("SOHeader", {"Status": "C", "Cancelled": 1, "CancelDate": now, "DateCancelled": now,
                             "NextFunctionID": "", "NextFunctionClass": "", "UnshippedBalance": 0,
                             "CuryUnshippedBalance": 0}, key)
    rows.update("SOLine", {"Status": "C", "CancelDate": now}, key)
    rows.update("SOSched", {"Status": "C"}, key)
    rows.update("SOLot", {"Status": "C"}, key)
    queue += [queue_row("PLNSO", 150, now, cps_off, cpny_id, ord_nbr, row[2], line_ref, sched_ref, invt_id, site_id)
              for line_ref, sched_ref, invt_id, site_id in open_scheds]
    rows.insert_many("ProcessQueue", queue)
    return True


def open_schedules(rows: Rows, cpny_id: str, ord_nbr: str) -> list[tuple]:
    """(LineRef, SchedRef, InvtID, SiteID) of the order's schedules not yet closed."""
    return rows.all('SELECT s."LineRef", s."SchedRef", l."InvtID", s."SiteID" FROM "SOSched" s '
                    'JOIN "SOLine" l ON l."CpnyID" = s."CpnyID" AND l."OrdNbr" = s."OrdNbr" '
                    'AND l."LineRef" = s."LineRef" WHERE s."CpnyID" = ? AND s."OrdNbr" = ? '
                    'AND s."Status" <> \'C\' ORDER BY s."LineRef", s."SchedRef"', [cpny_id, ord_nbr])


def _qty(value) -> Decimal:
    """A FLOAT quantity as SL keeps it, as a Decimal (2.0 -> 2)."""
    d = Decimal(repr(float(value or 0)))
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def reduce_lines(rows: Rows, look: Lookups, cpny_id: str, ord_nbr: str, order: SalesOrder) -> list[dict]:
    """Apply Amazon's item-level cancellation to an open order; returns the lines reduced (none: nothing to do).

    ``order`` is the order as Amazon has it now (``build_sales_order``: a line Amazon cancelled whole is absent).
    Each SL line, found by its Amazon order item id (SOLine.User1), takes Amazon's lower quantity: QtyOrd and
    QtyOpenShip on the line and its schedule, the line's money SL's way (``ADG_Book_Order``:
    TotOrd = SlsPrice x QtyOrd x (1 - DiscPct/100) at its unchanged price and discount), a line cancelled whole
    closed (Status C). The header (TotMerch, TotFrt, TotTax, TotOrd, UnshippedBalance) and SOTax take Amazon's
    new freight and tax, the merchandise tax spread over the schedules' TaxAmt00 again; SOMisc is left as it is.
    Each changed schedule is queued for planning (PLNSO, ``ADG_ProcessMgr_QueueSOPlan``) so SL releases the demand.

    NeedsReview, nothing written: a quantity that grew (not a cancellation), an order with a shipper (the warehouse
    works from the old quantity; SL's own screen refuses less than is shipped), or a total that still differs
    from Amazon's after the reduction (``total_changed``: more changed than the items).
    """
    head = rows.lock("SOHeader", ["Status", "Cancelled", "CuryID", "TotMisc", "CustID", "TotFrt"],
                     {"CpnyID": cpny_id, "OrdNbr": ord_nbr})
    if head is None or head[1] or trim(head[0]) != "O":
        raise NeedsReview("order_closed", f"sales order {ord_nbr} is not open; its items cannot be reduced",
                          fields=("OrdNbr",))
    places = look.decimals(rows, trim(head[2]))
    rnd = _rounder(places)

    wanted: dict[str, Decimal] = {}
    for line in order.lines:
        wanted[line.amazon_item_id] = wanted.get(line.amazon_item_id, Decimal(0)) + Decimal(str(line.qty))
    lines = rows.all('SELECT "LineRef", "User1", "QtyOrd", "QtyShip", "SlsPrice", "DiscPct", "InvtID", "SiteID", '
                     '"Taxable" FROM "SOLine" WHERE "CpnyID" = ? AND "OrdNbr" = ? ORDER BY "LineRef"',
                     [cpny_id, ord_nbr])
    priced, changed = [], []
    for ref, item_id, qty_ord, qty_ship, price, pct, invt_id, site_id, taxable in lines:
        old = _qty(qty_ord)
        new = wanted.get(trim(item_id), Decimal(0)) if trim(item_id) else old
        if new > old:
            raise NeedsReview("total_changed", f"Amazon's quantity of item {trim(item_id)} grew from {old} to {new}; "
                              "only a person can add to an SL order", fields=("quantityOrdered",))
        net = sl_line_total(price, new, pct, places)
        priced.append((ref, net, taxable))
        if new < old:
            changed.append({"LineRef": trim(ref), "InvtID": trim(invt_id), "SiteID": trim(site_id),
                            "amazon_item_id": trim(item_id), "from": old, "to": new,
                            "shipped": _qty(qty_ship), "net": net,
                            "disc": rnd(Decimal(repr(float(price))) * new) - net})
    if not changed:
        return []
    if _shippers(rows, cpny_id, ord_nbr) or any(c["shipped"] > c["to"] for c in changed):
        raise NeedsReview("shipper_exists", f"sales order {ord_nbr} already has a shipper; Amazon's cancelled items "
                          "must be taken off it in SL by a person", fields=("OrdNbr",),
                          details={"lines": [c["LineRef"] for c in changed]})
    merch = sum((p[1] for p in priced), Decimal(0))
    freight, misc = rnd(order.TotFrt), rnd(head[3])
    tax = order.tax
    t_merch, t_frt, t_misc = (rnd(tax.merch), rnd(tax.freight), rnd(tax.misc)) if tax else (Decimal(0),) * 3
    total = merch + freight + misc + t_merch + t_frt + t_misc
    if order.expected_total is not None and total != rnd(order.expected_total):
        amazon = rnd(order.expected_total)
        raise NeedsReview("total_changed", f"after Amazon's item cancellation SL's order {ord_nbr} would total "
                          f"{total}, Amazon's is {amazon} (difference {amazon - total})", fields=("order_total",),
                          details={"sl_total": str(total), "amazon_total": str(amazon),
                                   "difference": str(amazon - total)})

    now, cps_off = datetime.now(), look.cps_off(rows)
    key = {"CpnyID": cpny_id, "OrdNbr": ord_nbr}
    tax_id = rows.scalar('SELECT MIN("TaxID") FROM "SOTax" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    tax_id = trim(tax_id or "")
    spread = _spread(t_merch, [p[1] for p in priced], places) if tax_id else [Decimal(0)] * len(priced)
    reduced = {c["LineRef"]: c for c in changed}
    queue = []
    for (ref, net, _), line_tax in zip(priced, spread, strict=True):
        c = reduced.get(trim(ref))
        line_key = {**key, "LineRef": ref}
        sched = {"TaxAmt00": float(line_tax), "CuryTaxAmt00": float(line_tax),
                 "TxblAmt00": float(net) if tax_id else 0, "CuryTxblAmt00": float(net) if tax_id else 0}
        if c is not None:
            closed = {"Status": "C"} if c["to"] == 0 else {}
            rows.update("SOLine", {"QtyOrd": float(c["to"]), "QtyOpenShip": float(c["to"] - c["shipped"]),
                                   "TotOrd": float(net), "CuryTotOrd": float(net), **closed,
                                   **({"CancelDate": now} if closed else {})}, line_key)
            sched.update({"QtyOrd": float(c["to"]), "QtyOpenShip": float(c["to"] - c["shipped"]), **closed})
            queue += [queue_row("PLNSO", 150, now, cps_off, cpny_id, ord_nbr, trim(head[4]), trim(ref), s,
                                 c["InvtID"], c["SiteID"])
                      for (s,) in rows.all('SELECT "SchedRef" FROM "SOSched" WHERE "CpnyID" = ? AND "OrdNbr" = ? '
                                           'AND "LineRef" = ?', [cpny_id, ord_nbr, ref])]
        rows.update("SOSched", sched, line_key)
    if tax_id:
        rows.update("SOTax", _tax_amounts(merch, freight, misc, t_merch, t_frt, t_misc), {**key, "TaxID": tax_id})
    tax_total = t_merch + t_frt + t_misc
    disc = rows.scalar('SELECT SUM("SlsPrice" * "QtyOrd" - "TotOrd") FROM "SOLine" WHERE "CpnyID" = ? '
                       'AND "OrdNbr" = ?', [cpny_id, ord_nbr])
    money = {"TotMerch": merch, "TotFrt": freight, "TotTax": tax_total, "TotTxbl": merch if tax_id else 0,
             "TotLineDisc": rnd(disc), "TotOrd": total, "UnshippedBalance": total}
    rows.update("SOHeader", _with_cury(money), key)
    rows.insert_many("ProcessQueue", queue)
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in c.items() if k != "disc"} for c in changed]


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
