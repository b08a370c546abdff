"""Small builders for settlement rows and files made from simulator orders (the refunds and reconciliation tests)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from integration.settlements.model import SettlementHeader, SettlementRow

POSTED = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
_line = itertools.count(3)
COLUMNS = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
           "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
           "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
           "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
           "promotion-id"]


def a_header(settlement_id: str = "12345678901", total: Decimal = Decimal(0)) -> SettlementHeader:
    return SettlementHeader(settlement_id, datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC),
                            datetime(2026, 11, 26, tzinfo=UTC), total, "USD", "v2")


def _parts(item: dict) -> dict[str, Decimal]:
    """An Amazon order item's money from its proceeds breakdowns: ITEM, SHIPPING, item tax, shipping tax."""
    out = {"ITEM": Decimal(0), "SHIPPING": Decimal(0), "TAX_ITEM": Decimal(0), "TAX_SHIPPING": Decimal(0)}
    for b in item["proceeds"]["breakdowns"]:
        if b["type"] in ("ITEM", "SHIPPING"):
            out[b["type"]] = Decimal(b["subtotal"]["amount"])
        for d in b.get("detailedBreakdowns") or []:
            out[f"TAX_{d['subtype']}"] = Decimal(d["value"]["amount"])
    return out


def _row(kind, order_id, item_id, amount_type, desc, amount, adjustment_id="", sku="") -> SettlementRow:
    return SettlementRow(next(_line), kind, amount_type, desc, Decimal(amount), "USD", POSTED, order_id=order_id,
                         adjustment_id=adjustment_id, marketplace_name="Amazon.com", order_item_code=item_id, sku=sku)


def order_rows(order: dict, *, principal_delta: Decimal = Decimal(0)) -> list[SettlementRow]:
    """The Order rows a settlement has for a simulator order shipped whole (Amazon's fees included)."""
    rows = []
    for item in order["orderItems"]:
        p, iid, oid = _parts(item), item["orderItemId"], order["orderId"]
        tax = p["TAX_ITEM"] + p["TAX_SHIPPING"]
        rows += [_row("Order", oid, iid, "ItemPrice", "Principal", p["ITEM"] + principal_delta),
                 _row("Order", oid, iid, "ItemPrice", "Shipping", p["SHIPPING"]),
                 _row("Order", oid, iid, "ItemPrice", "Tax", p["TAX_ITEM"]),
                 _row("Order", oid, iid, "ItemPrice", "ShippingTax", p["TAX_SHIPPING"]),
                 _row("Order", oid, iid, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax),
                 _row("Order", oid, iid, "ItemFees", "Commission", -(p["ITEM"] * Decimal("0.15")).quantize(
                     Decimal("0.01")))]
    return rows


def refund_rows(order: dict, item_index: int, adjustment_id: str, *, shipping: bool = True) -> list[SettlementRow]:
    """The Refund rows of a whole refund of one item (merchandise, optionally shipping, the facilitator tax)."""
    item = order["orderItems"][item_index]
    p, iid, oid = _parts(item), item["orderItemId"], order["orderId"]
    tax = p["TAX_ITEM"] + (p["TAX_SHIPPING"] if shipping else 0)
    rows = [_row("Refund", oid, iid, "ItemPrice", "Principal", -p["ITEM"], adjustment_id),
            _row("Refund", oid, iid, "ItemPrice", "Tax", -p["TAX_ITEM"], adjustment_id)]
    if shipping:
        rows += [_row("Refund", oid, iid, "ItemPrice", "Shipping", -p["SHIPPING"], adjustment_id),
                 _row("Refund", oid, iid, "ItemPrice", "ShippingTax", -p["TAX_SHIPPING"], adjustment_id)]
    rows += [_row("Refund", oid, iid, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", tax, adjustment_id),
             _row("Refund", oid, iid, "ItemFees", "Commission", (p["ITEM"] * Decimal("0.15")).quantize(
                 Decimal("0.01")), adjustment_id),
             _row("Refund", oid, iid, "ItemFees", "RefundCommission", -(p["ITEM"] * Decimal("0.03")).quantize(
                 Decimal("0.01")), adjustment_id)]
    return rows


def refund_parts(order: dict, item_index: int) -> dict[str, Decimal]:
    return _parts(order["orderItems"][item_index])


def write_v2(path, settlement_id: str, rows: list[SettlementRow]) -> str:
    """A V2 flat file (tab-separated, summary row first) holding ``rows``; the total is their sum."""
    total = sum((r.amount for r in rows), Decimal(0))
    out = ["\t".join(COLUMNS),
           "\t".join([settlement_id, "2026-11-10 00:00:00 UTC", "2026-11-24 00:00:00 UTC", "2026-11-26 00:00:00 UTC",
                      str(total), "USD"] + [""] * 18)]
    for r in rows:
        cells = {"settlement-id": settlement_id, "transaction-type": r.transaction_type, "order-id": r.order_id,
                 "adjustment-id": r.adjustment_id, "marketplace-name": r.marketplace_name,
                 "amount-type": r.amount_type, "amount-description": r.amount_description, "amount": str(r.amount),
                 "fulfillment-id": "MFN", "posted-date": "11/20/26", "posted-date-time": "2026-11-20 15:30:00 UTC",
                 "order-item-code": r.order_item_code, "sku": r.sku}
        out.append("\t".join(cells.get(c, "") for c in COLUMNS))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return str(path)
