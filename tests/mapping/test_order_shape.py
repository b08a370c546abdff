"""order_from_amazon: v2026-01-01 Order JSON -> canonical Order, and the builders' fidelity to the model."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from integration.amazon.order_shape import order_from_amazon, payload_hash
from integration.config import DEFAULT_MODELS_DIR
from integration.errors import NeedsReview
from tests.mapping.builders import an_address, an_amazon_order, an_item

MODEL = DEFAULT_MODELS_DIR / "orders_2026-01-01.json"  # Amazon's, shipped inside the package


@pytest.fixture(scope="module")
def model():
    return json.loads(MODEL.read_text(encoding="utf-8"))


def _validator(model, definition):
    import jsonschema

    # Swagger 2 definitions are JSON-schema draft 4 plus $refs into #/definitions: validate in place.
    schema = {**model["definitions"][definition], "definitions": model["definitions"]}
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("kwargs", [
    {}, {"lines": 1, "status": "SHIPPED", "channel": "AFN"}, {"marketplace": "A1PA6795UKMFR9", "lines": 3},
    {"promotion_ids": ["P1"], "gift_message": "Happy birthday", "discount": "2.00", "po_number": "PO-1",
     "programs": ["PRIME", "AMAZON_BUSINESS"]},
])
def test_builder_output_is_valid_against_the_official_order_schema(model, kwargs):
    errors = sorted(_validator(model, "Order").iter_errors(an_amazon_order(**kwargs)), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_official_model_example_translates(model):
    example = model["paths"]["/orders/2026-01-01/orders/{orderId}"]["get"]["responses"]["200"]["examples"]
    order = order_from_amazon(example["application/json"])
    assert order.amazon_order_id == "202-1234567-8901234"
    assert (order.status, order.fulfillment_channel, order.is_prime) == ("SHIPPED", "MFN", True)
    assert order.order_total.amount == Decimal("103.97") and order.order_total.currency == "GBP"
    line = order.lines[0]
    assert (line.item_tax.amount, line.shipping_tax.amount) == (Decimal("3.00"), Decimal("1.00"))
    assert order.ship_to.company == "Wilson Electronics Ltd" and order.ship_to.lines == ("123 High Street", "Unit 4B")


def test_builder_order_translates_every_field():
    payload = an_amazon_order(lines=2, promotion_ids=["SPRING"], gift_message="Enjoy", discount="1.50",
                              po_number="PO-77", programs=["AMAZON_BUSINESS"], service_level="SECOND_DAY")
    order = order_from_amazon(payload)
    assert order.marketplace_id == "ATVPDKIKX0DER" and order.sales_channel == "AMAZON"
    assert order.purchase_date.tzinfo is not None and order.last_updated > order.purchase_date
    assert order.is_business_order and not order.is_prime and order.purchase_order_number == "PO-77"
    assert order.is_gift and order.gift_message == "Enjoy"
    assert order.shipping_service_level == "SECOND_DAY"
    assert [ln.seller_sku for ln in order.lines] == ["SKU-001", "SKU-002"]
    assert order.lines[0].promotion_discount.amount == Decimal("1.50")  # a saving, kept positive
    assert order.promotion_ids == ("SPRING",)
    assert all(isinstance(m.amount, Decimal) for ln in order.lines
               for m in (ln.unit_price, ln.item_price, ln.item_tax, ln.shipping_price))


def test_a_get_order_response_wrapper_is_accepted():
    assert order_from_amazon({"order": an_amazon_order()}).amazon_order_id == "113-1234567-1234567"


def test_numbers_as_strings_and_explicit_nulls_are_tolerated():
    payload = an_amazon_order(lines=1)
    item = payload["orderItems"][0]
    item["quantityOrdered"] = "2"
    item["fulfillment"]["quantityFulfilled"] = "1"
    item["promotion"] = None
    payload["buyer"] = None
    payload["programs"] = None
    payload["recipient"]["deliveryAddress"]["addressLine2"] = None
    payload["recipient"]["deliveryAddress"]["phone"] = None
    order = order_from_amazon(payload)
    assert (order.lines[0].quantity_ordered, order.lines[0].quantity_shipped) == (2, 1)
    assert order.buyer_name is None and order.ship_to.lines == ("123 Any Street",) and order.ship_to.phone is None


def test_amounts_sent_as_json_numbers_keep_their_printed_digits():
    payload = an_amazon_order(lines=1)
    payload["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] = 0.1
    assert order_from_amazon(payload).lines[0].unit_price.amount == Decimal("0.1")


def test_missing_required_fields_are_all_named_in_one_review():
    payload = an_amazon_order(lines=2)
    del payload["orderId"]
    del payload["salesChannel"]["marketplaceId"]
    del payload["orderItems"][1]["product"]["sellerSku"]
    payload["orderItems"][0]["quantityOrdered"] = "lots"
    payload["recipient"]["deliveryAddress"]["countryCode"] = None
    with pytest.raises(NeedsReview) as caught:
        order_from_amazon(payload)
    assert caught.value.reason == "missing_field"
    assert set(caught.value.fields) == {
        "orderId", "salesChannel.marketplaceId", "orderItems.1.product.sellerSku",
        "orderItems.0.quantityOrdered", "recipient.deliveryAddress.countryCode",
    }


def test_an_unshipped_order_needs_its_address_and_prices():
    payload = an_amazon_order(lines=1)
    del payload["recipient"]
    del payload["orderItems"][0]["product"]["price"]
    with pytest.raises(NeedsReview) as caught:
        order_from_amazon(payload)
    assert set(caught.value.fields) == {"recipient.deliveryAddress", "orderItems.0.product.price.unitPrice"}


def test_a_pending_order_without_address_or_prices_still_translates():
    payload = an_amazon_order(lines=1, status="PENDING", items=[{"orderItemId": "1", "quantityOrdered": 1,
                                                                 "product": {"sellerSku": "SKU-1"}}])
    del payload["recipient"]
    order = order_from_amazon(payload)
    assert order.ship_to is None and order.status == "PENDING"
    assert order.lines[0].unit_price.amount == 0 and order.order_total.currency == "USD"


def test_an_unknown_fulfilled_by_value_is_a_review():
    payload = an_amazon_order()
    payload["fulfillment"]["fulfilledBy"] = "SOMEONE_ELSE"
    with pytest.raises(NeedsReview) as caught:
        order_from_amazon(payload)
    assert "fulfillment.fulfilledBy" in caught.value.fields


def test_a_naive_timestamp_is_a_review():
    payload = an_amazon_order()
    payload["lastUpdatedTime"] = "2026-03-01T10:05:00"
    with pytest.raises(NeedsReview) as caught:
        order_from_amazon(payload)
    assert caught.value.fields == ("lastUpdatedTime",)


def test_not_a_json_object_is_a_review():
    with pytest.raises(NeedsReview):
        order_from_amazon(["not", "an", "order"])


def test_payload_hash_ignores_key_order_but_not_content():
    payload = an_amazon_order()
    reordered = json.loads(json.dumps(payload, sort_keys=True))
    changed = copy.deepcopy(payload)
    changed["lastUpdatedTime"] = "2026-03-01T10:06:00Z"
    assert payload_hash(payload) == payload_hash(reordered) != payload_hash(changed)
    assert order_from_amazon(payload).payload_hash == payload_hash(payload)


def test_gift_messages_from_several_items_are_kept_once_each():
    items = [an_item(1, gift_message="For you"), an_item(2, gift_message="For you"), an_item(3, gift_message="Hi")]
    order = order_from_amazon(an_amazon_order(items=items))
    assert order.gift_message == "For you\nHi"


def test_a_pickup_point_address_keeps_its_type():
    order = order_from_amazon(an_amazon_order(address=an_address(addressType="PICKUP_POINT")))
    assert order.ship_to.address_type == "PICKUP_POINT"
