"""The canonical model: what every flow speaks between the Amazon shape and the SL shape (DESIGN §3).

Plain dataclasses, one marshmallow schema each. Money is ``Decimal`` with a currency and never a float:
the schemas refuse float input, and amounts are only rounded (``Money.rounded``) where they are written
into SL's FLOAT columns. ``load_order`` validates at the boundary and raises ``NeedsReview`` naming every
missing or invalid field, so a bad payload is held whole instead of half-written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate

from integration.errors import NeedsReview

# ISO 4217 minor units where they differ from 2; every other currency rounds to cents.
CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def currency_places(currency: str) -> int:
    """Decimal places of ``currency`` (JPY 0, KWD 3, most 2)."""
    return CURRENCY_PLACES.get(currency.upper(), 2)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, float):  # a float has already lost the cents; refuse it loudly
            raise TypeError("Money.amount must be Decimal (or str/int), never float")
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(str(self.amount)))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def rounded(self) -> Money:
        """This amount rounded half-up to the currency's places (what SL's FLOAT columns receive)."""
        quantum = Decimal(1).scaleb(-currency_places(self.currency))
        return Money(self.amount.quantize(quantum, rounding=ROUND_HALF_UP), self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)


@dataclass(frozen=True)
class Address:
    name: str
    lines: tuple[str, ...]
    city: str
    state_or_region: str
    postal_code: str
    country_code: str
    company: str = ""
    phone: str | None = None
    address_type: str = ""  # RESIDENTIAL, COMMERCIAL, PICKUP_POINT (v2026 CustomerAddress)


@dataclass(frozen=True)
class OrderLine:
    amazon_order_item_id: str
    seller_sku: str
    asin: str
    title: str
    quantity_ordered: int
    quantity_shipped: int
    unit_price: Money
    item_price: Money
    item_tax: Money
    shipping_price: Money
    shipping_tax: Money
    promotion_discount: Money  # a positive amount the buyer saved on the item (DISCOUNT, subtypes other than SHIPPING)
    promotion_ids: tuple[str, ...] = ()
    # Amazon's other proceeds of the item (v2026-01-01 ItemProceedsBreakdown types), None when absent:
    shipping_discount: Money | None = None   # a positive amount saved on shipping (DISCOUNT, subtype SHIPPING)
    gift_wrap_price: Money | None = None     # GIFT_WRAP
    cod_fee: Money | None = None             # COD_FEE (cash on delivery, JP)
    other_charge: Money | None = None        # OTHER
    misc_tax: Money | None = None            # TAX on GIFT_WRAP, COD_FEE and OTHER (the three below)
    gift_wrap_tax: Money | None = None
    cod_fee_tax: Money | None = None
    other_tax: Money | None = None
    tax_total: Money | None = None           # the TAX subtotal as Amazon sent it (item + shipping + misc parts)


@dataclass(frozen=True)
class Order:
    amazon_order_id: str
    marketplace_id: str
    sales_channel: str
    status: str  # Amazon's fulfillmentStatus string, e.g. UNSHIPPED
    fulfillment_channel: str  # MFN or AFN
    purchase_date: datetime
    last_updated: datetime
    ship_to: Address | None  # None only while Amazon withholds it (PENDING, CANCELLED before release)
    lines: tuple[OrderLine, ...]
    order_total: Money
    payload_hash: str
    buyer_name: str | None = None
    is_business_order: bool = False
    purchase_order_number: str | None = None
    is_prime: bool = False
    is_gift: bool = False
    gift_message: str | None = None
    shipping_service_level: str = ""
    marketplace_name: str = ""
    ship_by: datetime | None = None          # fulfillment.shipByWindow.latestDateTime
    deliver_by: datetime | None = None       # fulfillment.deliverByWindow.latestDateTime
    order_charges: tuple[tuple[str, Money], ...] = ()   # order-level proceeds not on an item (DELIVERY_TIP)
    replaces: str = ""       # associatedOrders: the order this one replaces or exchanges (REPLACEMENT/EXCHANGE_ORIGINAL_ID)

    @property
    def promotion_ids(self) -> tuple[str, ...]:
        """Every promotion id on the order's lines, first-seen order, no repeats."""
        return tuple(dict.fromkeys(p for line in self.lines for p in line.promotion_ids))


@dataclass(frozen=True)
class PackageLine:
    amazon_order_item_id: str
    quantity: int


@dataclass(frozen=True)
class Package:
    package_ref: str
    tracking_number: str
    lines: tuple[PackageLine, ...]


@dataclass(frozen=True)
class Shipment:
    cpny_id: str
    shipper_id: str
    amazon_order_id: str
    carrier_code: str
    carrier_name: str
    shipping_method: str
    ship_date: datetime
    packages: tuple[Package, ...]


@dataclass(frozen=True)
class StockLevel:
    sku: str
    quantity: int
    site_group: str = ""
    fulfillable: int | None = None
    reserved: int | None = None
    inbound: int | None = None


@dataclass(frozen=True)
class Listing:
    sku: str
    product_type: str
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SettlementLine:
    transaction_type: str
    amount_type: str
    amount_description: str
    amount: Money
    posted_date: date | None = None
    order_id: str = ""
    sku: str = ""
    quantity: int = 0


@dataclass(frozen=True)
class Settlement:
    settlement_id: str
    start: datetime
    end: datetime
    deposit_date: datetime | None
    total: Money
    lines: tuple[SettlementLine, ...] = ()


# ---------------------------------------------------------------- schemas


class DecimalNoFloat(fields.Decimal):
    """A Decimal field that refuses floats: 0.1 as a float is already wrong money."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ValidationError("amount must be a string or Decimal, not a float")
        return super()._deserialize(value, attr, data, **kwargs)


class _Base(Schema):
    """Builds the dataclass on load; tuples for lists so canonical objects stay immutable."""

    target: type = object

    @post_load
    def make(self, data, **kwargs):
        names = {f.name: f for f in dataclasses.fields(self.target)}
        data = {k: tuple(v) if isinstance(v, list) and k in names else v for k, v in data.items()}
        return self.target(**data)


def _text(required=True, **kw):
    return fields.String(required=required, validate=validate.Length(min=1) if required else None, **kw)


class MoneySchema(_Base):
    target = Money
    amount = DecimalNoFloat(required=True, as_string=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))


class AddressSchema(_Base):
    target = Address
    name = fields.String(required=True)
    lines = fields.List(fields.String(), validate=validate.Length(max=3), required=True)
    city = fields.String(required=True)
    state_or_region = fields.String(load_default="")
    postal_code = fields.String(load_default="")
    country_code = fields.String(required=True, validate=validate.Length(min=2, max=3))
    company = fields.String(load_default="")
    phone = fields.String(allow_none=True, load_default=None)
    address_type = fields.String(load_default="")


class OrderLineSchema(_Base):
    target = OrderLine
    amazon_order_item_id = _text()
    seller_sku = _text()
    asin = fields.String(load_default="")
    title = fields.String(load_default="")
    quantity_ordered = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    quantity_shipped = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0))
    unit_price = fields.Nested(MoneySchema, required=True)
    item_price = fields.Nested(MoneySchema, required=True)
    item_tax = fields.Nested(MoneySchema, required=True)
    shipping_price = fields.Nested(MoneySchema, required=True)
    shipping_tax = fields.Nested(MoneySchema, required=True)
    promotion_discount = fields.Nested(MoneySchema, required=True)
    promotion_ids = fields.List(fields.String(), load_default=list)
    shipping_discount = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    gift_wrap_price = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    cod_fee = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    other_charge = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    misc_tax = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    gift_wrap_tax = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    cod_fee_tax = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    other_tax = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    tax_total = fields.Nested(MoneySchema, allow_none=True, load_default=None)


class OrderSchema(_Base):
    target = Order
    amazon_order_id = _text()
    marketplace_id = _text()
    sales_channel = fields.String(load_default="")
    status = _text()
    fulfillment_channel = fields.String(required=True, validate=validate.OneOf(["MFN", "AFN"]))
    purchase_date = fields.AwareDateTime(required=True)
    last_updated = fields.AwareDateTime(required=True)
    ship_to = fields.Nested(AddressSchema, allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True, validate=validate.Length(min=1))
    order_total = fields.Nested(MoneySchema, required=True)
    payload_hash = _text()
    buyer_name = fields.String(allow_none=True, load_default=None)
    is_business_order = fields.Boolean(load_default=False)
    purchase_order_number = fields.String(allow_none=True, load_default=None)
    is_prime = fields.Boolean(load_default=False)
    is_gift = fields.Boolean(load_default=False)
    gift_message = fields.String(allow_none=True, load_default=None)
    shipping_service_level = fields.String(load_default="")
    marketplace_name = fields.String(load_default="")
    ship_by = fields.AwareDateTime(allow_none=True, load_default=None)
    deliver_by = fields.AwareDateTime(allow_none=True, load_default=None)
    order_charges = fields.List(fields.Tuple((fields.String(), fields.Nested(MoneySchema))), load_default=list)
    replaces = fields.String(load_default="")


class PackageLineSchema(_Base):
    target = PackageLine
    amazon_order_item_id = _text()
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class PackageSchema(_Base):
    target = Package
    package_ref = _text()
    tracking_number = _text()
    lines = fields.List(fields.Nested(PackageLineSchema), required=True, validate=validate.Length(min=1))


class ShipmentSchema(_Base):
    target = Shipment
    cpny_id = _text()
    shipper_id = _text()
    amazon_order_id = _text()
    carrier_code = _text()
    carrier_name = fields.String(load_default="")
    shipping_method = fields.String(load_default="")
    ship_date = fields.AwareDateTime(required=True)
    packages = fields.List(fields.Nested(PackageSchema), required=True, validate=validate.Length(min=1))


class StockLevelSchema(_Base):
    target = StockLevel
    sku = _text()
    quantity = fields.Integer(required=True, validate=validate.Range(min=0))
    site_group = fields.String(load_default="")
    fulfillable = fields.Integer(allow_none=True, load_default=None)
    reserved = fields.Integer(allow_none=True, load_default=None)
    inbound = fields.Integer(allow_none=True, load_default=None)


class ListingSchema(_Base):
    target = Listing
    sku = _text()
    product_type = _text()
    attributes = fields.Dict(load_default=dict)


class SettlementLineSchema(_Base):
    target = SettlementLine
    transaction_type = fields.String(required=True)
    amount_type = fields.String(load_default="")
    amount_description = fields.String(load_default="")
    amount = fields.Nested(MoneySchema, required=True)
    posted_date = fields.Date(allow_none=True, load_default=None)
    order_id = fields.String(load_default="")
    sku = fields.String(load_default="")
    quantity = fields.Integer(load_default=0)


class SettlementSchema(_Base):
    target = Settlement
    settlement_id = _text()
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    deposit_date = fields.AwareDateTime(allow_none=True, load_default=None)
    total = fields.Nested(MoneySchema, required=True)
    lines = fields.List(fields.Nested(SettlementLineSchema), load_default=list)


def error_paths(messages, prefix: str = "") -> list[str]:
    """Flatten marshmallow's nested error dict into dotted field paths (``lines.0.unit_price.amount``)."""
    if not isinstance(messages, dict):
        return [prefix] if prefix else []
    paths: list[str] = []
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        paths.extend(error_paths(value, path) if isinstance(value, dict) else [path])
    return paths


def load_order(data: dict) -> Order:
    """Validate a canonical order dict and build the ``Order``; NeedsReview names every bad field."""
    try:
        return OrderSchema().load(data)
    except ValidationError as exc:
        paths = error_paths(exc.messages)
        raise NeedsReview(
            "missing_field", f"order fails the canonical schema: {', '.join(paths)}", fields=paths,
            details={"errors": exc.messages},
        ) from None
    except (InvalidOperation, TypeError) as exc:
        raise NeedsReview("missing_field", f"order fails the canonical schema: {exc}") from None


def dump_order(order: Order) -> dict:
    """The order as JSON-safe plain values (amounts as strings, datetimes ISO 8601)."""
    return OrderSchema().dump(order)
