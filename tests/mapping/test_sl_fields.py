"""Mapping.sl_order_fields: the SOHeader values an Amazon order becomes, within SL's column widths."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from integration.amazon.order_shape import order_from_amazon
from integration.errors import NeedsReview
from integration.mapping import load_mapping
from integration.mapping.schema import INVENTORY, SOHEADER
from tests.mapping.builders import an_address, an_amazon_order

COLUMNS_TSV = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dynamics-sl-columns.tsv"


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


def test_the_column_table_matches_sl_where_the_reference_is_present():
    if not COLUMNS_TSV.is_file():
        pytest.skip(f"{COLUMNS_TSV} not found (../shared/reference is absent)")
    with COLUMNS_TSV.open(newline="") as fh:
        rows = {(r["table"], r["column"]): r["type"] for r in csv.DictReader(fh, delimiter="\t")}
    kinds = {"CHAR": "char", "FLOAT": "float", "SMALLDATETIME": "date", "SMALLINT": "smallint"}
    for table, columns in (("SOHeader", SOHEADER), ("Inventory", INVENTORY)):
        for name, column in columns.items():
            sql = rows[(table, name)]
            assert kinds[sql.split("(")[0]] == column.kind, (table, name, sql)
            if column.kind == "char":
                assert sql == f"CHAR({column.width})", (table, name, sql)
