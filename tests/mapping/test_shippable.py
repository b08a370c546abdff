"""``require_shippable``: an MFN order that can ship needs a ship-to name and street; Amazon leaves both out without
the Direct-to-Consumer Delivery role (integration.amazon.roles), so the hold names the fields and the role."""

from __future__ import annotations

import pytest

from integration.amazon import roles
from integration.amazon.order_shape import order_from_amazon, require_shippable
from integration.errors import NeedsReview
from tests.mapping.builders import an_address, an_amazon_order

# What Orders v2026-01-01 keeps of a CustomerAddress without the role
WITHOUT_ROLE = an_address(name=None, addressLine1=None, addressLine2=None, phone=None, addressType=None)


def test_an_mfn_order_without_name_and_street_is_refused_naming_both_and_the_role():
    order = order_from_amazon(an_amazon_order(address=WITHOUT_ROLE))   # the shape itself is complete
    with pytest.raises(NeedsReview) as caught:
        require_shippable(order)
    exc = caught.value
    assert exc.reason == "missing_field" and exc.details == {"role": roles.DIRECT_TO_CONSUMER_DELIVERY}
    assert exc.fields == ("recipient.deliveryAddress.name", "recipient.deliveryAddress.addressLine1")
    assert roles.DIRECT_TO_CONSUMER_DELIVERY in exc.message and "113-1234567-1234567" in exc.message


@pytest.mark.parametrize("address, missing", [
    (an_address(name=None), ["recipient.deliveryAddress.name"]),
    (an_address(addressLine1=None, addressLine2=None), ["recipient.deliveryAddress.addressLine1"]),
])
def test_either_one_missing_is_enough(address, missing):
    with pytest.raises(NeedsReview) as caught:
        require_shippable(order_from_amazon(an_amazon_order(address=address)))
    assert list(caught.value.fields) == missing


@pytest.mark.parametrize("payload", [
    an_amazon_order(address=an_address()),                                          # everything there
    an_amazon_order(address=an_address(name=None, companyName="ACME Inc.")),       # a company to deliver to
    an_amazon_order(address=an_address(addressLine1=None, addressLine2="PO Box 7")),
    an_amazon_order(channel="AFN", address=WITHOUT_ROLE),                           # Amazon ships FBA orders
    an_amazon_order(status="CANCELLED", address=WITHOUT_ROLE),                      # nothing to ship
])
def test_what_can_ship_or_is_not_ours_to_ship_passes(payload):
    require_shippable(order_from_amazon(payload))
