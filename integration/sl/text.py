"""Text and number rules for SL's CHAR and FLOAT columns.

Read: CHAR values come back blank-padded, so they are trimmed. Write: values are padded to the column
length, and a value too long for its column follows the column's rule:

- free text (descriptions, names, address lines, attention): cut to fit, and the cut is reported so the
  caller can keep the whole text in a note or an event ("noted"); address lines are wrapped first
  (``wrap_lines``) so nothing is lost where a second line has room;
- everything else is an identifier or a code (ids, numbers, references, states, countries, postcodes, accounts):
  never truncated; a value that does not fit raises ``NeedsReview`` naming the table and column.

A phone number (SOHeader.ShipPhone) counts as free text: SL never joins on it or looks anything up by it (it is
printed on the shipper and the pick list for the carrier), so a buyer's phone in another script's digits
(Arabic-Indic ٠١٢, full-width ５１２) is written in the code page's digits with the original in the note, and is
never a reason to hold the order.

The database's code page (``CodePage``): on SQL Server, CHAR and TEXT (Snote.sNoteText) are not Unicode; they hold
the code page of their collation (SL installs: SQL_Latin1_General_CP1_CI_AS, code page 1252), and a character the
code page lacks is stored as ``?``. So before a value is written (``fit``): characters of the code page are kept
(é, ü, ß in 1252), others are transliterated (Ł -> L, “ -> ", Cyrillic, Greek and CJK to Latin: ``anyascii``), what
is left becomes ``?``, and the original goes to the notes as ``Table.Column: original``. A code is only folded
(``CodePage.fold``): a character the code page lacks is replaced by its Unicode compatibility form (NFKC) where
that form is in the code page, e.g. a full-width postcode １００－０００１ becomes 100-0001 and an ideographic space
a blank (the same characters in another width, so the same code), the original noted as above; on a double-byte
code page a full-width digit or letter, which it holds in two bytes, is folded to its one-byte form likewise. A code
that would still change is refused (``NeedsReview`` ``not_in_codepage``). In a note column (TEXT), which is where the originals are kept,
such characters are written as XML character references (``&#321;``), so nothing is lost. On a double-byte code
page (932 Japanese, 936 and 950 Chinese, 949 Korean) and on UTF-8 collations, CHAR(n) holds n bytes, not n
characters: widths are checked in encoded bytes and free text is cut between characters, never inside one.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from anyascii import anyascii

from integration.errors import NeedsReview

FREE_TEXT = frozenset({
    "Descr", "TranDesc", "DocDesc", "Comment", "Name", "Attn", "Addr1", "Addr2", "City",
    "ShipName", "ShipAttn", "ShipAddr1", "ShipAddr2", "ShipCity", "BillName", "BillAddr1", "BillAddr2",
    "BillCity", "CpnyName", "Message", "Note", "Detail", "Response", "Payload", "sNoteText",
    "ShipPhone",   # not a code: see the module docstring
})
NO_DATE = datetime(1900, 1, 1)


# Settings that mean "the database is Unicode: convert nothing" (SQLite, a PostgreSQL database in UTF8).
UNICODE = ("none", "utf-8", "utf8", "unicode")


@dataclass(frozen=True)
class CodePage:
    """How the SL database stores CHAR and TEXT: ``encoding`` is a Python codec (None: Unicode, nothing converted);
    ``bytewise``: CHAR(n) counts encoded bytes (double-byte code pages, UTF-8 collations), not characters."""

    encoding: str | None
    bytewise: bool = False

    def width(self, value: str) -> int:
        """``value``'s length in the column's units."""
        if self.bytewise and not value.isascii():
            return len(value.encode(self.encoding, "replace"))
        return len(value)

    def measure(self, value: str) -> int:
        """``value``'s width once written (``convert`` then ``width``): what a caller fitting text to a column, e.g.
        the mapping's address lines, measures with (山 is one character, but 3 in cp1252 as "Shan", 2 bytes in 932)."""
        if self.encoding is None or value.isascii():
            return len(value)
        return self.width(self.convert(value))

    def has(self, ch: str) -> bool:
        """Whether the code page holds character ``ch``."""
        if self.encoding is None or ch.isascii():
            return True
        try:
            ch.encode(self.encoding)
            return True
        except UnicodeEncodeError:
            return False

    def fold(self, value: str) -> str:
        """``value`` (NFC) with each character the code page lacks replaced by its compatibility form (NFKC) where the
        code page holds that (full-width ５ -> 5, － -> -, ideographic space -> blank); on a double-byte code page also
        a character whose compatibility form is narrower (full-width digits and Latin letters, two bytes in 932).
        Characters without such a form are left as they are (the caller refuses them). NFKC is applied character by
        character and only where needed: µ or ª, which cp1252 holds, are not turned into μ or a."""
        out = []
        for ch in unicodedata.normalize("NFC", value):
            if not ch.isascii() and self.encoding is not None:
                folded = unicodedata.normalize("NFKC", ch)
                if folded != ch and all(self.has(c) for c in folded) and (
                        not self.has(ch) or (self.bytewise and self.width(folded) < self.width(ch))):
                    ch = folded
            out.append(ch)
        return "".join(out)

    def convert(self, value: str, *, note: bool = False) -> str:
        """``value`` in the code page's characters (see module docstring); ``note``: a note column, where
        characters the code page lacks become character references instead (nothing lost)."""
        if self.encoding is None or value.isascii():
            return value
        value = unicodedata.normalize("NFC", value)   # é as e + combining accent is the é of the code page
        try:
            value.encode(self.encoding)
            return value
        except UnicodeEncodeError:
            pass
        if note:
            return value.encode(self.encoding, "xmlcharrefreplace").decode(self.encoding)
        out = []
        for ch in value:
            try:
                ch.encode(self.encoding)
                out.append(ch)
            except UnicodeEncodeError:
                out.append(anyascii(ch) or "?")
        return "".join(out)


NO_CONVERSION = CodePage(None)


def codepage(value: str | int) -> CodePage:
    """A ``CodePage`` from the ``SL_CODEPAGE`` setting (``cp1252``, ``1252``, ``windows-1252``, ``cp932``;
    ``utf-8`` / ``none``: no conversion) or a number SQL Server reports (``COLLATIONPROPERTY(.., 'CodePage')``:
    65001 for a UTF-8 collation, where CHAR widths are bytes). ``ValueError`` names an unknown one."""
    text = str(value).strip().lower()
    if text in UNICODE:
        return NO_CONVERSION
    if text == "65001":
        return CodePage("utf-8", bytewise=True)
    name = f"cp{text}" if text.isdigit() else text
    try:
        encoding = codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"{value!r} is not a code page Python knows (e.g. cp1252, cp932, utf-8)") from None
    # A double-byte code page writes some characters as two bytes: CHAR(n) then holds n bytes.
    bytewise = any(len(ch.encode(encoding, "ignore")) > 1 for ch in "\u3042\u4e2d\ud55c\u6587")
    return CodePage(encoding, bytewise)


def server_codepage(column: int | None, database: int | None, configured: CodePage) -> CodePage:
    """The code page a SQL Server SL database writes CHAR in: the column collation's (SOHeader.ShipName: a
    database whose collation was changed after SL created its tables keeps the old one on every column), else the
    database's, else ``configured``. 0 is a Unicode-only collation, which a CHAR column cannot have."""
    for number in (column, database):
        if number:
            try:
                return codepage(int(number))
            except ValueError:
                continue
    return configured


def trim(value):
    """A CHAR value as read: trailing blanks removed (other values unchanged)."""
    return value.rstrip() if isinstance(value, str) else value


def fit(table: str, column: str, value: str, length: int, notes: list[str] | None = None,
        cp: CodePage = NO_CONVERSION) -> str:
    """``value`` in code page ``cp`` made to fit ``CHAR(length)`` by the column's rule (see module docstring)."""
    value = "" if value is None else str(value)
    value = value.rstrip()
    original = value
    if not value.isascii() and cp.encoding is not None:
        if column in FREE_TEXT:
            value = cp.convert(value).rstrip()
        else:
            value = cp.fold(value).rstrip()
            lacking = sorted({f"U+{ord(ch):04X}" for ch in value if not cp.has(ch)})
            if lacking:
                # The message names the characters, never the value (it reaches the log; the value may be personal).
                raise NeedsReview(
                    "not_in_codepage",
                    f"{table}.{column} is stored in code page {cp.encoding}, which has no {', '.join(lacking)}; "
                    "a code is not transliterated, so the value is not written",
                    fields=(f"{table}.{column}",),
                    details={"table": table, "column": column, "codepage": cp.encoding, "value": original},
                )
        if value == unicodedata.normalize("NFC", original):
            original = value
    size = cp.width(value)
    unit = "bytes" if cp.bytewise else "characters"
    if size <= length:
        if value != original and notes is not None and f"{table}.{column}: {original}" not in notes:
            notes.append(f"{table}.{column}: {original}")   # once per column (SOSched.ShipName: once per order)
        return value + " " * (length - size) if length <= 255 else value
    if column in FREE_TEXT:
        if notes is not None:
            notes.append(f"{table}.{column} cut to {length} {unit}; full text: {original}")
        return _cut(value, length, cp)
    raise NeedsReview(
        "field_too_long",
        f"{table}.{column} holds {length} {unit}; the value has {size} and is not cut",
        fields=(f"{table}.{column}",),
        details={"table": table, "column": column, "length": length, "value": original},
    )


def _cut(value: str, length: int, cp: CodePage) -> str:
    """The longest start of ``value`` within ``length`` units, ending between two characters: a double-byte
    character that would straddle the limit is left out whole, and a blank fills the byte it leaves."""
    if not cp.bytewise:
        return value[:length]
    used = end = 0
    for ch in value:
        w = 1 if ch.isascii() else len(ch.encode(cp.encoding, "replace"))
        if used + w > length:
            break
        used, end = used + w, end + 1
    return value[:end] + " " * (length - used)


def wrap_lines(lines: list[str], width: int, count: int) -> tuple[list[str], str]:
    """Re-flow address lines into ``count`` lines of ``width``, breaking at blanks where possible.

    Returns the lines (padded out with blanks to ``count``) and whatever did not fit ("" if all did).
    """
    words = " ".join(x.strip() for x in lines if x and x.strip()).split()
    out: list[str] = []
    current = ""
    while words and len(out) < count:
        word = words[0]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
            words.pop(0)
        elif not current:               # one word longer than a line: hard break
            out.append(word[:width])
            words[0] = word[width:]
        else:
            out.append(current)
            current = ""
    if current and len(out) < count:
        out.append(current)
    overflow = " ".join(words)
    return out + [""] * (count - len(out)), overflow


def sl_datetime(value) -> datetime:
    """A date or datetime as SL stores it: SMALLDATETIME has minute precision; none is 1900-01-01."""
    if value is None:
        return NO_DATE
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value)).replace(second=0, microsecond=0, tzinfo=None)


def money(value, places: int = 2) -> float:
    """A Decimal amount rounded to the currency's places, as the float SL stores."""
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return float(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def to_decimal(value, places: int = 2) -> Decimal:
    """A float read from SL as a Decimal with the currency's places."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def next_number(last: str, minimum_width: int = 3) -> tuple[int, int]:
    """(next value, width) for an SL counter such as ``LastOrdNbr`` or ``LastBatNbr``."""
    digits = "".join(ch for ch in last.strip() if ch.isdigit())
    width = max(len(last.strip()), minimum_width)
    return (int(digits) if digits else 0) + 1, width
