"""Settlement reports (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2) from the simulated orders, every 14 days.

24 tab-separated columns [reference sp-api.md §7.2], a summary row, then one row per amount component; Order,
Refund, Chargeback Refund, other-transaction and ServiceFee rows with amount-type / amount-description pairs seen in
real files (§7.5): sales, FBA fulfilment fees, long-term and monthly storage, advertising, a chargeback, the reserve
(the previous period's released, this period's held). total-amount is the sum of every amount; a period without sales
is negative (the seller owes Amazon). One settlement per marketplace and period, each with its own settlement id
(its report id is another number, as at Amazon). ``locale="de_DE"`` writes comma decimals and DD.MM.YYYY dates.

``v1_file`` writes the retired V1 flat file (36 columns, or the 33 of some marketplaces) from the same rows, for
the import command's tests (``slsync settlements import`` reads old archives).
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


def settlement_id(state, index: int, marketplace: str) -> str:
    """Amazon's settlement id: one per marketplace and period (the report that carries it has another id)."""
    from integration.sandbox.amazon.state import MARKETPLACES

    position = list(MARKETPLACES).index(marketplace) if marketplace in MARKETPLACES else 9
    return str(11800000000 + state.seed * 1000 + index * 10 + position)


def report_id_for(settlement_id: str) -> str:
    """The getReports id of a settlement's report: a different number, as at Amazon (never assume they match)."""
    return str(int(settlement_id) + 7_300_000_000)


def _chargeback(rows: list[tuple]) -> list[tuple]:
    """A buyer's card chargeback against the period's first sale that was not refunded: the principal taken back,
    the commission returned."""
    refunded = {r[1]["id"] for r in rows if r[0] == "Refund"}
    sale = next((r for r in rows if r[0] == "Order" and r[5:7] == ("ItemPrice", "Principal")
                 and r[1]["id"] not in refunded), None)
    if sale is None:
        return []
    _, order, item, posted, qty, _, _, principal, _ = sale
    at = posted + timedelta(days=2)
    return [("Chargeback Refund", order, item, at, qty, "ItemPrice", "Principal", -principal, None),
            ("Chargeback Refund", order, item, at, qty, "ItemFees", "Commission",
             (principal * Decimal("0.15")).quantize(CENT), None)]


def settlement_rows(state, index: int, begin: datetime, end: datetime, marketplace: str,
                    previous_reserve: Decimal = Decimal(0)) -> tuple[list[tuple], Decimal]:
    """(rows, the reserve held at the end of this period) for one marketplace and period."""
    rows = []
    for order in sorted(state.orders.values(), key=lambda o: o["created"]):
        if order["marketplace"] == marketplace:
            rows.extend(_order_rows(order, begin, end))
    if index % 2 == 1:
        rows.extend(_chargeback(rows))
    mid = begin + PERIOD / 2
    rows.append(("other-transaction", None, None, mid, 0, "other-transaction", "StorageRenewalBilling",
                 -Decimal("12.40") - index, None))
    rows.append(("other-transaction", None, None, mid, 0, "other-transaction", "Storage Fee",
                 -(Decimal("8.75") + Decimal(index % 5)), None))
    rows.append(("other-transaction", None, None, mid, 0, "other-transaction", "Shipping label purchase",
                 -Decimal("23.15"), None))
    rows.append(("ServiceFee", None, None, end - timedelta(days=1), 0, "Cost of Advertising", "TransactionTotalAmount",
                 -Decimal("57.30"), None))
    rows.append(("other-transaction", None, None, begin + timedelta(hours=1), 0, "other-transaction",
                 "Subscription Fee", -Decimal("39.99"), None))
    # Amazon holds back part of the period's sales until deliveries are safe and releases it in the next one
    sales = sum((r[7] for r in rows if r[0] == "Order" and r[5] == "ItemPrice"), Decimal(0))
    reserve = (sales * Decimal("0.10")).quantize(CENT, ROUND_HALF_UP)
    if previous_reserve:
        rows.append(("other-transaction", None, None, begin, 0, "other-transaction", "Previous Reserve Amount Balance",
                     previous_reserve, None))
    if reserve:
        rows.append(("other-transaction", None, None, end - timedelta(seconds=1), 0, "other-transaction",
                     "Current Reserve Amount", -reserve, None))
    return rows, reserve


def build(state, index: int, begin: datetime, end: datetime, marketplace: str, locale: str = "en_US",
          previous_reserve: Decimal = Decimal(0)) -> tuple[str, str, Decimal]:
    """(settlement id, file text, reserve held) for one period."""
    from integration.sandbox.amazon.state import MARKETPLACES

    info = MARKETPLACES.get(marketplace, MARKETPLACES["ATVPDKIKX0DER"])
    currency = info["defaultCurrencyCode"]
    sid = settlement_id(state, index, marketplace)
    rows, reserve = settlement_rows(state, index, begin, end, marketplace, previous_reserve)
    total = sum((r[7] for r in rows), Decimal(0))
    out = ["\t".join(COLUMNS)]
    deposit = end + timedelta(days=2)
    summary = [sid, _fmt_date(begin, locale), _fmt_date(end, locale), _fmt_date(deposit, locale),
               _fmt_amount(total, locale), currency] + [""] * 18
    out.append("\t".join(summary))
    for kind, order, item, posted, qty, atype, adesc, amount, promo in rows:
        line = [sid, "", "", "", "", "", kind,
                order["id"] if order else "", order["seller_order_id"] if order else "", _adjustment(kind, order, item),
                "", info["name"] if order or kind == "ServiceFee" else "",
                atype, adesc, _fmt_amount(amount, locale), ("AFN" if order["channel"] == "AFN" else "MFN") if order else "",
                posted.strftime("%d.%m.%Y") if locale == "de_DE" else posted.strftime("%m/%d/%y"),
                _fmt_date(posted, locale), item["id"] if item else "", "", "", item["sku"] if item else "",
                str(qty) if qty else "", promo or ""]
        out.append("\t".join(line))
    return sid, "\n".join(out) + "\n", reserve


def _adjustment(kind: str, order: dict | None, item: dict | None) -> str:
    """Amazon's adjustment id on a refund or chargeback row (one per order item here)."""
    if kind in ("Refund", "Chargeback Refund") and order and item:
        return f"amzn1.adj.{order['id'].replace('-', '')}{item['id'][-4:]}{'C' if kind != 'Refund' else ''}"
    return ""


# -- the retired V1 flat file, for imports of old archives ---------------------------------------------------
V1_COLUMNS = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount",
              "currency", "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id",
              "marketplace-name", "shipment-fee-type", "shipment-fee-amount", "order-fee-type", "order-fee-amount",
              "fulfillment-id", "posted-date", "order-item-code", "merchant-order-item-id",
              "merchant-adjustment-item-id", "sku", "quantity-purchased", "price-type", "price-amount",
              "item-related-fee-type", "item-related-fee-amount", "misc-fee-amount", "other-fee-amount",
              "other-fee-reason-description", "promotion-id", "promotion-type", "promotion-amount",
              "direct-payment-type", "direct-payment-amount", "other-amount"]   # 36 [sp-api.md §7.2, R-tdff]
V1_33_COLUMNS = V1_COLUMNS[:33]   # the shorter variant some marketplaces sent: no direct-payment / other-amount


def _v1_amount_columns(atype: str, adesc: str, amount: str) -> dict:
    """Where a V2 (amount-type, amount-description, amount) sat in V1 (the reverse of Amazon's V1 -> V2 map)."""
    if atype == "ItemPrice":
        return {"price-type": adesc, "price-amount": amount}
    if atype in ("ItemFees", "ItemWithheldTax"):
        return {"item-related-fee-type": adesc, "item-related-fee-amount": amount}
    if atype == "Promotion":
        return {"promotion-type": adesc, "promotion-amount": amount}
    return {"other-fee-reason-description": adesc, "other-fee-amount": amount}


def v1_file(*, settlement_id: str, start: datetime, end: datetime, rows: list[tuple[str, str, str, str]],
            currency: str = "USD", columns: int = 36, order_id: str = "112-8095165-5463447",
            marketplace: str = "Amazon.com") -> tuple[str, Decimal]:
    """A V1 flat file (``columns`` 36 or 33) and its total: ``rows`` are (transaction-type, amount-type,
    amount-description, amount), each on its own line as in Amazon's V1 files; the summary row's total is their
    sum. Order and Refund rows name ``order_id``; dates are ISO 8601 with offset, as V1 wrote them."""
    if columns not in (36, 33):
        raise ValueError("a V1 flat file has 36 or 33 columns")
    names = V1_COLUMNS if columns == 36 else V1_33_COLUMNS
    total = sum((Decimal(r[3]) for r in rows), Decimal(0))
    iso = "%Y-%m-%dT%H:%M:%S+00:00"
    out = ["\t".join(names)]
    summary = {"settlement-id": settlement_id, "settlement-start-date": start.strftime(iso),
               "settlement-end-date": end.strftime(iso), "deposit-date": (end + timedelta(days=2)).strftime(iso),
               "total-amount": str(total), "currency": currency}
    out.append("\t".join(summary.get(n, "") for n in names))
    for n, (kind, atype, adesc, amount) in enumerate(rows):
        ordered = kind in ("Order", "Refund", "Chargeback Refund")
        values = {"settlement-id": settlement_id, "transaction-type": kind,
                  "order-id": order_id if ordered else "", "merchant-order-id": order_id if ordered else "",
                  "adjustment-id": f"amzn1.adj.{n:06d}" if kind == "Refund" else "",
                  "marketplace-name": marketplace if ordered else "", "fulfillment-id": "AFN" if ordered else "",
                  "posted-date": (start + timedelta(hours=1 + n)).strftime(iso),
                  "order-item-code": "62538071274626" if ordered else "", "sku": "edifier-p270-gold" if ordered else "",
                  **_v1_amount_columns(atype, adesc, amount)}
        out.append("\t".join(values.get(c, "") for c in names))
    return "\n".join(out) + "\n", total
