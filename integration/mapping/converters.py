"""Named converters for the mapping file's field rows: canonical value -> SL column value.

Each converter takes the value, the target column and a label, and returns ``(value, note)``: the value
for the column and, when something did not fit, the text for the order note (so nothing is lost).
An identifier that does not fit is never cut: a shortened order id would match the wrong order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from integration.canonical import Money
from integration.errors import NeedsReview
from integration.mapping.address import fit_words
from integration.sl.sl_columns import ColumnType

Converted = tuple[object, str | None]


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return " ".join(str(value).split())


def identifier(value, column: ColumnType, label: str) -> Converted:
    text = _plain(value)
    if column.kind == "char" and len(text) > column.width:
        raise NeedsReview("field_too_long", f"{label} {text!r} is longer than {column.width} characters",
                          fields=[label])
    return text, None


def text(value, column: ColumnType, label: str) -> Converted:
    full = _plain(value)
    if column.kind == "note":
        return None, f"{label}: {full}" if full else None
    if len(full) <= column.width:
        return full, None
    return fit_words(full, column.width)[0], f"{label}: {full}"


def joined(value, column: ColumnType, label: str) -> Converted:
    """A list as "a, b, c"; whole items only, so a cut never leaves half an id."""
    items = [_plain(v) for v in (value or ()) if _plain(v)]
    full = ", ".join(items)
    if column.kind == "note" or len(full) <= column.width:
        return (None if column.kind == "note" else full), (f"{label}: {full}" if column.kind == "note" and full else None)
    taken: list[str] = []
    for item in items:
        if len(", ".join([*taken, item])) > column.width:
            break
        taken.append(item)
    return ", ".join(taken), f"{label}: {full}"


def lines(value, column: ColumnType, label: str) -> Converted:
    """Free text meant for the note; in a column it behaves like ``text``."""
    if column.kind == "note":
        full = str(value or "").strip()
        return None, f"{label}: {full}" if full else None
    return text(value, column, label)


def flag(value, column: ColumnType, label: str) -> Converted:
    if column.kind == "char":
        return ("Y" if value else "N"), None
    return (Decimal(1) if value else Decimal(0)), None


def amount(value, column: ColumnType, label: str) -> Converted:
    if value is None:
        return None, None
    if isinstance(value, Money):
        return value.rounded().amount, None
    return Decimal(str(value)), None


def to_date(value, column: ColumnType, label: str) -> Converted:
    if isinstance(value, datetime):
        return value.date(), None
    return (value if isinstance(value, date) else None), None


CONVERTERS: dict[str, Callable[..., Converted]] = {
    "identifier": identifier, "text": text, "joined": joined, "lines": lines,
    "flag": flag, "amount": amount, "date": to_date,
}
# Which SL column kinds each converter may write (the mapping check enforces it).
COLUMN_KINDS: dict[str, set[str]] = {
    "identifier": {"char"}, "text": {"char", "note"}, "joined": {"char", "note"}, "lines": {"char", "note"},
    "flag": {"char", "float", "smallint"}, "amount": {"float"}, "date": {"date"},
}
NOTE = ColumnType("note")
