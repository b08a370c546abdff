"""Refunds in a settlement become SL credit memos (issue 14, on the AR rules of issue 13).

A refund is the group of ``Refund`` rows with one (order-id, adjustment-id): Amazon's id for the refund, the
credit memo's key (xAMZDocument.EventKey), so a settlement read twice, or two settlements naming the same refund,
write one memo. Per order item (order-item-code = SOLine.User1) it carries what went back to the buyer, positive:

- ``goods``: ItemPrice/Principal less the reversed Promotion/Principal (the line's merchandise, as the order booked
  it after its promotions) -> the memo's amount for that SL line (``amounts`` by LineRef);
- ``shipping``: ItemPrice/Shipping less Promotion/Shipping -> the memo's freight;
- ``tax``: ItemPrice rows whose description names a tax (Tax, ShippingTax, GiftWrapTax ...), and ``withheld``:
  the ItemWithheldTax rows (MarketplaceFacilitatorTax-*, MarketplaceFacilitatorVAT-*), which Amazon takes back;
- ``other``: any other ItemPrice / Promotion amount (gift wrap, restocking fee, goodwill ...). ItemFees
  (commission refunded, RefundCommission) are the seller's fees: the GL batch books them, not AR.

Tax. A credit memo carries no tax line: ``ar.create_document`` writes tax lines only for a whole-order document,
and that is right for the marketplace facilitator tax. Under issue 10's rule the order's facilitator tax was booked
under the marketplace's tax id, whose sales-tax account is a clearing account: it is Amazon's to collect and remit,
never the seller's revenue. On a refund Amazon returns that tax to the buyer from its own remittance: the Refund's
Tax rows and its ItemWithheldTax rows cancel to zero in the file, and the settlement's GL batch carries both to
the same clearing account. So the memo credits the buyer's merchandise and shipping only, which is exactly the
money the refund takes from the payout. Tax the seller collected itself (a refunded tax that Amazon did not
withhold: ``tax_mode: seller``) lowers the seller's own tax liability; a partial memo cannot carry it, so it is held
(``refund_not_credited``) with the amount for a person to book, as is any ``other`` amount: nothing is lost.

Unmatched. A refund for an order SL does not know (no xAMZOrder binding, or history before go-live), for one not
invoiced yet, or naming an item that is not on the SL order, is held (entity ``settlement``, reason
``refund_unmatched``, key ``<settlement id>:<order id>:<adjustment id>``, so a settlement's holds list together)
with everything needed to redo it; applying the settlement again once the order is imported and invoiced writes the
memo and resolves the hold (and any other open hold of that refund).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.settlements.model import SettlementHeader, SettlementRow
from integration.sl.models import Event

REFUND = "Refund"
UNMATCHED, NOT_CREDITED = "refund_unmatched", "refund_not_credited"
EXCEEDS, REVERSAL, CHANGED = "refund_exceeds_invoice", "refund_reversal", "refund_changed"
CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass
class RefundItem:
    """What one order item gave back to the buyer (positive amounts)."""

    order_item_code: str
    sku: str = ""
    goods: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO
    withheld: Decimal = ZERO
    other: Decimal = ZERO
    fees: Decimal = ZERO          # fees Amazon returned to the seller (positive) or charged (negative): GL only


@dataclass
class Refund:
    order_id: str
    adjustment_id: str
    posted: datetime | None = None
    marketplace: str = ""
    items: dict[str, RefundItem] = field(default_factory=dict)
    line_nos: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The credit memo's event key: Amazon's adjustment id (a refund without one: see ``_adjustment_key``)."""
        return self.adjustment_id

    def total(self, part: str) -> Decimal:
        return sum((getattr(i, part) for i in self.items.values()), ZERO)

    @property
    def credit(self) -> Decimal:
        """What the credit memo is for: merchandise and shipping."""
        return self.total("goods") + self.total("shipping")

    @property
    def seller_tax(self) -> Decimal:
        """Refunded tax that Amazon did not withhold: the seller's own (0 for marketplace facilitator tax)."""
        return self.total("tax") - self.total("withheld")


def _adjustment_key(row: SettlementRow) -> str:
    # Amazon gives every refund an adjustment-id; a file without one (an edited export) still needs a stable key:
    # the refund's posted moment within its order.
    if row.adjustment_id.strip():
        return row.adjustment_id.strip()
    return "POSTED-" + (row.posted.astimezone(UTC).strftime("%Y%m%d%H%M%S") if row.posted else str(row.line_no))


def _add(item: RefundItem, row: SettlementRow) -> None:
    back = -row.amount                      # a refund's money to the buyer is negative in the file
    kind, desc = row.amount_type.strip(), row.amount_description.strip().lower()
    if kind == "ItemWithheldTax":
        item.withheld += row.amount         # Amazon takes back the facilitator tax it refunds: positive here
    elif kind == "ItemFees":
        item.fees += row.amount
    elif "tax" in desc and kind in ("ItemPrice", "Promotion"):
        item.tax += back
    elif kind in ("ItemPrice", "Promotion") and desc == "principal":
        item.goods += back
    elif kind in ("ItemPrice", "Promotion") and desc == "shipping":
        item.shipping += back
    else:
        item.other += back


def refunds(rows: Iterable[SettlementRow]) -> list[Refund]:
    """The settlement's refunds, one per (order id, adjustment id), in the order they first appear."""
    found: dict[tuple[str, str], Refund] = {}
    for row in rows:
        if row.transaction_type.strip() != REFUND or not row.order_id.strip():
            continue
        key = (row.order_id.strip(), _adjustment_key(row))
        refund = found.get(key)
        if refund is None:
            refund = found[key] = Refund(*key, posted=row.posted, marketplace=row.marketplace_name)
        code = row.order_item_code.strip()
        item = refund.items.get(code)
        if item is None:
            item = refund.items[code] = RefundItem(code, row.sku.strip())
        _add(item, row)
        refund.line_nos.append(row.line_no)
    return list(found.values())


@dataclass(frozen=True)
class RefundOutcome:
    order_id: str
    adjustment_id: str
    value: str                    # credited, unchanged (memo already there), held, nothing (no money to credit)
    ref_nbr: str = ""
    amount: Decimal = ZERO
    hold_id: int | None = None
    detail: str = ""


def _payload(header: SettlementHeader, refund: Refund) -> dict:
    return {"settlement_id": header.settlement_id, "order_id": refund.order_id,
            "adjustment_id": refund.adjustment_id, "lines": refund.line_nos[:50],
            "items": {c: {k: str(getattr(i, k)) for k in ("goods", "shipping", "tax", "withheld", "other")}
                      for c, i in refund.items.items()}}


def _hold(ctx, header, refund, reason: str, message: str) -> RefundOutcome:
    hold_id = ctx.sl.create_hold("settlement", f"{header.settlement_id}:{refund.order_id}:{refund.adjustment_id}",
                                 reason, message, _payload(header, refund))
    return RefundOutcome(refund.order_id, refund.adjustment_id, "held", hold_id=hold_id, detail=reason)


def _doc_day(refund: Refund, header: SettlementHeader) -> datetime:
    moment = refund.posted or header.end or header.deposit_date or datetime.now(UTC)
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def _beyond_invoice(amounts: dict[str, Decimal], freight: Decimal, documents) -> str:
    """What a credit memo of ``amounts`` (LineRef -> goods) and ``freight`` would credit beyond what the order's
    invoices hold less its earlier credit memos: per line and for freight where the invoices have their lines
    (ours, TranClass N/F), else for the whole; '' when it fits."""
    invoices = [d for d in documents if d.doc_type == "IN"]
    memos = [d for d in documents if d.doc_type == "CM"]

    def left(part) -> Decimal:
        return sum((part(d) for d in invoices), ZERO) - sum((part(d) for d in memos), ZERO)

    if invoices and all(d.lines for d in invoices):
        over = [f"line {ref}: {amt} of {left(lambda d, r=ref: d.lines.get(r, ZERO))}" for ref, amt in amounts.items()
                if amt - left(lambda d, r=ref: d.lines.get(r, ZERO)) >= CENT]
        if freight - left(lambda d: d.freight) >= CENT:
            over.append(f"shipping {freight} of {left(lambda d: d.freight)}")
        return "; ".join(over)
    total, room = sum(amounts.values(), ZERO) + max(freight, ZERO), left(lambda d: d.amount)
    return f"{total} of {room}" if invoices and total - room >= CENT else ""


def apply_refunds(ctx, header: SettlementHeader, rows_factory: Callable[[], Iterable[SettlementRow]],
                  *, only: set[tuple[str, str]] | None = None) -> list[RefundOutcome]:
    """A credit memo for each refund of the settlement whose order SL has invoiced (see the module's docstring);
    the others held. ``only``: just these (order id, adjustment id) pairs. Idempotent by adjustment id."""
    found = [r for r in refunds(rows_factory()) if only is None or (r.order_id, r.adjustment_id) in only]
    ids = [r.order_id for r in found]
    bindings = ctx.sl.order_bindings_for(ids) if ids else {}
    documents = ctx.sl.ar_documents_for(ids) if ids else {}
    open_holds: dict[tuple[str, str], list[int]] = {}
    if found:   # a refund's unmatched holds, from this settlement or another that named it
        for h in ctx.sl.list_holds(reason=UNMATCHED, entity="settlement"):
            oid, adj = (h.payload or {}).get("order_id"), (h.payload or {}).get("adjustment_id")
            open_holds.setdefault((oid, adj), []).append(h.hold_id)
    out = []
    for refund in found:
        outcome = _apply_one(ctx, header, refund, bindings.get(refund.order_id), documents.get(refund.order_id, []))
        if outcome.value in ("credited", "unchanged"):
            for hold_id in open_holds.get((refund.order_id, refund.adjustment_id), []):
                ctx.sl.set_hold_status(hold_id, "RESOLVED", f"credit memo {outcome.ref_nbr} written")
        out.append(outcome)
    return out


def _apply_one(ctx, header, refund: Refund, binding, documents) -> RefundOutcome:
    oid, adj = refund.order_id, refund.adjustment_id
    memo = next((d for d in documents if d.doc_type == "CM" and d.event_key == adj), None)
    reversed_parts = [c for c, i in refund.items.items() if i.goods < 0 or i.shipping < 0]
    if reversed_parts:   # money back to the seller under a refund's id: Amazon reversed (part of) a refund
        return _hold(ctx, header, refund, REVERSAL, f"refund {adj} of Amazon order {oid}: Amazon reversed refunded "
                                                    f"money on items {', '.join(reversed_parts)}; a credit memo "
                                                    f"cannot take it back: book it by hand")
    if memo is not None:
        wanted = (sum((max(i.goods, ZERO) for i in refund.items.values()), ZERO)
                  + max(refund.total("shipping"), ZERO)).quantize(CENT)
        if memo.amount.quantize(CENT) != wanted:
            return _hold(ctx, header, refund, CHANGED, f"refund {adj} of Amazon order {oid} is {wanted} in settlement "
                                                       f"{header.settlement_id}, its credit memo {memo.ref_nbr} is "
                                                       f"{memo.amount}: a person decides which is right")
        return RefundOutcome(oid, adj, "unchanged", memo.ref_nbr, memo.amount)
    if binding is None or not binding.ord_nbr.strip():
        why = "SL does not know the order" if binding is None else "the order is history before go-live in SL"
        return _hold(ctx, header, refund, UNMATCHED, f"refund {adj} of Amazon order {oid}: {why}; import it, then "
                                                     f"apply settlement {header.settlement_id}'s refunds again")
    invoiced = any(d.doc_type == "IN" for d in documents) or binding.invc_ref_nbr.strip()
    if not invoiced:
        return _hold(ctx, header, refund, UNMATCHED, f"refund {adj} of Amazon order {oid}: SL order "
                                                     f"{binding.ord_nbr} is not invoiced yet")
    lines = {(ln.get("User1") or "").strip(): ln["LineRef"] for ln in ctx.sl.sales_order(binding.ord_nbr)["lines"]}
    missing = [c for c, i in refund.items.items() if i.goods and c not in lines]
    if missing:
        return _hold(ctx, header, refund, UNMATCHED, f"refund {adj} of Amazon order {oid}: items {', '.join(missing)} "
                                                     f"are not lines of SL order {binding.ord_nbr}")
    amounts = {lines[c]: i.goods for c, i in refund.items.items() if i.goods > 0}
    freight = refund.total("shipping")
    over = _beyond_invoice(amounts, freight, documents)
    if over:
        return _hold(ctx, header, refund, EXCEEDS, f"refund {adj} of Amazon order {oid} credits more than SL invoiced "
                                                   f"and has not yet credited ({over}); nothing written")
    leftover = {"tax": refund.seller_tax, "other": refund.total("other")}
    ref, value = "", "nothing"
    if amounts or freight > 0:
        event = Event("order", oid, "refund_credited", ctx.task_id,
                      {"settlement_id": header.settlement_id, "adjustment_id": adj, "ord_nbr": binding.ord_nbr,
                       "amount": str(refund.credit)})
        try:
            ref = ctx.sl.create_credit_memo(binding.ord_nbr, event_key=adj, amounts=amounts,
                                            freight=max(freight, ZERO), doc_date=_doc_day(refund, header),
                                            event=event)
            value = "credited"
        except NeedsReview as exc:
            return _hold(ctx, header, refund, UNMATCHED, f"refund {adj} of Amazon order {oid}: {exc.message}")
    if any(leftover.values()):
        what = ", ".join(f"{k} {v}" for k, v in leftover.items() if v)
        held = _hold(ctx, header, refund, NOT_CREDITED,
                     f"refund {adj} of Amazon order {oid}: {what} refunded and not on a credit memo "
                     f"({ref or 'none written'}); book it by hand")
        return RefundOutcome(oid, adj, value if ref else "held", ref, refund.credit, held.hold_id, NOT_CREDITED)
    return RefundOutcome(oid, adj, value, ref, refund.credit if ref else ZERO)
