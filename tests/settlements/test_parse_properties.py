"""Property tests of the settlement parser: generated settlements (random types, signs, locales, line ends,
delimiters) written to a file and read back keep every row in order, their sum to the cent and their header; and no
bytes whatever make it raise anything but SettlementProblem."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.settlements.model import SettlementProblem
from integration.settlements.parse import open_settlement
from tests.settlements.settlement_builders import COLUMNS

KNOWN_TYPES = ["Order", "Refund", "other-transaction", "ServiceFee", "Chargeback Refund", "FBAFees",
               "other-transaction - Reversal", "Vine Enrollment Fee"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURE = (Path(__file__).parent / "fixtures" / "v2_us.tsv").read_bytes()

word = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=8)
words = st.one_of(st.sampled_from(KNOWN_TYPES), st.lists(word, min_size=1, max_size=3).map(" ".join))
cents = st.integers(min_value=-10**8, max_value=10**8).map(lambda c: Decimal(c).scaleb(-2))
moment = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC))


@st.composite
def settlements(draw):
    rows = draw(st.lists(st.tuples(words, words, words, cents, moment), min_size=0, max_size=25))
    start = draw(moment)
    return {
        "id": str(draw(st.integers(min_value=10**7, max_value=10**12 - 1))),
        "start": start, "end": start + timedelta(days=14), "deposit": start + timedelta(days=16),
        "currency": draw(st.sampled_from(["USD", "EUR", "GBP", "CAD", "JPY", "SEK"])),
        "rows": rows,
        "locale": draw(st.sampled_from(["en", "de"])),
        "grouping": draw(st.booleans()),
        "end_of_line": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "delimiter": draw(st.sampled_from(["tab", "comma-quoted", "comma-quote-all"])),
        "trailing_blank_lines": draw(st.integers(0, 2)),
    }


def amount_text(value: Decimal, locale: str, grouping: bool) -> str:
    text = f"{value:,.2f}" if grouping else f"{value:.2f}"
    if locale == "de":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def date_text(value: datetime, locale: str) -> str:
    return value.strftime("%d.%m.%Y %H:%M:%S UTC" if locale == "de" else "%Y-%m-%d %H:%M:%S UTC")


def write(s: dict, folder: str) -> str:
    loc, grouping = s["locale"], s["grouping"]
    total = sum((r[3] for r in s["rows"]), Decimal("0.00"))
    lines = [COLUMNS, [s["id"], date_text(s["start"], loc), date_text(s["end"], loc), date_text(s["deposit"], loc),
                       amount_text(total, loc, grouping), s["currency"]] + [""] * 18]
    for kind, atype, desc, amount, posted in s["rows"]:
        row = dict.fromkeys(COLUMNS, "")
        row.update({"settlement-id": s["id"], "transaction-type": kind, "amount-type": atype,
                    "amount-description": desc, "amount": amount_text(amount, loc, grouping),
                    "posted-date-time": date_text(posted, loc), "currency": s["currency"]})
        lines.append([row[c] for c in COLUMNS])
    out = io.StringIO()
    if s["delimiter"] == "tab":
        out.write(s["end_of_line"].join("\t".join(line) for line in lines) + s["end_of_line"])
    else:
        quoting = csv.QUOTE_ALL if s["delimiter"] == "comma-quote-all" else csv.QUOTE_MINIMAL
        csv.writer(out, lineterminator=s["end_of_line"], quoting=quoting).writerows(lines)
    out.write(s["end_of_line"] * s["trailing_blank_lines"])
    path = Path(folder) / "settlement.txt"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return str(path)


@SETTINGS
@given(settlements())
def test_a_generated_settlement_reads_back_row_for_row_with_its_sum_and_header(s):
    with tempfile.TemporaryDirectory() as folder:
        sf = open_settlement(write(s, folder))
        h = sf.header
        assert (h.settlement_id, h.currency, h.start, h.end, h.deposit_date) == (
            s["id"], s["currency"], s["start"], s["end"], s["deposit"])
        assert h.total == sum((r[3] for r in s["rows"]), Decimal(0))
        rows = list(sf.rows())
        assert [(r.transaction_type, r.amount_type, r.amount_description, r.amount, r.posted) for r in rows] == \
            [tuple(r) for r in s["rows"]]
        assert [r.line_no for r in rows] == sorted({r.line_no for r in rows})
        totals = sf.check()
        assert totals.rows == len(s["rows"]) and totals.total == h.total
        assert sum(totals.by_type.values(), Decimal(0)) == h.total


@SETTINGS
@given(st.binary(max_size=3000))
def test_no_bytes_whatever_raise_anything_but_a_settlement_problem(content):
    _read_whatever(content)


@SETTINGS
@given(st.integers(0, len(FIXTURE)), st.integers(0, 200), st.binary(min_size=1, max_size=40), st.booleans())
def test_a_damaged_settlement_file_reads_or_is_held_never_crashes(at, cut, noise, packed):
    damaged = FIXTURE[:at] + noise + FIXTURE[at + cut:]
    _read_whatever(gzip.compress(damaged, mtime=0)[: len(damaged) // 2] if packed and cut % 3 == 0 else damaged)


def _read_whatever(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document"
        path.write_bytes(content)
        try:
            sf = open_settlement(path)
            list(sf.rows())
            sf.totals()
            sf.check()
        except SettlementProblem as problem:
            assert problem.reason and problem.message
