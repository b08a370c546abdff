"""Reconcile a settlement with SL: its orders with sales orders and invoices, its refunds with credit memos.

Streaming: the rows are read once, summed per order id as they come (a few numbers per order: a settlement has at
most tens of thousands), then SL is asked about all those orders in a few chunked queries.

- An ``Order`` is matched through its xAMZOrder binding to the SL order and its invoices: ours (xAMZDocument IN) and
  SL's own (the Sales Journal's, ARDoc.OrdNbr = the order).
  Amounts: what the buyer paid for the order in this settlement, the ItemPrice and Promotion rows (principal,
  shipping, tax, gift wrap ... less promotions), against the invoices' total (sales lines, freight, misc charges
  and tax). Both sides include tax: where Amazon's prices include VAT the principal carries it and SL holds it in
  its tax line, so only the gross totals compare everywhere. Amazon's fees are not the buyer's and are left out.
- A ``Refund`` (order id, adjustment id) is matched to its credit memo (xAMZDocument CM keyed by the adjustment id);
  the memo's merchandise and freight against the refund's (see ``refunds``: the memo carries no tax).

Statuses: ``ok``; ``history`` (bound as history before go-live: no SL document by design); ``missing_in_sl`` (no
binding); ``invoice_missing``; ``credit_memo_missing``; ``amount_difference`` (to the cent). The settlement is
reconciled when every line is ``ok`` or ``history``.

An order shipped across two settlements is invoiced per shipment (one invoice per shipper) or whole: where the
settlement holds part of an order invoiced whole, the difference shows, for a person to look at.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from integration.settlements.model import SettlementHeader, SettlementRow
from integration.settlements.refunds import refunds
from integration.sl.models import Event

OK_STATUSES = ("ok", "history")
COLUMNS = ("kind", "order_id", "adjustment_id", "ord_nbr", "ref_nbr", "amazon_amount", "sl_amount", "difference",
           "status", "note")
CENT = Decimal("0.01")
ZERO = Decimal(0)
BUYER_AMOUNT_TYPES = ("ItemPrice", "Promotion")


@dataclass
class Line:
    kind: str                  # order | refund
    order_id: str
    adjustment_id: str = ""
    ord_nbr: str = ""
    ref_nbr: str = ""          # the invoice(s) or the credit memo
    amazon_amount: Decimal = ZERO
    sl_amount: Decimal | None = None
    status: str = "ok"
    note: str = ""

    @property
    def difference(self) -> Decimal | None:
        return None if self.sl_amount is None else (self.amazon_amount - self.sl_amount).quantize(CENT)

    def as_row(self) -> dict[str, str]:
        values = {**self.__dict__, "difference": self.difference}
        return {c: "" if values[c] is None else str(values[c]) for c in COLUMNS}


@dataclass
class Reconciliation:
    settlement_id: str
    currency: str
    lines: list[Line] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(x.status in OK_STATUSES for x in self.lines)

    @property
    def problems(self) -> list[Line]:
        return [x for x in self.lines if x.status not in OK_STATUSES]

    def counts(self) -> dict[str, int]:
        return dict(Counter(x.status for x in self.lines))

    def rows(self) -> list[dict[str, str]]:
        """One dict per line (``COLUMNS``), for a table or a CSV."""
        return [x.as_row() for x in self.lines]

    def as_dict(self) -> dict:
        return {"settlement_id": self.settlement_id, "currency": self.currency, "ok": self.ok,
                "counts": self.counts(), "orders": sum(1 for x in self.lines if x.kind == "order"),
                "refunds": sum(1 for x in self.lines if x.kind == "refund"),
                "missing_in_sl": [x.order_id for x in self.lines if x.status == "missing_in_sl"],
                "refunds_without_credit_memo": [f"{x.order_id}:{x.adjustment_id}" for x in self.lines
                                                if x.status == "credit_memo_missing"],
                "problems": [x.as_row() for x in self.problems]}

    def write_csv(self, path: str) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows())


def _order_amounts(rows: Iterable[SettlementRow], refund_rows: list[SettlementRow]) -> dict[str, Decimal]:
    """Per order id, the buyer's money in the Order rows; Refund rows are kept aside for ``refunds``."""
    paid: dict[str, Decimal] = {}
    for row in rows:
        kind = row.transaction_type.strip()
        if kind == "Refund":
            refund_rows.append(row)
        elif kind == "Order" and row.order_id.strip():
            oid = row.order_id.strip()
            amount = row.amount if row.amount_type.strip() in BUYER_AMOUNT_TYPES else ZERO
            paid[oid] = paid.get(oid, ZERO) + amount
    return paid


def reconcile(ctx, header: SettlementHeader, rows_factory: Callable[[], Iterable[SettlementRow]]) -> Reconciliation:
    """Match the settlement's orders and refunds with SL (read-only; see the module's docstring)."""
    refund_rows: list[SettlementRow] = []   # refunds are few next to orders; kept so the file is read once
    paid = _order_amounts(rows_factory(), refund_rows)
    found = refunds(refund_rows)
    ids = list(dict.fromkeys([*paid, *(r.order_id for r in found)]))
    bindings = ctx.sl.order_bindings_for(ids) if ids else {}
    documents = ctx.sl.ar_documents_for(ids) if ids else {}
    out = Reconciliation(header.settlement_id, header.currency)
    for oid, amount in paid.items():
        out.lines.append(_order_line(oid, amount.quantize(CENT), bindings.get(oid), documents.get(oid, [])))
    for refund in found:
        out.lines.append(_refund_line(refund, bindings.get(refund.order_id), documents.get(refund.order_id, [])))
    return out


def _order_line(oid: str, amount: Decimal, binding, docs) -> Line:
    line = Line("order", oid, amazon_amount=amount)
    if binding is None:
        line.status, line.note = "missing_in_sl", "no SL sales order for this Amazon order"
        return line
    line.ord_nbr = binding.ord_nbr
    if binding.sl_status == "HISTORY":
        line.status, line.note = "history", "bound as history before go-live: no SL document"
        return line
    invoices = [d for d in docs if d.doc_type == "IN"]
    if not invoices:
        line.status, line.note = "invoice_missing", f"SL order {binding.ord_nbr} ({binding.sl_status}) has no invoice"
        return line
    line.ref_nbr = " ".join(d.ref_nbr for d in invoices)
    line.sl_amount = sum((d.goods_and_freight + d.misc + d.tax for d in invoices), ZERO)
    if line.difference:
        line.status, line.note = "amount_difference", "Amazon's order amount differs from the invoices' total"
    return line


def _refund_line(refund, binding, docs) -> Line:
    line = Line("refund", refund.order_id, refund.adjustment_id, amazon_amount=refund.credit.quantize(CENT))
    line.ord_nbr = binding.ord_nbr if binding is not None else ""
    memo = next((d for d in docs if d.doc_type == "CM" and d.event_key == refund.adjustment_id), None)
    if memo is None:
        line.status = "credit_memo_missing"
        line.note = "no credit memo for this refund" + ("" if binding is not None else " (order not in SL)")
        return line
    line.ref_nbr, line.sl_amount = memo.ref_nbr, memo.goods_and_freight
    if line.difference:
        line.status, line.note = "amount_difference", "the refund's merchandise and shipping differ from the memo's"
    return line


def record(sl, result: Reconciliation, task_id: str = "") -> None:
    """Keep the outcome in the event trail (``slsync status`` counts settlements whose last one was not OK)."""
    from integration.sl.reconciliation import RECONCILED, UNRECONCILED

    sl.record_event(Event("settlement", result.settlement_id, RECONCILED if result.ok else UNRECONCILED, task_id,
                          {"counts": result.counts(), "problems": len(result.problems)}))
