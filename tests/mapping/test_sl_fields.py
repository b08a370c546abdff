"""Mapping.sl_order_fields: the SOHeader values an Amazon order becomes, within SL's column widths."""

from __future__ import annotations

from datetime import date

import pytest

from integration.amazon.order_shape import order_from_amazon
from integration.errors import NeedsReview
from integration.mapping import load_mapping
from integration.mapping.schema import INVENTORY, SOHEADER
from tests.mapping.builders import an_address, an_amazon_order


@pytest.fixture(scope="module")
def mapping():
    return load_mapping("")


def fields_for(mapping, **kw):
    return mapping.sl_order_fields(order_from_amazon(an_amazon_order(**kw)))


def test_a_standard_order_fills_the_header(mapping):
    values = fields_for(mapping, po_number="PO-77", programs=["PRIME"], service_level="SECOND_DAY")
    assert values["CustID"] == "AMZUS" and values["ShipViaID"] == "FEDEX2D"
    assert values["CustOrdNbr"] == "113-1234567-1234567"  # the Amazon order id, per the product design
    assert values["User1"] == "PO-77"  # the buyer's PO number has its own field
    assert (values["User2"], values["User3"]) == ("ATVPDKIKX0DER", "AMAZON")
    assert (values["User7"], values["User8"]) == ("Y", "N")
    assert values["User9"] == date(2026, 3, 1)
    assert (values["ShipCity"], values["ShipState"], values["ShipCountry"]) == ("Seattle", "WA", "US")
    assert values["note"] == ""


def test_every_value_fits_its_sl_column(mapping):
    long_address = an_address(name="A very long recipient name " * 4, addressLine3="Building C, Loading dock 7",
                              city="Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch")
    values = fields_for(mapping, address=long_address, promotion_ids=["SPRING-SALE-2026", "FREE-SHIP-OVER-25"],
                        gift_message="Happy birthday!", po_number="PO " + "9" * 40)
    for column, value in values.items():
        if column != "note" and SOHEADER[column].kind == "char":
            assert len(value) <= SOHEADER[column].width, column
    note = values["note"]
    assert "Happy birthday!" in note and "FREE-SHIP-OVER-25" in note and "Llanfairpwll" in note
    assert "9" * 40 in note
    assert values["User4"] == "SPRING-SALE-2026"  # whole promotion ids only


def test_an_amazon_order_id_too_long_for_custordnbr_is_held(mapping):
    with pytest.raises(NeedsReview) as caught:
        fields_for(mapping, order_id="113-1234567-1234567-EXTRA-LONG")
    assert caught.value.reason == "field_too_long" and caught.value.fields == ("amazon_order_id",)


def test_a_pending_order_without_address_has_no_ship_to_block(mapping):
    payload = an_amazon_order(status="PENDING")
    del payload["recipient"]
    values = mapping.sl_order_fields(order_from_amazon(payload))
    assert "ShipAddr1" not in values and values["CustOrdNbr"]


# SL's types and widths of the columns an order and a listing map to, written here from the team's SL notes (SL 2015
# DDL): SOHeader's ship-to block and the order-management user fields; Inventory's finance-layout user fields.
SL_SOHEADER = {"CustID": ("char", 15), "CustOrdNbr": ("char", 25), "ShipName": ("char", 60), "ShipAttn": ("char", 30),
               "ShipAddr1": ("char", 60), "ShipAddr2": ("char", 60), "ShipCity": ("char", 30), "ShipState": ("char", 3),
               "ShipZip": ("char", 10), "ShipCountry": ("char", 3), "ShipPhone": ("char", 30),
               "ShipViaID": ("char", 15), "User1": ("char", 30), "User2": ("char", 30), "User3": ("char", 30),
               "User4": ("char", 30), "User5": ("float", 0), "User6": ("float", 0), "User7": ("char", 10),
               "User8": ("char", 10), "User9": ("date", 0), "User10": ("date", 0)}
SL_INVENTORY = {"InvtID": ("char", 30), "Descr": ("char", 60), "ClassID": ("char", 6), "StkUnit": ("char", 6),
                "UPCCode": ("char", 30), "StkBasePrc": ("float", 0), "StkWt": ("float", 0), "User1": ("char", 30),
                "User2": ("char", 30), "User3": ("float", 0), "User4": ("float", 0), "User5": ("char", 10),
                "User6": ("char", 10), "User7": ("date", 0), "User8": ("date", 0)}


def test_the_mapping_column_table_has_sls_types_and_widths():
    for expected, columns in ((SL_SOHEADER, SOHEADER), (SL_INVENTORY, INVENTORY)):
        ours = {name: (column.kind, column.width) for name, column in columns.items()}
        assert {name: ours.get(name) for name in expected} == expected
        assert set(ours) == set(expected), sorted(set(ours) ^ set(expected))
