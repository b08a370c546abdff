"""Text in the SL database's code page and units (issue 12, "Text").

On SQL Server, SL's CHAR columns and Snote.sNoteText hold the code page of their collation (1252 on most installs),
so a character outside it would silently become ``?``; on a double-byte code page (932 ...) CHAR(n) is n bytes. The
product writes only what the code page holds: kept, transliterated with the original in the order's note, or (a
code) refused. The sandbox behaves as cp1252 on SQLite and PostgreSQL alike (SL_CODEPAGE's default).
"""

from __future__ import annotations

import html
import json

import pytest

from integration.config import load_settings
from integration.errors import ConfigError, NeedsReview
from integration.sl import sandbox
from integration.sl.dialect import PostgresDialect, SQLiteDialect, SQLServerDialect
from integration.sl.schema import TABLES
from integration.sl.text import NO_CONVERSION, codepage, fit, server_codepage
from tests.sl.builders import a_binding, an_order

CP1252, CP932 = codepage("cp1252"), codepage("cp932")


def _note(gw, ord_nbr: str) -> str | None:
    return gw.db.run(lambda r: r.scalar('SELECT n."sNoteText" FROM "Snote" n JOIN "SOHeader" h '
                                        'ON h."NoteId" = n."nID" WHERE h."OrdNbr" = ?', [ord_nbr]), write=False)


# -- the code page: setting, SQL Server's collation, single or double byte -------------------------------------------
def test_the_setting_names_a_code_page_and_utf8_converts_nothing():
    assert codepage("cp1252") == codepage("1252") == codepage("Windows-1252") == CP1252
    assert not CP1252.bytewise and codepage("cp1250").encoding == "cp1250"
    assert codepage("utf-8") is NO_CONVERSION and codepage("none") is NO_CONVERSION
    assert load_settings({}).sl_codepage == "cp1252"   # the sandbox's default: what most SL installs use
    with pytest.raises(ConfigError, match="SL_CODEPAGE"):
        load_settings({"SL_CODEPAGE": "klingon"})


@pytest.mark.parametrize("number", [932, 936, 949, 950, 65001])
def test_double_byte_code_pages_and_utf8_collations_count_bytes(number):
    cp = codepage(number)
    assert cp.bytewise and cp.encoding and cp.width("東京") == len("東京".encode(cp.encoding)) > 2
    assert cp.width("Tokyo") == 5


def test_sql_server_reads_the_code_page_from_the_column_collation_then_the_database_then_the_setting():
    sql = SQLServerDialect().codepage_sql()
    assert "COLLATIONPROPERTY(COLLATION_NAME, 'CodePage')" in sql and "TABLE_NAME = 'SOHeader'" in sql
    assert "DATABASEPROPERTYEX(DB_NAME(), 'Collation')" in sql
    assert SQLiteDialect().codepage_sql() is None and PostgresDialect().codepage_sql() is None   # Unicode: setting
    configured = codepage("cp1250")
    assert server_codepage(932, 1252, configured) == CP932            # the column's collation wins
    assert server_codepage(None, 1252, configured) == CP1252          # no SOHeader yet: the database's
    assert server_codepage(0, None, configured) is configured        # nothing usable: the setting
    assert server_codepage(65001, None, configured).encoding == "utf-8"


def test_the_code_page_a_server_reports_is_the_one_written(pg_database, monkeypatch):
    """The connection asks the server (SQL Server's query, here PostgreSQL answering as a cp932 collation would)."""
    from integration.sl.db import Database

    monkeypatch.setattr(PostgresDialect, "codepage_sql", lambda self: "SELECT 932, 1252")
    db = Database(pg_database[0], codepage_name="cp1252")
    db.connection()
    assert db.codepage == CP932 and db.configured_codepage == CP1252
    db.close()
    # A login that cannot read the catalog: the setting's code page, and the connection still works.
    monkeypatch.setattr(PostgresDialect, "codepage_sql", lambda self: 'SELECT "NoSuchColumn" FROM "SOHeader"')
    db = Database(pg_database[0], codepage_name="cp1250")
    assert db.run(lambda r: r.scalar('SELECT COUNT(*) FROM "SOType"'), write=False) > 0
    assert db.codepage == codepage("cp1250")
    db.close()


# -- fit: kept, transliterated, refused, cut in bytes ----------------------------------------------------------------
def test_ascii_and_cp1252_text_is_written_unchanged_without_a_note():
    notes: list[str] = []
    assert fit("SOHeader", "ShipName", "Jane Buyer", 60, notes, CP1252) == "Jane Buyer".ljust(60)
    assert fit("SOHeader", "ShipName", "Renée Müller-Straße", 60, notes, CP1252).rstrip() == "Renée Müller-Straße"
    assert fit("SOHeader", "ShipCity", "Rene\u0301e", 30, notes, CP1252).rstrip() == "Renée"   # é in two code points
    assert notes == []


def test_other_scripts_are_transliterated_and_the_original_noted():
    notes: list[str] = []
    assert fit("SOHeader", "ShipName", "Łukasz Żółć", 60, notes, CP1252).rstrip() == "Lukasz Zólc"   # ó is 1252
    assert fit("SOHeader", "ShipAddr1", "ул. Ленина 5", 60, notes, CP1252).rstrip() == "ul. Lenina 5"
    assert fit("SOLine", "Descr", "“Smart” Λάμπα", 60, notes, CP1252).rstrip() == "“Smart” Lampa"   # “ ” are 1252
    assert fit("SOLine", "Descr", "“Smart”", 60, [], codepage("cp437")).rstrip() == '"Smart"'       # not in DOS 437
    assert notes == ["SOHeader.ShipName: Łukasz Żółć", "SOHeader.ShipAddr1: ул. Ленина 5",
                     "SOLine.Descr: “Smart” Λάμπα"]
    assert all(ch.encode("cp1252") for ch in fit("SOHeader", "ShipCity", "東京 🙂", 30, notes, CP1252))


def test_a_code_with_a_character_outside_the_code_page_is_refused_naming_it():
    with pytest.raises(NeedsReview) as caught:
        fit("SOHeader", "ShipZip", "02\u2011495", 10, [], CP1252)   # a non-breaking hyphen pasted into a zip
    assert caught.value.reason == "not_in_codepage" and caught.value.fields == ("SOHeader.ShipZip",)
    assert "U+2011" in caught.value.message and "cp1252" in caught.value.message
    assert fit("SOHeader", "ShipZip", "02\u2011495", 10, [], NO_CONVERSION).rstrip() == "02\u2011495"   # utf-8


def test_a_full_width_postcode_is_folded_to_the_same_code_with_the_original_noted():
    """A code is never transliterated, but a full-width form (a Japanese keyboard's １００－０００１) is the same code in
    other characters: NFKC gives it in the code page's, and the order is not held for it."""
    notes: list[str] = []
    assert fit("SOHeader", "ShipZip", "１００－０００１", 10, notes, CP1252) == "100-0001  "
    assert fit("SOHeader", "ShipCountry", "ＪＰ", 3, notes, CP1252) == "JP "
    assert notes == ["SOHeader.ShipZip: １００－０００１", "SOHeader.ShipCountry: ＪＰ"]
    # in 932 the full-width digits exist, but as two bytes each: folded too (16 bytes would not fit CHAR(10))
    assert fit("SOHeader", "ShipZip", "１００－０００１", 10, [], CP932) == "100-0001  "
    assert fit("SOHeader", "ShipZip", "東京１", 10, [], CP932) == "東京1     "       # kanji stay: no narrower form
    # only what the code page lacks is folded: µ and ª are cp1252 and stay (NFKC would make them μ and a)
    assert fit("SOHeader", "CustOrdNbr", "µª-７", 10, [], CP1252).rstrip() == "µª-7"
    with pytest.raises(NeedsReview) as caught:      # a character with no compatibility form in 1252 is still refused
        fit("SOHeader", "ShipZip", "１００‑０１", 10, [], CP1252)
    assert caught.value.reason == "not_in_codepage" and "U+2011" in caught.value.message
    assert "U+FF11" not in caught.value.message      # the folded digits are not named


def test_a_phone_in_other_digits_is_written_in_the_code_pages_and_never_holds_the_order():
    """SOHeader.ShipPhone is free text: SL looks nothing up by it; it is for the carrier."""
    notes: list[str] = []
    assert fit("SOHeader", "ShipPhone", "+48 ５１２ ３４５ ６７８", 30, notes, CP1252).rstrip() == "+48 512 345 678"
    assert fit("SOHeader", "ShipPhone", "+20 ١٢٣ ٤٥٦٧", 30, notes, CP1252).rstrip() == "+20 123 4567"  # Arabic-Indic
    assert notes == ["SOHeader.ShipPhone: +48 ５１２ ３４５ ６７８", "SOHeader.ShipPhone: +20 ١٢٣ ٤٥٦٧"]


def test_a_code_page_measures_text_as_it_will_be_written():
    assert CP932.measure("東京都") == 6 and CP932.measure("Tokyo") == 5
    assert CP1252.measure("Müller") == 6 and CP1252.measure("北京") == len("BeiJing")   # transliterated in 1252
    assert NO_CONVERSION.measure("北京") == 2


def test_a_double_byte_code_page_cuts_free_text_at_the_byte_width_between_characters():
    notes: list[str] = []
    name = "山田太郎"   # 8 bytes in cp932
    assert fit("SOHeader", "ShipName", name, 8, notes, CP932) == name and notes == []   # kept: it is in 932
    cut = fit("SOHeader", "ShipName", name, 7, notes, CP932)
    assert cut == "山田太 " and len(cut.encode("cp932")) == 7           # 太 ends at byte 6; 郎 is not split
    assert notes == ["SOHeader.ShipName cut to 7 bytes; full text: 山田太郎"]
    assert len(fit("SOHeader", "ShipCity", "Tokyo 東京", 30, [], CP932).encode("cp932")) == 30   # padded in bytes
    with pytest.raises(NeedsReview) as caught:
        fit("SOHeader", "CustOrdNbr", "注文番号注文番号注文番号注文番号", 25, [], CP932)   # 32 bytes, 16 characters
    assert caught.value.reason == "field_too_long" and "25 bytes" in caught.value.message


def test_note_text_keeps_characters_outside_the_code_page_as_references():
    assert CP1252.convert("Łukasz Müller", note=True) == "&#321;ukasz Müller"
    assert html.unescape(CP1252.convert("山田 ул.", note=True)) == "山田 ул."


# -- through the gateway, on SQLite and PostgreSQL --------------------------------------------------------------------
def test_names_and_streets_in_other_scripts_are_written_transliterated_with_the_original_in_the_note(gateway):
    order = an_order(ShipName="Łukasz Żółć", ShipAttn="Иван Петров", ShipAddr1="ул. Ленина 5, кв. 12",
                     ShipCity="東京", ShipCountry="RU", ShipState="")
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    head = gateway.sales_order(ord_nbr)
    assert (head["ShipName"], head["ShipAttn"], head["ShipAddr1"], head["ShipCity"]) == (
        "Lukasz Zólc", "Ivan Petrov", "ul. Lenina 5, kv. 12", "DongJing")
    assert all(str(head[k]).encode("cp1252") for k in ("ShipName", "ShipAttn", "ShipAddr1", "ShipCity"))
    note = _note(gateway, ord_nbr)
    assert note.encode("cp1252")                      # the note itself fits the code page (Snote.sNoteText is TEXT)
    originals = html.unescape(note).splitlines()
    for line in ("SOHeader.ShipName: Łukasz Żółć", "SOHeader.ShipAttn: Иван Петров",
                 "SOHeader.ShipAddr1: ул. Ленина 5, кв. 12", "SOHeader.ShipCity: 東京", "SOSched.ShipName: Łukasz Żółć"):
        assert line in originals
    event = gateway.events_for("order", order.CustOrdNbr)[0]
    assert "SOHeader.ShipName: Łukasz Żółć" in json.loads(event.detail)["notes"]   # and the event trail verbatim


def test_ascii_and_cp1252_orders_round_trip_unchanged_with_no_note(gateway):
    order = an_order(ShipName="José Müller", ShipAddr1="Hauptstraße 5", ShipCity="Zürich")
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    head = gateway.sales_order(ord_nbr)
    assert (head["ShipName"], head["ShipAddr1"], head["ShipCity"], head["ShipZip"]) == (
        "José Müller", "Hauptstraße 5", "Zürich", "98101-1234")
    assert _note(gateway, ord_nbr) is None


def test_a_code_outside_the_code_page_holds_the_order_and_writes_nothing(gateway):
    order = an_order(ShipZip="02\u2011495", ShipCountry="PL", ShipState="")
    with pytest.raises(NeedsReview) as caught:
        gateway.create_sales_order(order, a_binding(order))
    assert caught.value.reason == "not_in_codepage" and caught.value.fields == ("SOHeader.ShipZip",)
    assert sandbox.count(gateway.db, "SOHeader") == 0 and sandbox.count(gateway.db, "xAMZOrder") == 0


def test_a_full_width_postcode_and_phone_are_written_folded_not_held(gateway):
    order = an_order(ShipName="Taro", ShipZip="１００－０００１", ShipPhone="+81 ９０ １２３４ ５６７８", ShipCountry="JP",
                     ShipState="")
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    stored = gateway.db.run(lambda r: r.one('SELECT "ShipZip", "ShipPhone" FROM "SOHeader" WHERE "OrdNbr" = ?',
                                            [ord_nbr]), write=False)
    assert tuple(x.rstrip() for x in stored) == ("100-0001", "+81 90 1234 5678")
    originals = html.unescape(_note(gateway, ord_nbr)).splitlines()
    assert "SOHeader.ShipZip: １００－０００１" in originals and "SOHeader.ShipPhone: +81 ９０ １２３４ ５６７８" in originals


def test_a_cp932_database_gets_a_japanese_name_cut_at_its_byte_width(dsn, monkeypatch, fresh_settings):
    from integration.sl import open_gateway

    monkeypatch.setenv("SL_CODEPAGE", "cp932")
    fresh_settings.cache_clear()
    width = TABLES["SOHeader"].column("ShipName").length
    name = "山田太郎商事株式会社" * 4                    # 40 characters, 80 bytes
    with open_gateway(dsn, "AMZDEMO") as gw:
        order = an_order(ShipName=f"A{name}")       # one ASCII byte first: the width ends inside a character
        ord_nbr = gw.create_sales_order(order, a_binding(order))
        stored = gw.sales_order(ord_nbr)["ShipName"]
        assert len(stored.encode("cp932")) == width - 1 and f"A{name}".startswith(stored)
        assert f"SOHeader.ShipName cut to {width} bytes; full text: A{name}" in _note(gw, ord_nbr)


def test_a_region_name_in_another_script_is_noted_not_written_as_a_state_code():
    """SOHeader.ShipState is a key of SL's State table (StateProvId CHAR(3)); 東京都 fits three characters but is
    no state code, and cp1252 would hold the order over it: it goes to the note and the field stays blank."""
    from integration.canonical import Address
    from integration.mapping.address import split_address

    out = split_address(Address("山田 太郎", ("東京都千代田区丸の内1-9-1",), "千代田区", "東京都", "100-6610", "JP"))
    assert out["ShipState"] == "" and "State: 東京都" in out["note"].splitlines()
    assert split_address(Address("Jane", ("1 Main St",), "Seattle", "Washington", "98101", "US"))["ShipState"] == "WA"
