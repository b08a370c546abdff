"""Settlement reports (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2) from the simulated orders, every 14 days.

24 tab-separated columns [reference sp-api.md §7.2], a summary row, then one row per amount component; Order,
Refund, other-transaction and ServiceFee rows with amount-type / amount-description pairs seen in real files
(§7.5); total-amount is the sum of every amount. ``locale="de_DE"`` writes comma decimals and DD.MM.YYYY dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

COLUMNS = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
           "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
           "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
           "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
           "promotion-id"]
PERIOD = timedelta(days=14)
CENT = Decimal("0.01")


def periods(start: datetime, now: datetime):
    """(index, begin, end) of every settlement period that has closed by ``now``; anchored 42 days before start."""
    anchor = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=42)
    k = 0
    while anchor + PERIOD * (k + 1) + timedelta(hours=1) <= now:
        yield k, anchor + PERIOD * k, anchor + PERIOD * (k + 1)
        k += 1


def _fmt_amount(value: Decimal, locale: str) -> str:
    text = str(value.quantize(CENT, ROUND_HALF_UP))
    return text.replace(".", ",") if locale == "de_DE" else text


def _fmt_date(value: datetime, locale: str) -> str:
    value = value.astimezone(UTC)
    if locale == "de_DE":
        return value.strftime("%d.%m.%Y %H:%M:%S UTC")
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _order_rows(order: dict, begin: datetime, end: datetime) -> list[tuple]:
    """(transaction-type, order, item, amount-type, amount-description, amount, posted, qty, promotion)."""
    rows, items = [], {i["id"]: i for i in order["items"]}
    afn = order["channel"] == "AFN"
    for ship in order["shipments"]:
        if not begin <= ship["at"] < end:
            continue
        item, qty = items[ship["item"]], ship["quantity"]
        principal = item["unit"] * qty
        tax = (principal * item["tax_rate"]).quantize(CENT)
        base = ("Order", order, item, ship["at"], qty)
        rows.append((*base, "ItemPrice", "Principal", principal, None))
        rows.append((*base, "ItemPrice", "Tax", tax, None))
        rows.append((*base, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax, None))
        if item["ship_price"]:
            rows.append((*base, "ItemPrice", "Shipping", item["ship_price"], None))
        rows.append((*base, "ItemFees", "Commission", -(principal * Decimal("0.15")).quantize(CENT), None))
        if afn:
            rows.append((*base, "ItemFees", "FBAPerUnitFulfillmentFee", -Decimal("3.22") * qty, None))
        if item["promo"] and item["discount"]:
            rows.append((*base, "Promotion", "Principal", -item["discount"], item["promo"]))
    for refund in order["refunds"]:
        if begin <= refund["at"] < end:
            item = items[refund["item"]]
            principal = item["unit"] * item["shipped"]
            base = ("Refund", order, item, refund["at"], item["shipped"])
            rows.append((*base, "ItemPrice", "Principal", -principal, None))
            rows.append((*base, "ItemFees", "Commission", (principal * Decimal("0.15")).quantize(CENT), None))
            rows.append((*base, "ItemFees", "RefundCommission", -(principal * Decimal("0.03")).quantize(CENT), None))
    return rows


def build(state, index: int, begin: datetime, end: datetime, marketplace: str, locale: str = "en_US") -> tuple[str, str]:
    """(settlement id, file text) for one period."""
    from integration.sandbox.amazon.state import MARKETPLACES

    info = MARKETPLACES.get(marketplace, MARKETPLACES["ATVPDKIKX0DER"])
    currency = info["defaultCurrencyCode"]
    settlement_id = str(11800000000 + state.seed * 1000 + index)
    rows = []
    for order in sorted(state.orders.values(), key=lambda o: o["created"]):
        if order["marketplace"] == marketplace:
            rows.extend(_order_rows(order, begin, end))
    mid = begin + PERIOD / 2
    rows.append(("other-transaction", None, None, mid, 0, "other-transaction", "StorageRenewalBilling",
                 -Decimal("12.40") - index, None))
    rows.append(("other-transaction", None, None, mid, 0, "other-transaction", "Shipping label purchase",
                 -Decimal("23.15"), None))
    rows.append(("ServiceFee", None, None, end - timedelta(days=1), 0, "Cost of Advertising", "TransactionTotalAmount",
                 -Decimal("57.30"), None))
    rows.append(("other-transaction", None, None, begin + timedelta(hours=1), 0, "other-transaction",
                 "Subscription Fee", -Decimal("39.99"), None))
    total = sum((r[7] for r in rows), Decimal(0))
    out = ["\t".join(COLUMNS)]
    deposit = end + timedelta(days=2)
    summary = [settlement_id, _fmt_date(begin, locale), _fmt_date(end, locale), _fmt_date(deposit, locale),
               _fmt_amount(total, locale), currency] + [""] * 18
    out.append("\t".join(summary))
    for kind, order, item, posted, qty, atype, adesc, amount, promo in rows:
        line = [settlement_id, "", "", "", "", "", kind,
                order["id"] if order else "", order["seller_order_id"] if order else "", "",
                "", info["name"] if order or kind == "ServiceFee" else "",
                atype, adesc, _fmt_amount(amount, locale), ("AFN" if order["channel"] == "AFN" else "MFN") if order else "",
                posted.strftime("%d.%m.%Y") if locale == "de_DE" else posted.strftime("%m/%d/%y"),
                _fmt_date(posted, locale), item["id"] if item else "", "", "", item["sku"] if item else "",
                str(qty) if qty else "", promo or ""]
        out.append("\t".join(line))
    return settlement_id, "\n".join(out) + "\n"
