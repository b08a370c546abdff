"""Text and number rules for SL's CHAR and FLOAT columns.

Read: CHAR values come back blank-padded, so they are trimmed. Write: values are padded to the column
length, and a value too long for its column follows the column's rule:

- free text (descriptions, names, address lines, attention): cut to fit, and the cut is reported so the
  caller can keep the whole text in a note or an event ("noted"); address lines are wrapped first
  (``wrap_lines``) so nothing is lost where a second line has room;
- everything else is an identifier or a code (ids, numbers, references, states, countries, accounts):
  never truncated; a value that does not fit raises ``NeedsReview`` naming the table and column.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from integration.errors import NeedsReview

FREE_TEXT = frozenset({
    "Descr", "TranDesc", "DocDesc", "Comment", "Name", "Attn", "Addr1", "Addr2", "City",
    "ShipName", "ShipAttn", "ShipAddr1", "ShipAddr2", "ShipCity", "BillName", "BillAddr1", "BillAddr2",
    "BillCity", "CpnyName", "Message", "Note", "Detail", "Response", "Payload", "sNoteText",
})
NO_DATE = datetime(1900, 1, 1)


def trim(value):
    """A CHAR value as read: trailing blanks removed (other values unchanged)."""
    return value.rstrip() if isinstance(value, str) else value


def fit(table: str, column: str, value: str, length: int, notes: list[str] | None = None) -> str:
    """``value`` made to fit ``CHAR(length)`` by the column's rule (see module docstring)."""
    value = "" if value is None else str(value)
    value = value.rstrip()
    if len(value) <= length:
        return value.ljust(length) if length <= 255 else value
    if column in FREE_TEXT:
        if notes is not None:
            notes.append(f"{table}.{column} cut to {length} characters; full text: {value}")
        return value[:length]
    raise NeedsReview(
        "field_too_long",
        f"{table}.{column} holds {length} characters; {value!r} has {len(value)} and is not cut",
        fields=(f"{table}.{column}",),
        details={"table": table, "column": column, "length": length, "value": value},
    )


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
