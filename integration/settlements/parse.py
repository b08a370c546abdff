"""Read a settlement flat file into a ``SettlementHeader`` and a stream of ``SettlementRow`` [reference sp-api.md §7].

``open_settlement(path)`` reads the file's bytes once (gunzip when it starts with the GZIP magic, sha256, charset),
finds the header line and the summary row, and decides the file's conventions (delimiter, decimal mark, date order);
``rows()`` and ``totals()`` then stream the file again each time, so memory stays flat whatever its size.

Columns are found by name in the header line, never by position, so one reader serves:

- V2 (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``): 24 columns, or fewer (a file without ``promotion-id`` or other
  optional columns); one row per amount component, ``amount-type`` / ``amount-description`` / ``amount``.
- V1 (the retired flat file, 36 columns; "v1-33" is the same without ``direct-payment-type``,
  ``direct-payment-amount`` and ``other-amount``): a row carries several amounts, each expanded into its own
  ``SettlementRow`` as the V1 -> V2 mapping names them (§7.2: the type column's *name* becomes ``amount-type``, its
  *value* ``amount-description``), in the order of the columns in the file:

  ========================================================  ====================  ==================================
  V1 amount column (type column)                            amount_type           amount_description
  ========================================================  ====================  ==================================
  price-amount (price-type)                                 ItemPrice             the price-type (Principal, ...)
  item-related-fee-amount (item-related-fee-type)           ItemFees              the fee type (Commission, ...)
  shipment-fee-amount (shipment-fee-type)                   ShipmentFees          the fee type
  order-fee-amount (order-fee-type)                         OrderFees             the fee type
  promotion-amount (promotion-type)                         Promotion             the promotion type
  direct-payment-amount (direct-payment-type)               DirectPayment         the payment type
  misc-fee-amount                                           other-transaction     MiscFee
  other-fee-amount (other-fee-reason-description)           other-transaction     the reason, else OtherFee
  other-amount                                              other-transaction     Other
  ========================================================  ====================  ==================================

Files re-saved by a spreadsheet (comma-separated, quoted, long ids shown as ``7.8E+12``) are read with a warning in
``header.warnings``; the settlement id then comes from the summary row, and a summary id that is mangled too is a
``SettlementProblem("mangled_settlement_id")``. Whatever the bytes, the only exception raised is ``SettlementProblem``.

What makes a file one that cannot be posted as it is (``SettlementProblem``):

- at ``open_settlement``: a summary row whose settlement id is blank (``no_settlement_id``: the file names no
  settlement, so it is held under its report id or file name and can never replace another settlement); a header
  line naming a column twice (``unreadable_settlement``, naming the column: which one holds the amounts is a guess).
- at ``check()`` (one streaming pass, the one the flow runs before posting): a second summary row whose total or
  settlement id differs from the first (``two_summaries``, naming both lines: two files run together, or a re-save
  that appended one); a row whose settlement id is not blank and is not the summary's (``foreign_rows``, naming
  the first such line: its amounts belong to another payout, and would be posted twice when that one's file comes;
  a row id re-saved by a spreadsheet as ``2.46814E+10`` is not taken as another's); then mixed currencies and a
  total the rows do not add up to.

``quantity-purchased`` is informational (nothing is posted from it): a plain whole number of up to 9 digits
(``3``, ``3.00`` in the file's decimal mark) is read; anything else (``1e400``, ``1.5``, ``99999999999``, text) reads
as 0, never expanded, and the first such cell among the first rows gives a warning in ``header.warnings``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import gzip
import hashlib
import io
import operator
import os
import re
import zlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from integration.settlements import formats
from integration.settlements.model import SettlementHeader, SettlementProblem, SettlementRow, Totals

CHUNK = 1 << 20
CENT = Decimal("0.01")
GZIP_MAGIC = b"\x1f\x8b"
HEADER_SEARCH = 10        # non-blank lines in which the header line must appear
MAX_LINE = 1 << 16        # a longer first line is not a settlement header (binary data read as one line)
PRESCAN_ROWS = 1000       # transaction rows read at open to decide decimal mark, date order, marketplaces
V1_GROUPS = (             # (amount column, type column, amount_type, description when the type column is empty)
    ("price-amount", "price-type", "ItemPrice", ""),
    ("item-related-fee-amount", "item-related-fee-type", "ItemFees", ""),
    ("shipment-fee-amount", "shipment-fee-type", "ShipmentFees", ""),
    ("order-fee-amount", "order-fee-type", "OrderFees", ""),
    ("promotion-amount", "promotion-type", "Promotion", ""),
    ("direct-payment-amount", "direct-payment-type", "DirectPayment", ""),
    ("misc-fee-amount", None, "other-transaction", "MiscFee"),
    ("other-fee-amount", "other-fee-reason-description", "other-transaction", "OtherFee"),
    ("other-amount", None, "other-transaction", "Other"),
)
TEXT_FIELDS = (           # SettlementRow field, column
    ("transaction_type", "transaction-type"), ("order_id", "order-id"), ("merchant_order_id", "merchant-order-id"),
    ("adjustment_id", "adjustment-id"), ("shipment_id", "shipment-id"), ("marketplace_name", "marketplace-name"),
    ("fulfillment_id", "fulfillment-id"), ("order_item_code", "order-item-code"),
    ("merchant_order_item_id", "merchant-order-item-id"),
    ("merchant_adjustment_item_id", "merchant-adjustment-item-id"), ("sku", "sku"), ("promotion_id", "promotion-id"),
)
ID_COLUMNS = ("settlement-id", "order-id", "adjustment-id", "shipment-id", "order-item-code", "merchant-order-item-id",
              "merchant-adjustment-item-id")
ROW_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SettlementRow)
                if f.default is not dataclasses.MISSING}
_MANGLED = re.compile(r"[+-]?\d+(?:[.,]\d+)?E\+?\d+", re.I)


def _problem(reason: str, message: str, **details) -> SettlementProblem:
    return SettlementProblem(reason, message, details=details)


def _column(name: str) -> str:
    return name.strip().strip("\ufeff").strip().strip('"').strip().lower().replace("_", "-").replace(" ", "-")


class SettlementFile:
    """One settlement file, opened by ``open_settlement``; ``rows()`` and ``totals()`` re-read it (streaming)."""

    def __init__(self, path: str, *, gz: bool, checksum: str, charset: str):
        self.path, self.gz, self.checksum, self.charset = path, gz, checksum, charset
        self.delimiter, self.quoting = "\t", csv.QUOTE_NONE
        self.columns: dict[str, int] = {}
        self.header_line = 0
        self.summary_line = 0           # 0: the file has no summary row
        self.mark, self.slash = ".", "md"
        self.layout = "v2"
        self.header: SettlementHeader

    # --- reading --------------------------------------------------------------------------------------------

    def _text(self) -> io.TextIOBase:
        raw = gzip.open(self.path, "rb") if self.gz else open(self.path, "rb")  # noqa: SIM115 (closed by caller)
        return io.TextIOWrapper(raw, encoding=self.charset, errors="replace", newline="")

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of every non-blank line after the header line; read errors -> SettlementProblem."""
        line = 0
        try:
            with self._text() as fh:
                reader = csv.reader(fh, **self._dialect())
                for row in reader:
                    line = reader.line_num
                    if line <= self.header_line or not row:
                        continue
                    if not any(c.strip() for c in row):
                        continue
                    yield line, row
        except (csv.Error, OSError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
            raise _problem("unreadable_settlement", f"{self.path}: cannot read line {line + 1}: {exc}",
                           line=line + 1) from None

    def _dialect(self) -> dict:
        return {"delimiter": self.delimiter, "quoting": self.quoting, "strict": False}

    def _cell(self, row: list[str], name: str) -> str:
        i = self.columns.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    def _amount(self, text: str, line: int) -> Decimal:
        try:
            return formats.parse_amount(text, self.mark)
        except (ValueError, ArithmeticError):
            raise _problem("unreadable_amount", f"{self.path}: line {line}: {text[:40]!r} is not an amount",
                           line=line) from None

    # --- the public surface -----------------------------------------------------------------------------------

    def rows(self) -> Iterator[SettlementRow]:
        """Every amount component in file order (V1 rows expanded), the summary row left out."""
        ncols = max(self.columns.values()) + 1
        width = ncols + 1                       # a column the file lacks reads the always-empty cell at ncols
        col = {name: self.columns.get(name, ncols) for name in (
            *(c for _, c in TEXT_FIELDS), "posted-date-time", "posted-date", "quantity-purchased", "currency",
            "amount", "amount-type", "amount-description")}
        names = [f for f, _ in TEXT_FIELDS]
        text_of = operator.itemgetter(*(col[c] for _, c in TEXT_FIELDS))
        i_dt, i_d, i_q, i_cur = col["posted-date-time"], col["posted-date"], col["quantity-purchased"], col["currency"]
        i_amount, i_at, i_ad = col["amount"], col["amount-type"], col["amount-description"]
        groups = sorted((self.columns[a], self.columns.get(t, ncols), kind, default)
                        for a, t, kind, default in V1_GROUPS if a in self.columns)
        v1, pad, currency, summary = self.header.layout != "v2", [""] * width, self.header.currency, self.summary_line
        mark = self.mark
        dates: dict[str, object] = {}

        def when(text: str):
            if text not in dates:
                if len(dates) > 50_000:
                    dates.clear()
                dates[text] = formats.parse_datetime(text, self.slash)
            return dates[text]

        for line, row in self._records():
            if line == summary:
                continue
            if len(row) < width:
                row.extend(pad[len(row):])
            else:
                row[ncols] = ""
            if not v1 and not row[i_amount].strip():
                continue
            fields = dict(ROW_DEFAULTS)
            fields.update(zip(names, (v.strip() for v in text_of(row)), strict=True))
            fields.update(line_no=line, posted=when(row[i_dt].strip()) or when(row[i_d].strip()),
                          quantity=_quantity(row[i_q].strip(), mark), currency=row[i_cur].strip().upper() or currency)
            if not v1:
                yield _row(fields, amount_type=row[i_at].strip(), amount_description=row[i_ad].strip(),
                           amount=self._amount(row[i_amount].strip(), line))
                continue
            for amount_i, type_i, kind, default in groups:
                if text := row[amount_i].strip():
                    yield _row(fields, amount_type=kind, amount_description=row[type_i].strip() or default,
                               amount=self._amount(text, line))

    def totals(self) -> Totals:
        """Sums per (transaction type, amount type, description), grand total and row count: one streaming pass."""
        return self._scan()[0]

    def check(self) -> Totals:
        """The invariants a settlement must meet before it is posted; SettlementProblem when one fails."""
        if not self.summary_line:
            raise _problem("no_summary", f"{self.path}: no summary row (settlement-id, dates, total-amount)")
        totals, currencies, strays = self._scan(strays=True)
        sid = self.header.settlement_id
        if extra := strays.get("summary"):
            line, other_sid, other_total = extra
            raise _problem("two_summaries", f"{self.path}: two summary rows, line {self.summary_line} (settlement "
                           f"{sid}, total {self.header.total}) and line {line} (settlement {other_sid or '(blank)'}, "
                           f"total {other_total}): the file holds two settlements run together",
                           lines=[self.summary_line, line], totals=[str(self.header.total), other_total],
                           settlement_ids=[sid, other_sid])
        if foreign := strays.get("foreign"):
            line, other_sid = foreign
            raise _problem("foreign_rows", f"{self.path}: line {line} belongs to settlement {other_sid}, not to "
                           f"{sid} (the summary row's): rows of another settlement are never posted into this one",
                           line=line, settlement_id=other_sid)
        if len(currencies) > 1:
            raise _problem("mixed_currency", f"settlement {self.header.settlement_id} mixes currencies "
                           f"{', '.join(sorted(currencies))}", currencies={c: ln for c, ln in currencies.items()})
        total = self.header.total
        try:
            differs = totals.total.quantize(CENT) != total.quantize(CENT)
        except ArithmeticError:     # a sum or total beyond 28 digits cannot be a payout
            differs = True
        if differs:
            difference = total - totals.total
            raise _problem("total_mismatch", f"settlement {self.header.settlement_id}: the rows sum to "
                           f"{totals.total}, the summary says {total} (difference {difference})",
                           total=str(total), sum=str(totals.total), difference=str(difference))
        return totals

    def _scan(self, *, strays: bool = False) -> tuple[Totals, dict[str, int], dict]:
        """Totals, the currencies seen (with the first line of each, the header's currency included) and the rows
        that do not belong (``_stray``): noted on the V2 hot path at no cost, by a second pass on the others only
        when ``strays`` (check() asks, totals() does not)."""
        col = self.columns
        currencies = {self.header.currency: self.summary_line} if self.header.currency else {}
        totals, found = Totals(), {}
        if self.header.layout != "v2" or not {"transaction-type", "amount-type", "amount-description"} <= set(col):
            for r in self.rows():
                key = (r.transaction_type, r.amount_type, r.amount_description)
                totals.by_type[key] = totals.by_type.get(key, 0) + r.amount
                totals.rows += 1
                currencies.setdefault(r.currency, r.line_no)
            if strays:
                for line, row in self._records():
                    if line != self.summary_line:
                        self._stray(found, line, self._cell(row, "settlement-id"),
                                    self._cell(row, "transaction-type"), self._cell(row, "total-amount"))
        else:
            totals.rows = self._scan_v2(totals.by_type, currencies, found)
        currencies.pop("", None)
        try:
            totals.total = sum(totals.by_type.values(), Decimal(0))
        except ArithmeticError:     # amounts of absurd size (exponent overflow): not a payout
            raise _problem("unreadable_amount", f"{self.path}: the amounts overflow (a cell of absurd size)") from None
        return totals, currencies, found

    def _stray(self, found: dict, line: int, sid_cell: str, ttype: str, total_cell: str) -> None:
        """A row that is not the summary row: note in ``found`` the first second summary row that differs from the
        first (``summary``: its total or settlement id) and the first row of another settlement (``foreign``).
        The V2 hot path calls it only for the rare rows without an amount or whose settlement-id cell changed."""
        if not ttype.strip() and total_cell.strip():        # a summary row (the same test as _read_summary's)
            if "summary" not in found:
                sid, total = sid_cell.strip(), self._amount(total_cell.strip(), line)
                if total != self.header.total or self._foreign(sid):
                    found["summary"] = (line, sid, str(total))
        elif "foreign" not in found and self._foreign(sid := sid_cell.strip()):
            found["foreign"] = (line, sid)

    def _foreign(self, sid: str) -> bool:
        """Whether a row's settlement id names another settlement (blank and spreadsheet-mangled ids do not)."""
        return bool(sid) and sid != self.header.settlement_id and not _MANGLED.fullmatch(sid)

    def _scan_v2(self, by_type: dict, currencies: dict[str, int], found: dict) -> int:
        """The hot path of a million-row file: csv cells straight into per-type sums, nothing else built. Blank
        lines and the summary row have no amount and fall out with it (a second summary row is noted in ``found``
        there); cells with trailing spaces are summed under their raw key and merged at the end. Like the
        currency, the settlement-id cell is looked at only when it changes from the row before."""
        col = self.columns
        width = max(col.values()) + 1
        i_tt = col["transaction-type"]
        key_of = operator.itemgetter(i_tt, col["amount-type"], col["amount-description"])
        i_amount, i_cur, i_sid = col["amount"], col.get("currency", width), col["settlement-id"]
        i_total = col.get("total-amount", width)
        width = max(width, i_cur + 1, i_total + 1)
        pad, mark, reader, summary = [""] * width, self.mark, None, self.summary_line
        raw: dict[tuple[str, str, str], Decimal] = {}
        get, count, last_cur, last_sid, zero, D = raw.get, 0, None, None, Decimal(0), Decimal  # noqa: N806
        try:
            with self._text() as fh:
                reader = csv.reader(fh, **self._dialect())
                for _ in reader:
                    if reader.line_num >= self.header_line:
                        break
                for row in reader:
                    if len(row) < width:
                        row = row + pad[len(row):]
                    text = row[i_amount]
                    if not text:
                        if reader.line_num != summary and row[i_total]:
                            self._stray(found, reader.line_num, row[i_sid], row[i_tt], row[i_total])
                        continue
                    # Decimal reads a superset of amounts; what is not finite, not a plain number in this file's
                    # decimal mark, or in scientific notation or with underscores (1e400, 1_0: Decimal takes
                    # them, formats.parse_amount does not, and 1e1000000 overflows the sum) goes the slow way
                    # (formats.parse_amount), which refuses it
                    number = text if mark == "." else text.replace(",", ".") if "." not in text else ""
                    try:
                        if "e" in number or "E" in number or "_" in number:
                            raise InvalidOperation
                        amount = D(number)
                        if not amount.is_finite():
                            raise InvalidOperation
                    except InvalidOperation:
                        if not (text := text.strip()):
                            if reader.line_num != summary and row[i_total]:
                                self._stray(found, reader.line_num, row[i_sid], row[i_tt], row[i_total])
                            continue
                        amount = self._amount(text, reader.line_num)
                    key = key_of(row)
                    raw[key] = get(key, zero) + amount
                    count += 1
                    if row[i_cur] != last_cur:
                        last_cur = row[i_cur]
                        currencies.setdefault(last_cur.strip().upper(), reader.line_num)
                    if row[i_sid] != last_sid:
                        last_sid = row[i_sid]
                        self._stray(found, reader.line_num, last_sid, row[i_tt], "")
        except (csv.Error, OSError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
            line = reader.line_num if reader is not None else 0
            raise _problem("unreadable_settlement", f"{self.path}: cannot read after line {line}: {exc}",
                           line=line + 1) from None
        for (tt, at, ad), amount in raw.items():
            key = (tt.strip(), at.strip(), ad.strip())
            by_type[key] = by_type.get(key, zero) + amount
        return count


def _row(fields: dict, **amount) -> SettlementRow:
    """A SettlementRow without its generated __init__: a frozen dataclass sets each of its 19 fields through
    object.__setattr__, 6 us a row, most of the time rows() takes; filling __dict__ gives the equal object."""
    row = object.__new__(SettlementRow)
    row.__dict__.update(fields, **amount)
    return row


def _plain_quantity(text: str) -> bool:
    return len(text) < 10 and text.isdigit() and text.isascii()


def _quantity(text: str, mark: str = ".") -> int:
    """quantity-purchased as a bounded integer; 0 when it is not one (``formats.parse_quantity``)."""
    if _plain_quantity(text):
        return int(text)
    return formats.parse_quantity(text, mark) or 0


def _read_bytes(path: str) -> tuple[bool, str, bytes, bool]:
    """(gzip, sha256 of the content, its first bytes, whether all of it is UTF-8): one pass over the file."""
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == GZIP_MAGIC
        digest, head, decoder, utf8 = hashlib.sha256(), b"", codecs.getincrementaldecoder("utf-8")(), True
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                if len(head) < formats.SAMPLE:
                    head += chunk[: formats.SAMPLE - len(head)]
                if utf8 and not chunk.isascii():
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            if utf8:
                decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        utf8 = False
    except (OSError, EOFError, zlib.error) as exc:
        raise _problem("unreadable_settlement", f"{path}: cannot read the file ({exc}), line 1", line=1) from None
    return gz, digest.hexdigest(), head, utf8


def _chunks(path: str, gz: bool):
    def read():
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    return read


def open_settlement(path: str | os.PathLike, *, marketplace_hint: str | None = None, report_id: str = "") -> SettlementFile:
    """Open a settlement flat file (plain or GZIP, any layout and locale above); SettlementProblem if unreadable."""
    path = str(path)
    gz, checksum, head, utf8 = _read_bytes(path)
    if not head.strip():
        raise _problem("unreadable_settlement", f"{path}: the file is empty (line 1)", line=1)
    charset = formats.choose_charset(head, utf8, _chunks(path, gz), marketplace_hint)
    sf = SettlementFile(path, gz=gz, checksum=checksum, charset=charset)
    _find_header(sf)
    _read_summary(sf, report_id)
    return sf


def _find_header(sf: SettlementFile) -> None:
    """The header line (one of the first non-blank lines naming settlement-id), its delimiter and columns."""
    seen, number, text = 0, 0, ""
    try:
        with sf._text() as fh:
            while seen < HEADER_SEARCH and (text := fh.readline(MAX_LINE)):
                number += 1
                if not text.strip():
                    continue
                seen += 1
                if "settlement-id" in text.lower() or "settlement_id" in text.lower():
                    sf.header_line = number
                    break
                if "\0" in text or len(text) >= MAX_LINE:
                    break
    except (OSError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
        raise _problem("unreadable_settlement", f"{sf.path}: cannot read line {number + 1}: {exc}",
                       line=number + 1) from None
    if not sf.header_line:
        raise _problem("unreadable_settlement", f"{sf.path}: no settlement header (settlement-id ...) in the first "
                       f"{HEADER_SEARCH} lines; line 1 is not one", line=1)
    counts = {d: text.count(d) for d in ("\t", ",", ";", "|")}
    sf.delimiter = max(counts, key=counts.get)
    sf.quoting = csv.QUOTE_MINIMAL if ('"' in text or sf.delimiter != "\t") else csv.QUOTE_NONE
    cells = next(csv.reader([text.strip("\r\n")], delimiter=sf.delimiter, quoting=sf.quoting, strict=False), [])
    sf.columns = {}
    for i, name in enumerate(cells):
        name = _column(name)
        if name in sf.columns and name:
            raise _problem("unreadable_settlement", f"{sf.path}: line {sf.header_line} names the column {name!r} "
                           f"twice (columns {sf.columns[name] + 1} and {i + 1}): which one to read is a guess",
                           line=sf.header_line, column=name)
        sf.columns.setdefault(name, i)
    v1 = [a for a, *_ in V1_GROUPS if a in sf.columns]
    if "settlement-id" not in sf.columns or not ("amount" in sf.columns or v1):
        raise _problem("unreadable_settlement", f"{sf.path}: line {sf.header_line} names no settlement columns "
                       "(settlement-id and amount)", line=sf.header_line)
    sf.layout = "v2" if "amount" in sf.columns else (
        "v1-36" if {"direct-payment-amount", "other-amount"} & set(sf.columns) else "v1-33")


def _read_summary(sf: SettlementFile, report_id: str) -> None:
    """Find the summary row (anywhere, first match) and read the first rows to decide the file's conventions."""
    summary = first = None
    mark = slash = None
    marketplaces: dict[str, None] = {}
    mangled: dict[str, str] = {}
    quantities: dict[str, int] = {}     # quantity cells other than plain digits (a few), with their first line
    amount_columns = ["amount"] if sf.layout == "v2" else [a for a, *_ in V1_GROUPS if a in sf.columns]
    date_columns = ("posted-date", "posted-date-time", "settlement-start-date", "settlement-end-date", "deposit-date")
    seen = 0
    for line, row in sf._records():
        if summary is None and not sf._cell(row, "transaction-type") and sf._cell(row, "total-amount"):
            summary = (line, row)
            mark = mark or formats.decimal_mark(sf._cell(row, "total-amount"))
        else:
            seen += 1
            first = first or (line, row)
            if seen <= PRESCAN_ROWS:
                for name in amount_columns:
                    mark = mark or formats.decimal_mark(sf._cell(row, name))
                if market := sf._cell(row, "marketplace-name"):
                    marketplaces.setdefault(market)
                for name in ID_COLUMNS:
                    if _MANGLED.fullmatch(value := sf._cell(row, name)):
                        mangled.setdefault(name, value)
                q = sf._cell(row, "quantity-purchased")
                if q and not _plain_quantity(q) and len(quantities) < 20:
                    quantities.setdefault(q, line)
        if slash is None:
            for name in date_columns:
                slash = slash or formats.slash_order(sf._cell(row, name))
        if summary is not None and seen >= PRESCAN_ROWS:
            break
    source = summary or first
    start_text = sf._cell(source[1], "settlement-start-date") if source else ""
    sf.mark = mark or ("," if formats.DOTTED_DATE.fullmatch(start_text) else ".")
    sf.slash = slash or "md"
    warnings = []
    if sf.delimiter != "\t":
        warnings.append(f"{'comma' if sf.delimiter == ',' else repr(sf.delimiter)}-separated: the file was re-saved "
                        "by a spreadsheet program")
    if mangled:
        example = next(iter(mangled.values()))
        warnings.append(f"ids re-saved by a spreadsheet ({example}) in {', '.join(mangled)}: the settlement id is "
                        "taken from the summary row")
    odd = [(line, q) for q, line in quantities.items() if formats.parse_quantity(q, sf.mark) is None]
    if odd:
        line, q = min(odd)
        warnings.append(f"quantity-purchased {q[:20]!r} on line {line} is not a whole number: read as 0 (like any "
                        "such quantity; nothing is posted from it)")
    settlement_id = sf._cell(source[1], "settlement-id") if source else ""
    if not settlement_id:
        # a file naming no settlement is held under its report id or file name; posted, it would be settlement ''
        # and a second such file would replace it
        if summary is None:
            raise _problem("no_summary", f"{sf.path}: no summary row (settlement-id, dates, total-amount) and no "
                           "settlement id in the rows", line=first[0] if first else sf.header_line + 1)
        raise _problem("no_settlement_id", f"{sf.path}: line {summary[0]}: the summary row has no settlement id; the "
                       "file cannot be told apart from another settlement's (download it again from Amazon)",
                       line=summary[0])
    if summary is not None:
        sf.summary_line = summary[0]
        if _MANGLED.fullmatch(settlement_id):
            raise _problem("mangled_settlement_id", f"{sf.path}: line {summary[0]}: the settlement id {settlement_id} "
                           "was re-saved by a spreadsheet program; the real id is lost (download the file again)",
                           line=summary[0], value=settlement_id)
        total = sf._amount(sf._cell(summary[1], "total-amount"), summary[0])
    else:
        total = Decimal(0)
    row = source[1] if source else []
    when = lambda name: formats.parse_datetime(sf._cell(row, name), sf.slash)  # noqa: E731
    currency = (sf._cell(row, "currency") or (sf._cell(first[1], "currency") if first else "")).upper()
    sf.header = SettlementHeader(
        settlement_id=settlement_id, start=when("settlement-start-date"), end=when("settlement-end-date"),
        deposit_date=when("deposit-date"), total=total, currency=currency, layout=sf.layout, report_id=report_id,
        marketplaces=tuple(marketplaces), warnings=tuple(warnings))
