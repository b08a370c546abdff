"""Inventory transfers to the FBA site that have left SL's warehouse but not been received.

A transfer is a TrnsfrDoc (header: from SiteID, ToSiteID, expected date) whose quantities are the INTran
issue rows of its batch (``TranType 'TR'``, ``InvtMult = -1``, from the source site). In transit means not
received: ``RcptDate`` still 1900-01-01 and ``Status`` not ``R``. The status letters are SL's
[unconfirmed in the reference]; the receipt date is the test we rely on.
"""

from __future__ import annotations

from decimal import Decimal

from integration.sl.models import Transfer
from integration.sl.rows import Rows
from integration.sl.text import NO_DATE


def in_transit(rows: Rows, cpny_id: str, to_site: str) -> list[Transfer]:
    found = rows.all(
        'SELECT d."TrnsfrDocNbr", t."InvtID", SUM(t."Qty"), d."SiteID", d."ToSiteID", d."ExpectedDate" '
        'FROM "TrnsfrDoc" d JOIN "INTran" t ON t."BatNbr" = d."BatNbr" AND t."CpnyID" = d."CpnyID" '
        'AND t."SiteID" = d."SiteID" AND t."TranType" = ? AND t."InvtMult" = -1 '
        'WHERE d."CpnyID" = ? AND d."ToSiteID" = ? AND d."RcptDate" <= ? AND d."Status" <> ? '
        'GROUP BY d."TrnsfrDocNbr", t."InvtID", d."SiteID", d."ToSiteID", d."ExpectedDate" '
        'ORDER BY d."TrnsfrDocNbr", t."InvtID"',
        ["TR", cpny_id, to_site, NO_DATE, "R"])
    return [Transfer(doc, invt, Decimal(str(qty or 0)), src, dst, rows.dt(expected))
            for doc, invt, qty, src, dst, expected in found]


def in_transit_by_item(rows: Rows, cpny_id: str, to_site: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for t in in_transit(rows, cpny_id, to_site):
        totals[t.invt_id] = totals.get(t.invt_id, Decimal(0)) + t.qty
    return totals
