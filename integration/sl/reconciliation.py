"""Reads for settlement reconciliation (``integration.settlements.reconcile``): bindings and AR documents of many
Amazon orders at once (ours, from xAMZDocument, and SL's own: the Sales Journal's invoice of a merchant order),
and the last reconciliation recorded per settlement.

A settlement names tens of thousands of orders; these read them in chunks (one query per chunk of ids), never one
query per order. An AR document's amounts come from its ARTran rows by class, as ``ar.create_document`` writes them:
'N' sales lines (by LineRef), 'F' freight, 'M' misc charges, 'T' tax; the 'U' application line is not part of the
document's amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from integration.sl.models import OrderBinding
from integration.sl.rows import Rows
from integration.sl.state import _ORDER_COLS

CHUNK = 400                 # ids per IN (...) list: well under every engine's parameter limit (SQL Server: 2100)
RECONCILED, UNRECONCILED = "reconciled", "unreconciled"   # xAMZEvent actions of entity "settlement"


@dataclass
class ARDocument:
    """One AR document of ours (xAMZDocument) with its amounts by ARTran class."""

    amazon_order_id: str
    doc_type: str           # IN or CM
    event_key: str          # ORDER / a ShipperID for an invoice; CANCEL or Amazon's adjustment id for a memo
    ref_nbr: str
    ord_nbr: str
    amount: Decimal = Decimal(0)                                  # the document's total (xAMZDocument.Amount)
    lines: dict[str, Decimal] = field(default_factory=dict)     # LineRef -> amount of its 'N' rows
    freight: Decimal = Decimal(0)
    misc: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)

    @property
    def goods_and_freight(self) -> Decimal:
        return sum(self.lines.values(), Decimal(0)) + self.freight


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    batch: list[str] = []
    for oid in dict.fromkeys(ids):
        batch.append(oid)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _dec(value) -> Decimal:
    # SL's FLOAT columns: through str, then to the cent, so 24.1 reads as 24.10 and not 24.1000000000000014...
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def bindings_for(rows: Rows, amazon_order_ids: Iterable[str]) -> dict[str, OrderBinding]:
    """xAMZOrder rows of these orders, by Amazon order id (orders SL does not know are absent)."""
    out: dict[str, OrderBinding] = {}
    for batch in _chunks(amazon_order_ids):
        marks = ", ".join("?" for _ in batch)
        for row in rows.all(f'SELECT {_ORDER_COLS} FROM "xAMZOrder" WHERE "AmazonOrderId" IN ({marks})', batch):
            b = OrderBinding(*[v.strip() if isinstance(v, str) else v for v in row])
            out[b.amazon_order_id] = b
    return out


def documents_for(rows: Rows, amazon_order_ids: Iterable[str]) -> dict[str, list[ARDocument]]:
    """Our AR documents (xAMZDocument) of these orders with their ARTran amounts, by Amazon order id."""
    out: dict[str, list[ARDocument]] = {}
    for batch in _chunks(amazon_order_ids):
        marks = ", ".join("?" for _ in batch)
        found = rows.all(
            'SELECT d."AmazonOrderId", d."DocType", d."EventKey", d."RefNbr", d."OrdNbr", d."Amount", t."TranClass", '
            't."LineRef", t."TranAmt" FROM "xAMZDocument" d LEFT JOIN "ARTran" t ON t."CpnyID" = d."CpnyID" '
            'AND t."TranType" = d."DocType" AND t."RefNbr" = d."RefNbr" AND t."DrCr" <> ? '
            f'WHERE d."AmazonOrderId" IN ({marks}) ORDER BY d."AmazonOrderId", d."DocType", d."RefNbr"',
            ["U", *batch])
        _collect(found, out)
        _sl_documents(rows, batch, out)
    return out


def _sl_documents(rows: Rows, batch: list[str], out: dict[str, list[ARDocument]]) -> None:
    """SL's own AR documents of these orders (ARDoc.OrdNbr = the bound order; not one of ours in xAMZDocument):
    a merchant-fulfilled order is invoiced by SL's Sales Journal from its confirmed shipper, and a person may write
    a credit memo in SL's screens. Their amounts are their ARTran rows (any TranClass; the 'U' application line
    excluded); the key is SL's RefNbr."""
    marks = ", ".join("?" for _ in batch)
    found = rows.all(
        'SELECT b."AmazonOrderId", d."DocType", d."RefNbr", d."OrdNbr", d."OrigDocAmt", t."TranClass", t."LineRef", '
        't."TranAmt" FROM "xAMZOrder" b JOIN "ARDoc" d ON d."CpnyID" = b."CpnyID" AND d."OrdNbr" = b."OrdNbr" '
        'AND d."DocType" IN (\'IN\', \'CM\') LEFT JOIN "ARTran" t ON t."CustId" = d."CustId" '
        'AND t."TranType" = d."DocType" AND t."RefNbr" = d."RefNbr" AND t."DrCr" <> ? '
        f'WHERE b."AmazonOrderId" IN ({marks}) AND b."OrdNbr" <> \'\' AND NOT EXISTS (SELECT 1 FROM "xAMZDocument" x '
        'WHERE x."CpnyID" = d."CpnyID" AND x."DocType" = d."DocType" AND x."RefNbr" = d."RefNbr") '
        'ORDER BY b."AmazonOrderId", d."DocType", d."RefNbr"', ["U", *batch])
    _collect([(oid, doc_type, f"SL:{ref.strip()}", ref, *rest) for oid, doc_type, ref, *rest in found], out)


def _collect(found: list[tuple], out: dict[str, list[ARDocument]]) -> None:
    """Rows of (AmazonOrderId, DocType, EventKey, RefNbr, OrdNbr, amount, TranClass, LineRef, TranAmt), one per
    ARTran (or one with TranClass NULL for a document without lines), into one ARDocument per document."""
    docs: dict[tuple, ARDocument] = {}
    for oid, doc_type, key, ref, ord_nbr, amount, tran_class, line_ref, tran_amt in found:
        k = (oid.strip(), doc_type.strip(), key.strip())
        doc = docs.get(k)
        if doc is None:
            doc = docs[k] = ARDocument(k[0], k[1], k[2], ref.strip(), ord_nbr.strip(), _dec(amount))
            out.setdefault(k[0], []).append(doc)
        if tran_class is not None:
            _add(doc, tran_class, line_ref, tran_amt)


def _add(doc: ARDocument, tran_class, line_ref, tran_amt) -> None:
    value, cls = _dec(tran_amt), (tran_class or "").strip()
    if cls == "N":
        ref = (line_ref or "").strip()
        doc.lines[ref] = doc.lines.get(ref, Decimal(0)) + value
    elif cls == "F":
        doc.freight += value
    elif cls == "T":
        doc.tax += value
    else:
        doc.misc += value


def last_reconciliations(rows: Rows) -> dict[str, str]:
    """Per settlement id, the last reconciliation recorded (``reconciled`` or ``unreconciled``)."""
    found = rows.all('SELECT "EntityKey", "Action" FROM "xAMZEvent" WHERE "Entity" = ? AND "Action" IN (?, ?) '
                     'ORDER BY "EventId"', ["settlement", RECONCILED, UNRECONCILED])
    return {key.strip(): action.strip() for key, action in found}
