"""Small builders for Orders API v2026-01-01 payloads, shaped exactly like the official model.

``test_order_shape.py`` validates their output against ``orders_2026-01-01.json`` so they stay faithful.
"""

from __future__ import annotations

from decimal import Decimal

MARKETPLACES = {
    "ATVPDKIKX0DER": ("Amazon.com", "USD", "US"),
    "A2EUQ1WTGCTBG2": ("Amazon.ca", "CAD", "CA"),
    "A1AM78C64UM0Y8": ("Amazon.com.mx", "MXN", "MX"),
    "A1PA6795UKMFR9": ("Amazon.de", "EUR", "DE"),
    "A1F83G8C2ARO7P": ("Amazon.co.uk", "GBP", "GB"),
    "A1VC38T7YXB528": ("Amazon.co.jp", "JPY", "JP"),
}


def money(amount, currency="USD") -> dict:
    return {"amount": str(amount), "currencyCode": currency}


def an_address(country="US", **overrides) -> dict:
    address = {
        "name": "Jane Doe",
        "addressLine1": "123 Any Street",
        "addressLine2": "Suite 4",
        "city": "Seattle",
        "stateOrRegion": "WA",
        "postalCode": "98101",
        "countryCode": country,
        "phone": "+1 206 555 0100",
        "addressType": "RESIDENTIAL",
    }
    address.update(overrides)
    return {k: v for k, v in address.items() if v is not None}


def an_item(n=1, *, qty=1, price="19.99", currency="USD", tax="1.60", shipping="4.99", discount=None,
            promotion_ids=(), gift_message=None, shipped=0) -> dict:
    unit = Decimal(price)
    breakdowns = [
        {"type": "ITEM", "subtotal": money(unit * qty, currency)},
        {"type": "SHIPPING", "subtotal": money(shipping, currency)},
        {"type": "TAX", "subtotal": money(tax, currency), "detailedBreakdowns": [
            {"subtype": "ITEM", "value": money(tax, currency)},
            {"subtype": "SHIPPING", "value": money("0.00", currency)},
        ]},
    ]
    if discount is not None:
        breakdowns.append({"type": "DISCOUNT", "subtotal": money(f"-{discount}", currency)})
    item = {
        "orderItemId": f"{12345678901230 + n:014d}",
        "quantityOrdered": qty,
        "product": {
            "asin": f"B0TEST{n:04d}",
            "title": f"Test widget {n}",
            "sellerSku": f"SKU-{n:03d}",
            "condition": {"conditionType": "NEW"},
            "price": {"unitPrice": money(price, currency)},
        },
        "proceeds": {"proceedsTotal": money(unit * qty + Decimal(shipping) + Decimal(tax), currency),
                     "breakdowns": breakdowns},
        "fulfillment": {"quantityFulfilled": shipped, "quantityUnfulfilled": qty - shipped},
    }
    if promotion_ids:
        item["promotion"] = {"breakdowns": [{"promotionId": p} for p in promotion_ids]}
    if gift_message is not None:
        item["fulfillment"]["packing"] = {"giftOption": {"giftMessage": gift_message, "giftWrapLevel": "STANDARD"}}
    return item


def an_amazon_order(lines=2, status="UNSHIPPED", channel="MFN", *, order_id="113-1234567-1234567",
                    marketplace="ATVPDKIKX0DER", service_level="STANDARD", programs=(), po_number=None,
                    address=None, items=None, **item_kw) -> dict:
    """A v2026 ``Order`` with ``lines`` items; channel MFN/AFN maps to fulfilledBy MERCHANT/AMAZON."""
    name, currency, country = MARKETPLACES[marketplace]
    items = items if items is not None else [an_item(n + 1, currency=currency, **item_kw) for n in range(lines)]
    priced = [i for i in items if "proceeds" in i]  # pending orders carry no prices (sp-api.md §4.1)
    total = sum((Decimal(i["proceeds"]["proceedsTotal"]["amount"]) for i in priced), Decimal(0))
    order = {
        "orderId": order_id,
        "createdTime": "2026-03-01T10:00:00Z",
        "lastUpdatedTime": "2026-03-01T10:05:00Z",
        "programs": list(programs),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace, "marketplaceName": name},
        "buyer": {"buyerName": "Jane Doe"},
        "recipient": {"deliveryAddress": address if address is not None else an_address(country)},
        "proceeds": {"grandTotal": money(total, currency), "breakdowns": [
            {"type": "ITEM", "subtotal": money(sum(Decimal(i["product"]["price"]["unitPrice"]["amount"])
                                                   * i["quantityOrdered"] for i in priced), currency)}]},
        "fulfillment": {
            "fulfillmentStatus": status,
            "fulfilledBy": {"MFN": "MERCHANT", "AFN": "AMAZON"}.get(channel, channel),
            "fulfillmentServiceLevel": service_level,
        },
        "orderItems": items,
    }
    if not priced:
        del order["proceeds"]
    if po_number is not None:
        order["buyer"]["buyerPurchaseOrderNumber"] = po_number
    return order
