"""Shippers confirmed in SL, with carrier, ship date, lines and tracking numbers (reference §8).

A shipper counts as shipped when ``ShippingConfirmed = 1``, ``Cancelled = 0`` and ``ShipDateAct`` is set.
The watermark is ``SOShipHeader.LUpd_DateTime`` (SMALLDATETIME: minute precision), compared with ``>=`` so
a shipper changed in the watermark's own minute is seen again; ``xAMZShipment`` stops it being pushed twice.
Tracking numbers come from SOShipPack (one per box), else from SOShipHeader.TrackingNbr. SL's columns are
narrower than some carriers' numbers (SOShipPack.TrackingNbr CHAR(20), SOShipHeader.TrackingNbr CHAR(25); a USPS
number has 22 digits), so a number recorded whole in ``xAMZTracking`` (same CpnyID, ShipperID, BoxRef; a blank
BoxRef for the header's) is preferred; the package keeps SL's value and its column's width, so a caller can tell a
number that may have been cut. ``unpushed_only`` leaves out shippers whose xAMZShipment status is settled (PUSHED,
SKIPPED_AFN, NOT_AMAZON).

Lines: each SOShipLine names its order line (OrdLineRef), whose SOLine.User1 is the Amazon order item id; a shipper
line is never matched to an order line by its position.

``package_refs`` gives each box its Amazon ``packageReferenceId`` once (``xAMZPackage``); ``order_package_refs`` is
every reference given to a box of one Amazon order, so a package at Amazon under another reference was confirmed
elsewhere (Seller Central).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.sl.models import Package, Shipper, ShipperLine
from integration.sl.rows import Rows
from integration.sl.schema import SL
from integration.sl.state import SETTLED_SHIPMENT
from integration.sl.text import NO_DATE

_HEADER = ('SELECT h."ShipperID", h."OrdNbr", h."CustOrdNbr", h."ShipViaID", v."CarrierID", v."SCAC", v."Descr", '
           'h."ShipDateAct", h."TrackingNbr", h."LUpd_DateTime" FROM "SOShipHeader" h '
           'LEFT JOIN "ShipVia" v ON v."CpnyID" = h."CpnyID" AND v."ShipViaID" = h."ShipViaID" '
           'WHERE h."CpnyID" = ? AND h."ShippingConfirmed" = 1 AND h."Cancelled" = 0 AND h."ShipDateAct" > ? ')


def confirmed_since(rows: Rows, cpny_id: str, watermark: datetime | None, limit: int = 500,
                    unpushed_only: bool = False) -> list[Shipper]:
    sql = _HEADER + 'AND h."LUpd_DateTime" >= ? '
    params = [cpny_id, NO_DATE, watermark or NO_DATE]
    if unpushed_only:
        sql += ('AND NOT EXISTS (SELECT 1 FROM "xAMZShipment" x WHERE x."CpnyID" = h."CpnyID" '
                f'AND x."ShipperID" = h."ShipperID" AND x."Status" IN ({", ".join("?" for _ in SETTLED_SHIPMENT)})) ')
        params += SETTLED_SHIPMENT
    sql += 'ORDER BY h."LUpd_DateTime", h."ShipperID"'
    heads = rows.all(sql, params)[:limit]
    return _complete(rows, cpny_id, heads)


def one(rows: Rows, cpny_id: str, shipper_id: str) -> Shipper | None:
    """A confirmed shipper by id (None if it does not exist, is not confirmed or was cancelled)."""
    found = _complete(rows, cpny_id, rows.all(_HEADER + 'AND h."ShipperID" = ?', [cpny_id, NO_DATE, shipper_id]))
    return found[0] if found else None


def for_order(rows: Rows, cpny_id: str, ord_nbr: str) -> list[Shipper]:
    heads = rows.all(_HEADER + 'AND h."OrdNbr" = ? ORDER BY h."ShipperID"', [cpny_id, NO_DATE, ord_nbr])
    return _complete(rows, cpny_id, heads)


def _complete(rows: Rows, cpny_id: str, heads: list[tuple]) -> list[Shipper]:
    if not heads:
        return []
    ids = [h[0] for h in heads]
    lines: dict[str, list[ShipperLine]] = {i: [] for i in ids}
    packs: dict[str, list[Package]] = {i: [] for i in ids}
    whole: dict[tuple[str, str], tuple[str, str]] = {}
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        marks = ", ".join("?" for _ in chunk)
        for sid, ref, oref, invt, qty, item_id in rows.all(
                'SELECT l."ShipperID", l."LineRef", l."OrdLineRef", l."InvtID", l."QtyShip", o."User1" '
                'FROM "SOShipLine" l LEFT JOIN "SOLine" o ON o."CpnyID" = l."CpnyID" AND o."OrdNbr" = l."OrdNbr" '
                f'AND o."LineRef" = l."OrdLineRef" WHERE l."CpnyID" = ? AND l."ShipperID" IN ({marks}) '
                'ORDER BY l."ShipperID", l."LineRef"', [cpny_id, *chunk]):
            lines[sid].append(ShipperLine(ref, oref, invt, Decimal(str(qty or 0)), item_id or ""))
        for sid, box, number, source in rows.all(
                'SELECT "ShipperID", "BoxRef", "TrackingNbr", "Source" FROM "xAMZTracking" '
                f'WHERE "CpnyID" = ? AND "ShipperID" IN ({marks})', [cpny_id, *chunk]):
            if number:
                whole[(sid, box)] = (number, source or "xAMZTracking")
        for sid, box, tracking, weight in rows.all(
                'SELECT "ShipperID", "BoxRef", "TrackingNbr", "Wght" FROM "SOShipPack" '
                f'WHERE "CpnyID" = ? AND "ShipperID" IN ({marks}) ORDER BY "ShipperID", "BoxRef"', [cpny_id, *chunk]):
            if tracking or (sid, box) in whole:
                packs[sid].append(_package(box, tracking or "", PACK_WIDTH, whole.get((sid, box)), weight))
    result = []
    for sid, ord_nbr, cust_ord, via, carrier_id, scac, descr, ship_date, header_tracking, changed in heads:
        packages = packs[sid]
        if not packages and (header_tracking or (sid, "") in whole):
            packages = [_package("", header_tracking or "", HEADER_WIDTH, whole.get((sid, "")), 0)]
        result.append(Shipper(
            cpny_id=cpny_id, shipper_id=sid, ord_nbr=ord_nbr, cust_ord_nbr=cust_ord, ship_via_id=via,
            carrier=carrier_id or scac or descr or via, scac=scac or "", ship_via_descr=descr or "",
            ship_date=rows.dt(ship_date), lines=lines[sid], packages=packages, changed_at=rows.dt(changed)))
    return result


PACK_WIDTH = SL["SOShipPack"].column("TrackingNbr").length        # 20 in SL's SOShipPack script
HEADER_WIDTH = SL["SOShipHeader"].column("TrackingNbr").length    # 25 in SL's SOShipHeader script


def _package(box: str, sl_value: str, width: int, recorded: tuple[str, str] | None, weight) -> Package:
    number, source = recorded or (sl_value, "")
    return Package(box, number, float(weight or 0), sl_tracking_nbr=sl_value, sl_width=width or 0,
                   recorded_by=source)


def package_refs(rows: Rows, cpny_id: str, shipper_id: str, amazon_order_id: str, boxes: dict[str, str],
                 taken: set[str]) -> dict[str, str]:
    """The ``packageReferenceId`` of each box (BoxRef -> its tracking number) of a shipper, given once and kept in
    ``xAMZPackage``: a box that has one keeps it; a new box takes the next number above every reference of the
    Amazon order, ours (any company, any shipper) and ``taken`` (the order's packages at Amazon, e.g. confirmed
    in Seller Central). The order's binding row is locked first, so two shippers of one order never draw the same
    number; the unique key (AmazonOrderId, PackageRef) stops it even so."""
    rows.lock("xAMZOrder", ["AmazonOrderId"], {"AmazonOrderId": amazon_order_id})
    mine: dict[str, str] = {}
    used = {int(t) for t in taken if str(t).isdigit()}
    for cpny, sid, box, ref in rows.all('SELECT "CpnyID", "ShipperID", "BoxRef", "PackageRef" FROM "xAMZPackage" '
                                        'WHERE "AmazonOrderId" = ?', [amazon_order_id]):
        if (cpny, sid) == (cpny_id, shipper_id):
            mine[box] = ref
        if ref.isdigit():
            used.add(int(ref))
    last = max(used, default=0)
    for box, tracking in boxes.items():
        if box not in mine:
            last += 1
            mine[box] = str(last)
            rows.insert("xAMZPackage", {"CpnyID": cpny_id, "ShipperID": shipper_id, "BoxRef": box,
                                        "AmazonOrderId": amazon_order_id, "PackageRef": mine[box],
                                        "TrackingNbr": tracking})
    return {box: mine[box] for box in boxes}


def order_package_refs(rows: Rows, amazon_order_id: str) -> set[str]:
    """Every ``packageReferenceId`` given to a box of the Amazon order (``xAMZPackage``: any company, any shipper)."""
    return {ref for (ref,) in rows.all('SELECT "PackageRef" FROM "xAMZPackage" WHERE "AmazonOrderId" = ?',
                                       [amazon_order_id])}
