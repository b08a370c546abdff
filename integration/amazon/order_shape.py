"""Orders API v2026-01-01 ``Order`` JSON -> canonical ``Order``.

Field names follow the official model (``sp-api-models/orders_2026-01-01.json``: Order, OrderItem,
CustomerAddress, ItemProceeds, Money ...). Payloads seen in the wild are looser than the model
(reference README note 9-11): booleans and numbers as strings, amounts as strings or numbers,
explicit nulls for absent parts. Those are accepted; what is really missing is collected and raised
once as ``NeedsReview("missing_field", fields=[paths])`` so the hold names every gap.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

from integration.amazon import roles
from integration.canonical import Address, Money, Order, OrderLine, currency_places
from integration.errors import NeedsReview

CHANNELS = {"MERCHANT": "MFN", "AMAZON": "AFN", "MFN": "MFN", "AFN": "AFN"}
# Amazon withholds the address until an order can ship (model: Recipient; sp-api.md §4.1 getOrderAddress).
NO_ADDRESS_YET = {"PENDING", "PENDING_AVAILABILITY", "CANCELLED"}
# Pricing is absent while an order is pending (sp-api.md §4.1: "does not return information about pricing").
NO_PRICES_YET = {"PENDING", "PENDING_AVAILABILITY", "CANCELLED"}


def payload_hash(payload: dict) -> str:
    """A stable sha256 of the source JSON (key order and whitespace do not change it)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Reader:
    """Walks the payload by dotted path, tolerating nulls and string scalars, recording what is missing."""

    def __init__(self):
        self.missing: list[str] = []

    @staticmethod
    def get(obj, path: str):
        for key in path.split("."):
            if not isinstance(obj, dict):
                return None
            obj = obj.get(key)
        return obj

    def text(self, obj, path: str, where: str = "", *, required=False) -> str:
        value = self.get(obj, path)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.missing.append(where + path)
            return ""
        return str(value).strip()

    def integer(self, obj, path: str, where: str = "", *, required=False, default=0) -> int:
        value = self.get(obj, path)
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(Decimal(str(value).strip())) if value not in (None, "") else self._absent(where + path, required, default)
        except (ValueError, InvalidOperation):
            self.missing.append(where + path)
            return default

    def _absent(self, path, required, default):
        if required:
            self.missing.append(path)
        return default

    def money(self, obj, path: str, where: str = "", *, required=False) -> Money | None:
        value = self.get(obj, path)
        if value is None:
            if required:
                self.missing.append(where + path)
            return None
        try:
            amount, currency = value.get("amount"), value.get("currencyCode")
            if amount is None or not currency:
                raise ValueError
            # str() first: a JSON number parsed as float keeps its printed digits, not its binary error
            return Money(Decimal(str(amount).strip()), str(currency).strip().upper())
        except (AttributeError, ValueError, InvalidOperation):
            self.missing.append(where + path)
            return None

    def timestamp(self, obj, path: str) -> datetime | None:
        raw = self.text(obj, path, required=True)
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            self.missing.append(path)
            return None
        if value.tzinfo is None:
            self.missing.append(path)  # a naive time cannot be ordered against lastUpdatedTime safely
        return value


def _list(value) -> list:
    return value if isinstance(value, list) else []


# ItemProceedsBreakdown types and the canonical field each lands in; TAX and DISCOUNT are split by their
# detailedBreakdowns subtypes (orders_2026-01-01.json: ItemProceedsBreakdown, ItemProceedsDetailedBreakdown).
_CHARGES = {"ITEM": "item_price", "SHIPPING": "shipping_price", "GIFT_WRAP": "gift_wrap_price", "COD_FEE": "cod_fee",
            "OTHER": "other_charge"}
_TAX_PARTS = {"ITEM": "item_tax", "SHIPPING": "shipping_tax", "GIFT_WRAP": "gift_wrap_tax", "COD_FEE": "cod_fee_tax",
              "OTHER": "other_tax", "DISCOUNT": "discount_tax"}


def _proceeds(proceeds, r: _Reader, where: str) -> dict[str, Money]:
    """The item's proceeds by canonical field. A TAX or DISCOUNT without details is all on the item (merchandise);
    details that do not add up to their subtotal leave the difference on the item too, so nothing is dropped. The
    tax on a discount (TAX subtype DISCOUNT, negative) lowers the tax of what was discounted: item and shipping in
    the proportion the DISCOUNT's own details give (an EU free-shipping promotion takes its VAT off the shipping's)."""
    out: dict[str, Money] = {}

    def add(name: str, money: Money) -> None:
        out[name] = out[name] + money if name in out else money

    for n, entry in enumerate(_list(r.get(proceeds, "breakdowns"))):
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type", "")).upper()
        subtotal = r.money(entry, "subtotal", f"{where}proceeds.breakdowns.{n}.")
        if subtotal is None:
            continue
        if kind in _CHARGES:
            add(_CHARGES[kind], subtotal)
            continue
        if kind not in ("TAX", "DISCOUNT"):
            add("other_charge", subtotal)   # a type this version does not know is still money the buyer paid
            continue
        if kind == "TAX":
            add("tax_total", subtotal)
        rest = subtotal
        for d in _list(entry.get("detailedBreakdowns")):
            value = r.money(d, "value") if isinstance(d, dict) else None
            if value is None:
                continue
            sub = str(d.get("subtype", "")).upper()
            name = _TAX_PARTS.get(sub, "other_tax") if kind == "TAX" else (
                "shipping_discount" if sub == "SHIPPING" else "promotion_discount")
            add(name, value)
            rest = Money(rest.amount - value.amount, rest.currency)
        if rest.amount:
            add("item_tax" if kind == "TAX" else "promotion_discount", rest)
    if "discount_tax" in out:
        tax = out.pop("discount_tax")
        on_item = abs(out["promotion_discount"].amount) if "promotion_discount" in out else Decimal(0)
        on_ship = abs(out["shipping_discount"].amount) if "shipping_discount" in out else Decimal(0)
        ship_part = (tax.amount * on_ship / (on_item + on_ship)).quantize(
            Decimal(1).scaleb(-currency_places(tax.currency))) if on_ship else Decimal(0)
        if ship_part:
            add("shipping_tax", Money(ship_part, tax.currency))
        if tax.amount - ship_part:
            add("item_tax", Money(tax.amount - ship_part, tax.currency))
    parts = [out[k] for k in ("gift_wrap_tax", "cod_fee_tax", "other_tax") if k in out]
    if parts:
        out["misc_tax"] = sum(parts[1:], parts[0])
    for name in ("promotion_discount", "shipping_discount"):   # Amazon sends discounts negative; kept positive
        if name in out:
            out[name] = Money(abs(out[name].amount), out[name].currency)
    return out


def _line(item: dict, index: int, currency: str, priced: bool, r: _Reader) -> OrderLine:
    where = f"orderItems.{index}."
    zero = Money.zero(currency)
    qty = r.integer(item, "quantityOrdered", where, required=True)
    unit = r.money(item, "product.price.unitPrice", where, required=priced) or zero
    parts = _proceeds(r.get(item, "proceeds"), r, where)
    promos = [r.text(p, "promotionId") for p in _list(r.get(item, "promotion.breakdowns"))]
    return OrderLine(
        amazon_order_item_id=r.text(item, "orderItemId", where, required=True),
        seller_sku=r.text(item, "product.sellerSku", where, required=True),
        asin=r.text(item, "product.asin", where),
        title=r.text(item, "product.title", where),
        quantity_ordered=qty,
        quantity_shipped=r.integer(item, "fulfillment.quantityFulfilled", where),
        unit_price=unit,
        item_price=parts.get("item_price") or Money(unit.amount * qty, unit.currency),
        item_tax=parts.get("item_tax") or zero,
        shipping_price=parts.get("shipping_price") or zero,
        shipping_tax=parts.get("shipping_tax") or zero,
        promotion_discount=parts.get("promotion_discount") or zero,
        promotion_ids=tuple(p for p in promos if p),
        shipping_discount=parts.get("shipping_discount"),
        gift_wrap_price=parts.get("gift_wrap_price"),
        cod_fee=parts.get("cod_fee"),
        other_charge=parts.get("other_charge"),
        misc_tax=parts.get("misc_tax"),
        gift_wrap_tax=parts.get("gift_wrap_tax"),
        cod_fee_tax=parts.get("cod_fee_tax"),
        other_tax=parts.get("other_tax"),
        tax_total=parts.get("tax_total"),
    )


def _window_end(order: dict, path: str, r: _Reader) -> datetime | None:
    raw = r.text(order, path)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None   # a promise we cannot read is not a reason to hold the order: dates fall back to the order date
    return value if value.tzinfo is not None else None


def _order_charges(order: dict, r: _Reader) -> tuple[tuple[str, Money], ...]:
    """Order-level proceeds that no item carries (DELIVERY_TIP: "charged separately and not attributed to a
    specific item", OrderProceedsBreakdown)."""
    out = []
    for entry in _list(r.get(order, "proceeds.breakdowns")):
        if isinstance(entry, dict) and str(entry.get("type", "")).upper() == "DELIVERY_TIP":
            money = r.money(entry, "subtotal")
            if money is not None and money.amount:
                out.append(("DELIVERY_TIP", money))
    return tuple(out)


def _address(order: dict, r: _Reader, required: bool) -> Address | None:
    addr = r.get(order, "recipient.deliveryAddress")
    if not isinstance(addr, dict):
        if required:
            r.missing.append("recipient.deliveryAddress")
        return None
    where = "recipient.deliveryAddress."
    lines = [r.text(addr, k) for k in ("addressLine1", "addressLine2", "addressLine3")]
    return Address(
        name=r.text(addr, "name", where),
        company=r.text(addr, "companyName", where),
        lines=tuple(x for x in lines if x),
        city=r.text(addr, "city", where, required=True),
        state_or_region=r.text(addr, "stateOrRegion", where),
        postal_code=r.text(addr, "postalCode", where),
        country_code=r.text(addr, "countryCode", where, required=True).upper(),
        phone=r.text(addr, "phone", where) or None,
        address_type=r.text(addr, "addressType", where),
    )


# Pending orders carry no Money at all; their marketplace's currency stands in until prices arrive.
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
    "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR", "A1RKKUPIHCS9HS": "EUR",
    "A1805IZSGTT6HS": "EUR", "AMEN7PMS3EDWL": "EUR", "A1F83G8C2ARO7P": "GBP", "A2NODRKZP88ZB9": "SEK",
    "A1C3SOZRARQ6R3": "PLN", "A33AVAJ2PDY3EV": "TRY", "A1VC38T7YXB528": "JPY", "A39IBJ37TRP1C6": "AUD",
    "A19VAU5U5O7RUS": "SGD", "A21TJRUUN4KGV": "INR", "A2VIGQ35RCS4UG": "AED",
}


def _currency(order: dict) -> str:
    """The order's currency: the first Money found anywhere in it (all Money in one order share it)."""
    stack = [order]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("currencyCode") and "amount" in node:
                return str(node["currencyCode"]).strip().upper()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    channel = order.get("salesChannel")
    return MARKETPLACE_CURRENCY.get(channel.get("marketplaceId", ""), "") if isinstance(channel, dict) else ""


def order_from_amazon(payload: dict) -> Order:
    """Translate one v2026-01-01 ``Order`` (with ``orderItems``) into a canonical ``Order``.

    Accepts the bare Order or a ``getOrder`` response (``{"order": {...}}``). Raises
    ``NeedsReview("missing_field", fields=[...])`` naming every missing or unreadable required path.
    """
    order = payload.get("order", payload) if isinstance(payload, dict) else None
    if not isinstance(order, dict):
        raise NeedsReview("missing_field", "order payload is not a JSON object", fields=["order"])
    r = _Reader()
    status = r.text(order, "fulfillment.fulfillmentStatus", required=True).upper()
    channel_raw = r.text(order, "fulfillment.fulfilledBy", required=True).upper()
    channel = CHANNELS.get(channel_raw, "")
    if channel_raw and not channel:
        r.missing.append("fulfillment.fulfilledBy")
    priced = status not in NO_PRICES_YET
    currency = _currency(order)
    if not currency:
        r.missing.append("proceeds.grandTotal.currencyCode")
    items = order.get("orderItems")
    if not isinstance(items, list) or not items:
        r.missing.append("orderItems")
        items = []
    lines = [_line(it if isinstance(it, dict) else {}, i, currency or "XXX", priced, r) for i, it in enumerate(items)]
    total = r.money(order, "proceeds.grandTotal", required=priced)
    if total is None:  # pending orders carry no proceeds; the lines' prices are the best estimate
        total = sum((ln.item_price for ln in lines[1:]), lines[0].item_price) if lines else Money.zero(currency or "XXX")
    gifts = [r.get(it, "fulfillment.packing.giftOption") for it in items if isinstance(it, dict)]
    gifts = [g for g in gifts if isinstance(g, dict)]
    messages = [str(g.get("giftMessage")).strip() for g in gifts if g.get("giftMessage")]
    programs = {str(p).strip().upper() for p in _list(order.get("programs"))}
    result = dict(
        amazon_order_id=r.text(order, "orderId", required=True),
        marketplace_id=r.text(order, "salesChannel.marketplaceId", required=True),
        sales_channel=r.text(order, "salesChannel.channelName", required=True),
        marketplace_name=r.text(order, "salesChannel.marketplaceName"),
        status=status,
        fulfillment_channel=channel,
        purchase_date=r.timestamp(order, "createdTime"),
        last_updated=r.timestamp(order, "lastUpdatedTime"),
        ship_to=_address(order, r, required=status not in NO_ADDRESS_YET),
        buyer_name=r.text(order, "buyer.buyerName") or None,
        purchase_order_number=r.text(order, "buyer.buyerPurchaseOrderNumber") or None,
        is_business_order="AMAZON_BUSINESS" in programs,
        is_prime="PRIME" in programs,
        is_gift=bool(gifts),
        gift_message="\n".join(dict.fromkeys(messages)) or None,
        shipping_service_level=r.text(order, "fulfillment.fulfillmentServiceLevel").upper(),
        ship_by=_window_end(order, "fulfillment.shipByWindow.latestDateTime", r),
        deliver_by=_window_end(order, "fulfillment.deliverByWindow.latestDateTime", r),
        order_charges=_order_charges(order, r),
        replaces=_replaces(order),
        lines=tuple(lines),
        order_total=total,
        payload_hash=payload_hash(order),
    )
    if r.missing:
        paths = list(dict.fromkeys(r.missing))
        oid = result["amazon_order_id"] or "?"
        raise NeedsReview("missing_field", f"Amazon order {oid} lacks {', '.join(paths)}", fields=paths)
    return Order(**result)


ORIGINAL_ORDER = ("REPLACEMENT_ORIGINAL_ID", "EXCHANGE_ORIGINAL_ID")   # AssociatedOrder.associationType


def _replaces(order: dict) -> str:
    """The Amazon order a replacement or exchange order stands in for (``associatedOrders``), else ''."""
    for assoc in _list(order.get("associatedOrders")):
        if isinstance(assoc, dict) and str(assoc.get("associationType") or "").upper() in ORIGINAL_ORDER:
            return str(assoc.get("orderId") or "").strip()
    return ""


def require_shippable(order: Order) -> None:
    """An order the seller ships (MFN) and that Amazon says can ship needs someone to deliver to and a street.

    Without the Direct-to-Consumer Delivery (Restricted) role Orders v2026-01-01 returns the delivery address with
    only its city, region, postal code and country, and no error (roles.RESTRICTED_FIELDS; sp-api.md §2.5): a sales
    order built from that could not be shipped. Raises ``NeedsReview("missing_field")`` naming the absent fields and
    the role (``details["role"]``), so the hold says what to grant. FBA orders (AFN) are shipped by Amazon and need
    no address in SL; pending and cancelled orders have none yet (NO_ADDRESS_YET).
    """
    if order.fulfillment_channel != "MFN" or order.status in NO_ADDRESS_YET:
        return
    addr = order.ship_to
    missing = []
    if addr is None or not (addr.name or addr.company):
        missing.append(roles.SHIPPABLE_NAME[0])
    if addr is None or not addr.lines:
        missing.append(roles.SHIPPABLE_STREET[0])
    if not missing:
        return
    role = roles.for_field(missing[0])
    raise NeedsReview("missing_field", f"Amazon order {order.amazon_order_id} came without {', '.join(missing)}: "
                      f"Amazon leaves them out when the application lacks the {role} role (the seller grants it "
                      f"in Seller Central; then release this hold)", fields=missing, details={"role": role})
