"""Available quantity per item over a group of sites, computed from ItemSite; ItemSite is never written.

The formula is SL's own recalculation, ``ADG_Invt_CalcQtyAvail`` (reference §7), with the INSetup switches
read from the customer's database:

    avail = QtyOnHand - QtyNotAvail - QtyAllocBM - QtyAllocIN - QtyAllocPORet - QtyAllocSD
            - QtyShipNotInv - QtyAllocProjIN + PrjINQtyShipNotInv + PrjINQtyAllocIN + PrjINQtyAllocPORet
          + QtyInTransit + QtyOnTransferOrders      if InclQtyInTransit
          + QtyOnPO                                 if InclQtyOnPO
          + QtyOnKitAssyOrders                      if InclQtyOnWO
          + QtyWOFirmSupply / + QtyWORlsedSupply    if InclWOFirmSupply / InclWORlsedSupply
          - QtyCustOrd + PrjINQtyCustOrd            if InclQtyCustOrd, otherwise
              - QtyOnBO                             if InclQtyOnBO
              - QtyAlloc + PrjINQtyAlloc            if InclAllocQty
          - QtyWOFirmDemand / - QtyWORlsedDemand    if InclWOFirmDemand / InclWORlsedDemand

rounded to ``INSetup.DecPlQty``. Each site is clamped at zero before the group is summed (a site that is
short cannot ship another site's stock), and the group total is floored to a whole unit for Amazon.
Non-stock items (``StkItem = 0``) and items not saleable (``TranStatusCode`` not AC/NP/OH, as SL's order
entry list) have nothing available.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from integration.sl.rows import Rows

SALEABLE = ("AC", "NP", "OH")
SWITCHES = ("InclQtyInTransit", "InclQtyOnPO", "InclQtyOnWO", "InclWOFirmSupply", "InclWORlsedSupply",
            "InclQtyCustOrd", "InclQtyOnBO", "InclAllocQty", "InclWOFirmDemand", "InclWORlsedDemand")
QTY_COLUMNS = (
    "QtyOnHand", "QtyNotAvail", "QtyAllocBM", "QtyAllocIN", "QtyAllocPORet", "QtyAllocSD", "QtyShipNotInv",
    "QtyAllocProjIN", "PrjINQtyShipNotInv", "PrjINQtyAllocIN", "PrjINQtyAllocPORet", "QtyInTransit",
    "QtyOnTransferOrders", "QtyOnPO", "QtyOnKitAssyOrders", "QtyWOFirmSupply", "QtyWORlsedSupply", "QtyCustOrd",
    "PrjINQtyCustOrd", "QtyOnBO", "QtyAlloc", "PrjINQtyAlloc", "QtyWOFirmDemand", "QtyWORlsedDemand",
)


@dataclass(frozen=True)
class Switches:
    InclQtyInTransit: int = 0
    InclQtyOnPO: int = 0
    InclQtyOnWO: int = 0
    InclWOFirmSupply: int = 0
    InclWORlsedSupply: int = 0
    InclQtyCustOrd: int = 0
    InclQtyOnBO: int = 0
    InclAllocQty: int = 0
    InclWOFirmDemand: int = 0
    InclWORlsedDemand: int = 0
    DecPlQty: int = 0


def read_switches(rows: Rows) -> Switches:
    row = rows.one(f'SELECT {", ".join(chr(34) + s + chr(34) for s in (*SWITCHES, "DecPlQty"))} FROM "INSetup"')
    return Switches(*(int(v or 0) for v in row)) if row else Switches()


def site_available(q: dict[str, float], s: Switches) -> float:
    """SL's QtyAvail for one ItemSite row (``q``: column -> quantity), not yet clamped."""
    avail = (q["QtyOnHand"] - q["QtyNotAvail"] - q["QtyAllocBM"] - q["QtyAllocIN"] - q["QtyAllocPORet"]
             - q["QtyAllocSD"] - q["QtyShipNotInv"] - q["QtyAllocProjIN"] + q["PrjINQtyShipNotInv"]
             + q["PrjINQtyAllocIN"] + q["PrjINQtyAllocPORet"])
    if s.InclQtyInTransit:
        avail += q["QtyInTransit"] + q["QtyOnTransferOrders"]
    if s.InclQtyOnPO:
        avail += q["QtyOnPO"]
    if s.InclQtyOnWO:
        avail += q["QtyOnKitAssyOrders"]
    if s.InclWOFirmSupply:
        avail += q["QtyWOFirmSupply"]
    if s.InclWORlsedSupply:
        avail += q["QtyWORlsedSupply"]
    if s.InclQtyCustOrd:
        avail += -q["QtyCustOrd"] + q["PrjINQtyCustOrd"]
    else:
        if s.InclQtyOnBO:
            avail -= q["QtyOnBO"]
        if s.InclAllocQty:
            avail += -q["QtyAlloc"] + q["PrjINQtyAlloc"]
    if s.InclWOFirmDemand:
        avail -= q["QtyWOFirmDemand"]
    if s.InclWORlsedDemand:
        avail -= q["QtyWORlsedDemand"]
    return round(avail, s.DecPlQty)


def available(rows: Rows, invt_ids: list[str], site_ids: list[str], switches: Switches | None = None) -> dict[str, int]:
    """InvtID -> whole units available over ``site_ids`` (0 for unknown, non-stock or unsaleable items)."""
    result = {i: 0 for i in invt_ids}
    if not invt_ids or not site_ids:
        return result
    switches = switches or read_switches(rows)
    totals = {i: 0.0 for i in invt_ids}
    for chunk_start in range(0, len(invt_ids), 200):
        chunk = invt_ids[chunk_start:chunk_start + 200]
        item_marks = ", ".join("?" for _ in chunk)
        site_marks = ", ".join("?" for _ in site_ids)
        cols = ", ".join(f's."{c}"' for c in QTY_COLUMNS)
        found = rows.all(
            f'SELECT s."InvtID", {cols} FROM "ItemSite" s JOIN "Inventory" i ON i."InvtID" = s."InvtID" '
            f'WHERE s."InvtID" IN ({item_marks}) AND s."SiteID" IN ({site_marks}) AND i."StkItem" = 1 '
            f'AND i."TranStatusCode" IN ({", ".join("?" for _ in SALEABLE)})',
            [*chunk, *site_ids, *SALEABLE])
        for row in found:
            q = dict(zip(QTY_COLUMNS, (float(v or 0) for v in row[1:]), strict=True))
            totals[row[0]] = totals.get(row[0], 0.0) + max(0.0, site_available(q, switches))
    for invt_id, total in totals.items():
        result[invt_id] = max(0, math.floor(total + 1e-9))
    return result
