"""The canonical model: Money is Decimal, schemas validate at the boundary and name every bad field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from integration.amazon.order_shape import order_from_amazon
from integration.canonical import (
    Money,
    MoneySchema,
    ShipmentSchema,
    currency_places,
    dump_order,
    load_order,
)
from integration.errors import NeedsReview
from tests.mapping.builders import an_amazon_order


def test_money_refuses_floats_everywhere():
    with pytest.raises(TypeError):
        Money(0.1, "USD")
    with pytest.raises(ValidationError):
        MoneySchema().load({"amount": 0.1, "currency": "USD"})


def test_money_accepts_strings_and_ints_as_exact_decimals():
    assert Money("0.10", "USD").amount == Decimal("0.10")
    assert MoneySchema().load({"amount": "19.99", "currency": "USD"}) == Money(Decimal("19.99"), "USD")
    assert MoneySchema().dump(Money(Decimal("19.99"), "USD")) == {"amount": "19.99", "currency": "USD"}


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("1.005", "USD", "1.01"), ("2.675", "EUR", "2.68"), ("1499.5", "JPY", "1500"), ("1.0005", "KWD", "1.001"),
    ("-0.125", "GBP", "-0.13"),
])
def test_money_rounds_half_up_to_the_currency_places(amount, currency, expected):
    assert Money(amount, currency).rounded().amount == Decimal(expected)


def test_currency_places_knows_yen_has_none():
    assert (currency_places("JPY"), currency_places("usd"), currency_places("KWD")) == (0, 2, 3)


def test_adding_money_in_two_currencies_is_an_error():
    with pytest.raises(ValueError):
        Money("1", "USD") + Money("1", "EUR")


def test_an_order_round_trips_through_its_schema():
    order = order_from_amazon(an_amazon_order(lines=2, promotion_ids=["P1"]))
    assert load_order(dump_order(order)) == order


def test_load_order_names_every_missing_or_invalid_field():
    data = dump_order(order_from_amazon(an_amazon_order(lines=1)))
    del data["amazon_order_id"]
    data["fulfillment_channel"] = "FBA"
    data["lines"][0]["unit_price"]["amount"] = 1.5
    data["purchase_date"] = "2026-03-01T10:00:00"  # naive: refused
    with pytest.raises(NeedsReview) as caught:
        load_order(data)
    assert caught.value.reason == "missing_field"
    assert set(caught.value.fields) == {"amazon_order_id", "fulfillment_channel", "lines.0.unit_price.amount",
                                        "purchase_date"}


def test_an_order_without_lines_is_refused():
    data = dump_order(order_from_amazon(an_amazon_order(lines=1)))
    data["lines"] = []
    with pytest.raises(NeedsReview) as caught:
        load_order(data)
    assert "lines" in caught.value.fields


def test_a_shipment_loads_with_its_packages():
    shipment = ShipmentSchema().load({
        "cpny_id": "AMZDEMO", "shipper_id": "S000123", "amazon_order_id": "113-1234567-1234567",
        "carrier_code": "UPS", "carrier_name": "UPS", "shipping_method": "UPS Ground",
        "ship_date": "2026-03-02T15:00:00+00:00",
        "packages": [{"package_ref": "1", "tracking_number": "1Z999",
                      "lines": [{"amazon_order_item_id": "12345678901231", "quantity": 2}]}],
    })
    assert shipment.packages[0].lines[0].quantity == 2 and isinstance(shipment.packages, tuple)
