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
                          quantity=_quantity(row[i_q].strip()), currency=row[i_cur].strip().upper() or currency)
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
        totals, currencies = self._scan()
        if len(currencies) > 1:
            raise _problem("mixed_currency", f"settlement {self.header.settlement_id} mixes currencies "
                           f"{', '.join(sorted(currencies))}", currencies={c: ln for c, ln in currencies.items()})
        total = self.header.total
        if totals.total.quantize(CENT) != total.quantize(CENT):
            difference = total - totals.total
            raise _problem("total_mismatch", f"settlement {self.header.settlement_id}: the rows sum to "
                           f"{totals.total}, the summary says {total} (difference {difference})",
                           total=str(total), sum=str(totals.total), difference=str(difference))
        return totals

    def _scan(self) -> tuple[Totals, dict[str, int]]:
        """Totals and the currencies seen (with the first line of each), the header's currency included."""
        col = self.columns
        currencies = {self.header.currency: self.summary_line} if self.header.currency else {}
        totals = Totals()
        if self.header.layout != "v2" or not {"transaction-type", "amount-type", "amount-description"} <= set(col):
            for r in self.rows():
                key = (r.transaction_type, r.amount_type, r.amount_description)
                totals.by_type[key] = totals.by_type.get(key, 0) + r.amount
                totals.rows += 1
                currencies.setdefault(r.currency, r.line_no)
        else:
            totals.rows = self._scan_v2(totals.by_type, currencies)
        currencies.pop("", None)
        totals.total = sum(totals.by_type.values(), Decimal(0))
        return totals, currencies

    def _scan_v2(self, by_type: dict, currencies: dict[str, int]) -> int:
        """The hot path of a million-row file: csv cells straight into per-type sums, nothing else built. Blank
        lines and the summary row have no amount and fall out with it; cells with trailing spaces are summed under
        their raw key and merged at the end."""
        col = self.columns
        width = max(col.values()) + 1
        key_of = operator.itemgetter(col["transaction-type"], col["amount-type"], col["amount-description"])
        i_amount, i_cur = col["amount"], col.get("currency", width)
        width = max(width, i_cur + 1)
        pad, mark, reader = [""] * width, self.mark, None
        raw: dict[tuple[str, str, str], Decimal] = {}
        get, count, last_cur, zero, D = raw.get, 0, None, Decimal(0), Decimal  # noqa: N806
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
                        continue
                    # Decimal reads a superset of amounts; what is not finite, or not a plain number in this
                    # file's decimal mark, goes the slow way (formats.parse_amount), which refuses it
                    number = text if mark == "." else text.replace(",", ".") if "." not in text else ""
                    try:
                        amount = D(number)
                        if not amount.is_finite():
                            raise InvalidOperation
                    except InvalidOperation:
                        if not (text := text.strip()):
                            continue
                        amount = self._amount(text, reader.line_num)
                    key = key_of(row)
                    raw[key] = get(key, zero) + amount
                    count += 1
                    if row[i_cur] != last_cur:
                        last_cur = row[i_cur]
                        currencies.setdefault(last_cur.strip().upper(), reader.line_num)
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


def _quantity(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return int(Decimal(text.replace(",", ".")))
    except (ArithmeticError, ValueError):
        return 0


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
        sf.columns.setdefault(_column(name), i)
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
    settlement_id = sf._cell(source[1], "settlement-id") if source else ""
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
