"""Text rules for SL's CHAR columns."""

from __future__ import annotations

import pytest

from integration.errors import NeedsReview
from integration.sl.text import fit, money, next_number, trim, wrap_lines


def test_values_are_padded_on_write_and_trimmed_on_read():
    assert fit("SOHeader", "CustID", "AMZUS", 15) == "AMZUS" + " " * 10
    assert trim("AMZUS          ") == "AMZUS"


def test_free_text_is_cut_and_noted_but_identifiers_are_never_truncated():
    notes: list[str] = []
    assert fit("SOLine", "Descr", "x" * 70, 60, notes) == "x" * 60
    assert notes and "x" * 70 in notes[0]
    with pytest.raises(NeedsReview) as caught:
        fit("SOHeader", "ShipState", "Washington", 3)
    assert caught.value.fields == ("SOHeader.ShipState",)


def test_address_lines_wrap_at_blanks_and_return_what_does_not_fit():
    lines, rest = wrap_lines(["12 Long Road", "Unit 4", "Back entrance"], 20, 2)
    assert lines == ["12 Long Road Unit 4", "Back entrance"] and rest == ""
    lines, rest = wrap_lines(["a" * 25, "b"], 10, 2)
    assert lines == ["a" * 10, "a" * 10] and rest == "aaaaa b"


def test_money_is_rounded_half_up_to_the_currency_places():
    assert money("2.675", 2) == 2.68 and money("1234.5", 0) == 1235.0


def test_counters_keep_their_width():
    assert next_number("0000099") == (100, 7) and next_number("7") == (8, 3) and next_number("") == (1, 3)
