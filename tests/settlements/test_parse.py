"""The settlement parser against the team's fixture files (tests/settlements/fixtures/, written by build.py there):
each layout, locale, charset and broken case of issue 14."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from integration.settlements.model import SettlementProblem
from integration.settlements.parse import open_settlement

FIXTURES = Path(__file__).parent / "fixtures"
US_AMOUNTS = ["129.99", "10.40", "-10.40", "-19.50", "-4.75", "-5.00", "-45.50", "6.83", "-1.37", "-12.40", "-57.30"]


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def problem(path: str, **kwargs) -> SettlementProblem:
    """The SettlementProblem that opening and checking the file raises."""
    with pytest.raises(SettlementProblem) as caught:
        open_settlement(path, **kwargs).check()
    return caught.value


def components(sf) -> list[tuple]:
    return [(r.transaction_type, r.amount_type, r.amount_description, r.amount) for r in sf.rows()]


def test_a_v2_file_gives_its_summary_and_every_amount_in_file_order():
    sf = open_settlement(fixture("v2_us.tsv"), report_id="50123018111")
    h = sf.header
    assert (h.settlement_id, h.total, h.currency, h.layout, h.report_id) == (
        "24681357900", Decimal("-9.00"), "USD", "v2", "50123018111")
    assert (h.start, h.end, h.deposit_date) == (datetime(2026, 6, 16, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC),
                                                datetime(2026, 7, 2, tzinfo=UTC))
    assert h.marketplaces == ("Amazon.com",) and h.warnings == ()
    rows = list(sf.rows())
    assert [str(r.amount) for r in rows] == US_AMOUNTS
    assert [r.line_no for r in rows] == list(range(3, 14))
    first = rows[0]
    assert (first.transaction_type, first.amount_type, first.amount_description) == ("Order", "ItemPrice", "Principal")
    assert (first.order_id, first.sku, first.quantity, first.fulfillment_id, first.order_item_code) == (
        "114-8829371-4410258", "NX-HD-1200", 1, "AFN", "55182930114")
    assert first.posted == datetime(2026, 6, 17, 8, 14, 22, tzinfo=UTC)
    assert rows[5].promotion_id == "PROMO-10OFF" and rows[6].adjustment_id == "amzn1:crow:Xy12"
    totals = sf.check()
    assert totals.total == Decimal("-9.00") and totals.rows == 11
    assert totals.by_type[("Refund", "ItemFees", "Commission")] == Decimal("6.83")
    assert totals.by_type[("ServiceFee", "Cost of Advertising", "TransactionTotalAmount")] == Decimal("-57.30")


def test_the_checksum_is_the_sha256_of_the_content_and_a_gzip_copy_reads_the_same():
    plain = open_settlement(fixture("v2_us.tsv"))
    packed = open_settlement(fixture("v2_us.tsv.gz"))
    assert plain.checksum == hashlib.sha256((FIXTURES / "v2_us.tsv").read_bytes()).hexdigest()
    assert packed.checksum == plain.checksum   # the content as received, after gunzip
    assert packed.header == plain.header
    assert list(packed.rows()) == list(plain.rows())
    assert packed.totals() == plain.totals()


def test_rows_are_read_again_from_the_file_each_time():
    sf = open_settlement(fixture("v2_us.tsv"))
    assert list(sf.rows()) == list(sf.rows())
    assert sf.totals() == sf.totals()


def test_a_short_v2_file_with_its_columns_in_another_order_reads_the_same_amounts():
    short = open_settlement(fixture("v2_short.tsv"))
    full = open_settlement(fixture("v2_us.tsv"))
    assert short.header.settlement_id == "24681357900" and short.header.layout == "v2"
    assert components(short) == components(full)
    first = next(short.rows())
    assert first.posted == datetime(2026, 6, 17, tzinfo=UTC)   # no posted-date-time: posted-date 06/17/26
    assert first.promotion_id == "" and first.sku == "NX-HD-1200"
    short.check()


def test_columns_are_found_by_their_names_wherever_they_stand(tmp_path):
    lines = (FIXTURES / "v2_us.tsv").read_text().splitlines()
    reversed_file = tmp_path / "reversed.tsv"
    reversed_file.write_text("\n".join("\t".join(reversed(line.split("\t"))) for line in lines) + "\n")
    sf = open_settlement(reversed_file)
    assert list(sf.rows()) == list(open_settlement(fixture("v2_us.tsv")).rows())
    assert sf.totals() == open_settlement(fixture("v2_us.tsv")).totals()


def test_the_cut_v1_excerpt_is_held_with_the_difference_between_its_rows_and_its_total():
    sf = open_settlement(fixture("v1_36_excerpt.tsv"))
    assert sf.header.layout == "v1-36" and sf.header.total == Decimal("16630.13")
    assert sf.totals().total == Decimal("26.99")
    caught = problem(fixture("v1_36_excerpt.tsv"))
    assert caught.reason == "total_mismatch"
    assert caught.details == {"total": "16630.13", "sum": "26.99", "difference": "16603.14"}


def test_a_v1_row_with_several_amounts_becomes_one_row_per_amount_named_as_v2_names_them():
    sf = open_settlement(fixture("v1_36.tsv"))
    assert sf.header.layout == "v1-36"
    assert components(sf) == [
        ("Order", "ShipmentFees", "ShippingHB", Decimal("-0.50")),
        ("Order", "OrderFees", "FBAPerOrderFulfillmentFee", Decimal("-1.00")),
        ("Order", "ItemPrice", "Principal", Decimal("27.99")),
        ("Order", "ItemFees", "Commission", Decimal("-4.20")),
        ("Order", "Promotion", "Shipping", Decimal("-2.00")),
        ("Order", "ItemPrice", "Shipping", Decimal("4.99")),
        ("Order", "other-transaction", "MiscFee", Decimal("-0.25")),
        ("other-transaction", "other-transaction", "BalanceAdjustment", Decimal("-3.00")),
        ("other-transaction", "DirectPayment", "StorageFee", Decimal("-1.36")),
        ("other-transaction", "other-transaction", "Other", Decimal("19.00")),
    ]
    rows = list(sf.rows())
    assert [r.line_no for r in rows[:5]] == [3] * 5
    assert rows[0].quantity == 1 and rows[4].promotion_id == "PRM-1" and rows[0].currency == "USD"
    assert sf.check().total == Decimal("39.67")


def test_the_33_column_v1_layout_reads_with_iso_dates_and_offsets_in_utc():
    sf = open_settlement(fixture("v1_33.tsv"))
    assert sf.header.layout == "v1-33"
    rows = list(sf.rows())
    assert len(rows) == 7 and rows[0].posted == datetime(2015, 12, 2, 4, 15, 26, tzinfo=UTC)
    assert sf.header.start == datetime(2015, 12, 2, 3, 27, 8, tzinfo=UTC)
    assert sf.check().total == Decimal("25.03")


def test_a_german_file_reads_comma_decimals_thousands_dots_and_day_first_dates():
    sf = open_settlement(fixture("v2_de_comma.tsv"))
    h = sf.header
    assert (h.settlement_id, h.total, h.currency) == ("7293436482", Decimal("1141.18"), "EUR")
    assert h.start == datetime(2018, 5, 3, 9, 10, 7, tzinfo=UTC)
    rows = list(sf.rows())
    assert [r.amount for r in rows] == [Decimal(x) for x in ("1234.56", "-32.40", "-3.96", "-39.00", "-18.02")]
    assert rows[0].posted == datetime(2018, 5, 3, 17, 12, 22, tzinfo=UTC)
    assert rows[0].currency == "EUR"     # detail rows leave currency empty: the summary's
    assert sf.check().total == Decimal("1141.18")


def test_an_amount_that_contradicts_the_files_decimal_comma_is_refused_not_guessed(tmp_path):
    text = (FIXTURES / "v2_de_comma.tsv").read_text().replace("-32,40", "-32.40")
    path = tmp_path / "de.tsv"
    path.write_text(text)
    caught = problem(str(path))
    assert caught.reason == "unreadable_amount" and "line 4" in caught.message


def test_cr_only_line_ends_blank_lines_and_trailing_spaces_change_nothing():
    sf = open_settlement(fixture("v2_cr_only.tsv"))
    assert components(sf) == components(open_settlement(fixture("v2_us.tsv")))
    rows = list(sf.rows())
    assert rows[0].marketplace_name == "Amazon.com" and rows[0].line_no == 4   # blank line 3
    assert sf.header.total == Decimal("-9.00")
    sf.check()


def test_utf8_with_a_bom_and_crlf_line_ends():
    sf = open_settlement(fixture("v2_bom_crlf.tsv"))
    assert sf.charset == "utf-8-sig" and sf.header.settlement_id == "24681357900"
    assert next(sf.rows()).sku == "NX-HD-1200-Größe-€"
    sf.check()


def test_a_cp1252_file_is_decoded_as_cp1252():
    sf = open_settlement(fixture("v2_cp1252.tsv"), marketplace_hint="A13V1IB3VIYZZH")
    assert sf.charset == "cp1252"
    assert next(sf.rows()).sku == "Crème-Brûlée-Élan-Ø"
    assert sf.header.marketplaces == ("Amazon.fr",)
    assert sf.check().total == Decimal("-9.00")


@pytest.mark.parametrize("sku", ["Brûlée", "Crème brûlée", "Müller-Größe", "Ærø"])
def test_latin_letters_that_also_decode_as_kanji_stay_cp1252(tmp_path, sku):
    path = tmp_path / "fr.tsv"
    path.write_bytes((FIXTURES / "v2_us.tsv").read_text().replace("NX-HD-1200", sku).encode("cp1252"))
    sf = open_settlement(path)
    assert sf.charset == "cp1252" and next(sf.rows()).sku == sku


@pytest.mark.parametrize("name, charset", [("v2_jp_cp932.tsv", "cp932"), ("v2_jp_eucjp.tsv", "euc_jp")])
@pytest.mark.parametrize("hint", [None, "A1VC38T7YXB528"])
def test_japanese_files_in_shift_jis_or_euc_jp_are_recognised(name, charset, hint):
    sf = open_settlement(fixture(name), marketplace_hint=hint)
    assert sf.charset == charset
    rows = list(sf.rows())
    assert rows[0].sku == "テレビ台-黒-大型" and rows[2].amount_description == "月額登録料"
    assert [r.amount for r in rows] == [Decimal(19800), Decimal(-1980), Decimal(-4900), Decimal(2900)]
    assert sf.check().total == Decimal(15820) and sf.header.currency == "JPY"


def test_a_file_re_saved_by_a_spreadsheet_is_read_with_a_warning_and_the_id_of_its_summary_row():
    sf = open_settlement(fixture("spreadsheet.csv"))
    assert sf.delimiter == ","
    assert sf.header.settlement_id == "24681357900"
    assert any("2.46814E+10" in w and "summary row" in w for w in sf.header.warnings)
    assert any("spreadsheet" in w for w in sf.header.warnings)
    rows = list(sf.rows())
    assert rows[1].amount_description == "Tax, state" and rows[3].amount == Decimal("-19.5")
    assert rows[0].posted == datetime(2026, 6, 17, 8, 14, 22, tzinfo=UTC)
    assert sf.check().total == Decimal("-9.00")


def test_a_spreadsheet_file_whose_summary_id_is_mangled_too_is_held():
    caught = problem(fixture("spreadsheet_mangled_summary.csv"))
    assert caught.reason == "mangled_settlement_id" and "2.46814E+10" in caught.message


def test_a_negative_settlement_with_reserves_and_unknown_types_is_just_rows():
    sf = open_settlement(fixture("v2_negative_reserves.tsv"))
    assert sf.header.total == Decimal("-152.10")
    by_type = sf.check().by_type
    assert by_type[("other-transaction", "other-transaction", "Previous Reserve Amount Balance")] == Decimal("310.40")
    assert by_type[("other-transaction", "other-transaction", "Current Reserve Amount")] == Decimal("-180.00")
    assert by_type[("Galactic Storage Levy", "Warp Fees", "HyperspaceSurcharge")] == Decimal("-52.49")
    assert len(list(sf.rows())) == 6


def test_a_file_mixing_currencies_is_held_naming_them():
    caught = problem(fixture("v2_mixed_currency.tsv"))
    assert caught.reason == "mixed_currency"
    assert set(caught.details["currencies"]) == {"USD", "CAD"} and caught.details["currencies"]["CAD"] == 6


def test_a_broken_total_is_held_with_the_difference_to_the_cent():
    caught = problem(fixture("v2_broken_total.tsv"))
    assert caught.reason == "total_mismatch"
    assert caught.details == {"total": "-8.99", "sum": "-9.00", "difference": "0.01"}


def test_a_file_without_a_summary_row_is_held():
    sf = open_settlement(fixture("v2_no_summary.tsv"))
    assert len(list(sf.rows())) == 11    # the rows still read
    assert problem(fixture("v2_no_summary.tsv")).reason == "no_summary"


@pytest.mark.parametrize("content", [
    pytest.param((FIXTURES / "garbage.bin").read_bytes(), id="garbage"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\x00" * 500, id="nul"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, id="png"),
    pytest.param(gzip.compress((FIXTURES / "v2_us.tsv").read_bytes())[:200], id="truncated-gzip"),
    pytest.param(b"\x1f\x8b" + b"not gzip at all", id="bad-gzip"),
    pytest.param(b"order-id\tamount\n1\t2\n", id="no-settlement-columns"),
])
def test_a_file_that_cannot_be_read_is_unreadable_naming_the_line(tmp_path, content):
    path = tmp_path / "document"
    path.write_bytes(content)
    caught = problem(str(path))
    assert caught.reason == "unreadable_settlement"
    assert "line" in caught.message


def test_a_german_spreadsheet_re_save_with_semicolons_and_a_utf16_text_export_read_the_same(tmp_path):
    german = open_settlement(fixture("v2_de_comma.tsv"))
    semicolons = tmp_path / "de.csv"
    lines = (FIXTURES / "v2_de_comma.tsv").read_text().splitlines()
    semicolons.write_text("\n".join(";".join(f'"{c}"' if " " in c else c for c in line.split("\t"))
                                    for line in lines) + "\n", encoding="cp1252")
    unicode_text = tmp_path / "de.txt"     # a spreadsheet's "Unicode text": UTF-16 with a BOM, tab-separated
    unicode_text.write_bytes((FIXTURES / "v2_de_comma.tsv").read_text().encode("utf-16"))
    for path, delimiter, charset in ((semicolons, ";", "utf-8"), (unicode_text, "\t", "utf-16")):
        sf = open_settlement(path)
        assert (sf.delimiter, sf.charset) == (delimiter, charset)
        assert components(sf) == components(german) and sf.header.start == german.header.start
        assert sf.check().total == Decimal("1141.18")


# -- files that cannot be posted as they are (hostile review of issue 14, finding 15 and others) ----------------------
def edited(tmp_path, name: str, edit) -> str:
    """A copy of fixture ``name`` whose lines (cells split on tabs) ``edit`` changes in place."""
    lines = [line.split("\t") for line in (FIXTURES / name).read_text().splitlines()]
    edit(lines)
    path = tmp_path / name
    path.write_text("\n".join("\t".join(cells) for cells in lines) + "\n")
    return str(path)


def test_a_second_summary_row_with_another_total_is_held_naming_both_lines(tmp_path):
    def append_summary(lines):
        second = list(lines[1])
        second[4] = "-19.00"
        lines.append(second)

    caught = problem(edited(tmp_path, "v2_us.tsv", append_summary))
    assert caught.reason == "two_summaries"
    assert caught.details["lines"] == [2, 14] and caught.details["totals"] == ["-9.00", "-19.00"]
    assert "line 2" in caught.message and "line 14" in caught.message


def test_a_repeated_identical_summary_row_changes_nothing(tmp_path):
    path = edited(tmp_path, "v2_us.tsv", lambda lines: lines.append(list(lines[1])))
    assert open_settlement(path).check().total == Decimal("-9.00")


def test_a_header_naming_a_column_twice_is_unreadable_naming_the_column(tmp_path):
    def rename(lines):
        lines[0][lines[0].index("sku")] = "Amount"         # a second column read as `amount`

    caught = problem(edited(tmp_path, "v2_us.tsv", rename))
    assert caught.reason == "unreadable_settlement"
    assert caught.details["column"] == "amount" and "'amount' twice" in caught.message


@pytest.mark.parametrize("name, row", [("v2_us.tsv", 6), ("v1_36.tsv", 3)])
def test_rows_of_another_settlement_are_held_naming_the_first_line(tmp_path, name, row):
    def move(lines):
        lines[row - 1][0] = "13579246800"

    path = edited(tmp_path, name, move)
    assert len(list(open_settlement(path).rows())) > 0          # still readable, for a person to look at
    caught = problem(path)
    assert caught.reason == "foreign_rows" and caught.details == {"line": row, "settlement_id": "13579246800"}


def test_rows_with_a_blank_settlement_id_belong_to_the_summarys_settlement(tmp_path):
    def blank(lines):
        lines[4][0] = ""

    assert open_settlement(edited(tmp_path, "v2_us.tsv", blank)).check().total == Decimal("-9.00")


def test_a_summary_row_without_a_settlement_id_is_held_before_anything_is_read(tmp_path):
    def blank(lines):
        for cells in lines[1:]:
            cells[0] = ""

    with pytest.raises(SettlementProblem) as caught:
        open_settlement(edited(tmp_path, "v2_us.tsv", blank))
    assert caught.value.reason == "no_settlement_id" and caught.value.details == {"line": 2}


@pytest.mark.parametrize("quantity, read, warned", [
    ("3", 3, False), ("3.00", 3, False), ("1e400", 0, True), ("1e1000000", 0, True), ("1.5", 0, True),
    ("12345678901", 0, True), ("two", 0, True), ("\u00b2", 0, True)])
def test_a_quantity_is_a_bounded_whole_number_else_0_with_a_warning(tmp_path, quantity, read, warned):
    def put(lines):
        lines[2][lines[0].index("quantity-purchased")] = quantity

    sf = open_settlement(edited(tmp_path, "v2_us.tsv", put))
    assert next(sf.rows()).quantity == read
    assert any(repr(quantity) in w and "read as 0" in w for w in sf.header.warnings) == warned


@pytest.mark.parametrize("amount", ["1e2", "1E+1000000", "1_0"])
def test_an_amount_in_scientific_notation_is_refused_by_totals_and_rows_alike(tmp_path, amount):
    def put(lines):
        lines[2][lines[0].index("amount")] = amount

    path = edited(tmp_path, "v2_us.tsv", put)
    assert problem(path).reason == "unreadable_amount"
    with pytest.raises(SettlementProblem):
        list(open_settlement(path).rows())
