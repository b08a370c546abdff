"""How a settlement file writes its bytes, numbers and dates, decided once per file.

- Charset [reference sp-api.md §7.4: the download has no charset; EU flat files are CP1252, JP ones Shift_JIS]:
  a BOM decides (UTF-8, UTF-16); else UTF-8 if every byte decodes; else the Japanese encodings (cp932, EUC-JP) when
  their decoding reads as Japanese text (runs of kana/kanji, not stray half-width katakana, and some kana unless the
  file says Amazon.co.jp or the JP marketplace A1VC38T7YXB528 is the hint); else CP1252.
- Amounts: "local currency format" (95,00 for EU) [§7.4]. Whether ``,`` or ``.`` is the decimal mark is decided per
  file from the first amount that says so (``53,44``; ``1.234,56``; ``129.99``), never per cell, so ``1.234`` is a
  thousand in a German file and one and a bit in an American one; a cell that contradicts the file's choice
  (``12.50`` in a comma file) is refused rather than guessed.
- Quantities: a whole number of up to 9 digits, else None (``parse_quantity``): ``1e400`` is never expanded.
- Dates: ``YYYY-MM-DD HH:MM:SS UTC`` and ISO with an offset (V1), ``DD.MM.YYYY[ HH:MM:SS UTC]`` (DE), ``MM/DD/YY``
  (US posted-date; day-first when the file's dates show it). All returned as aware UTC datetimes.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

JP_MARKETPLACE = "A1VC38T7YXB528"
SAMPLE = 1 << 20
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")
_JP_RUN = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]{2,}")


def _japanese_share(text: str) -> float:
    """Share of the non-ASCII characters that sit in runs of kana/kanji/full-width forms."""
    non_ascii = sum(1 for c in text if ord(c) > 127)
    if not non_ascii:
        return 0.0
    return sum(len(m) for m in _JP_RUN.findall(text)) / non_ascii


def decodes(chunks, encoding: str) -> bool:
    """Whether the byte chunks (an iterable, read again for each candidate) decode strictly as ``encoding``."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in chunks():
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def choose_charset(head: bytes, utf8_ok: bool, chunks, hint: str | None) -> str:
    """The charset of a file whose first bytes are ``head``; ``chunks()`` re-reads the whole file when needed."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if utf8_ok:
        return "utf-8"
    sample = head[:SAMPLE]
    # Latin-1 letters in pairs read as kanji in both Japanese encodings ("Brûlée" decodes in cp932), so without a
    # sign the file is Japanese (the JP marketplace, Amazon.co.jp in it) the text must contain kana too
    japanese = hint == JP_MARKETPLACE or b"amazon.co.jp" in sample.lower()
    bar = 0.5 if japanese else 0.8
    scored = []
    for encoding in ("cp932", "euc_jp"):
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(sample)
        except UnicodeDecodeError:
            continue
        if japanese or _KANA.search(text):
            scored.append((_japanese_share(text), encoding == "cp932", encoding))
    for share, _, encoding in sorted(scored, reverse=True):
        if share >= bar and decodes(chunks, encoding):
            return encoding
    return "cp1252"   # decodes nearly anything; what it cannot is replaced, never raised


# --- amounts ---------------------------------------------------------------------------------------------------

PLAIN_DOT = re.compile(r"-?\d+(?:\.\d+)?")
PLAIN_COMMA = re.compile(r"-?\d+(?:,\d+)?")
_GROUPED = {",": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})*(?:,\d+)?|[+-]?\d+(?:,\d+)?"),
            ".": re.compile(r"[+-]?\d{1,3}(?:,\d{3})*(?:\.\d+)?|[+-]?\d+(?:\.\d+)?")}
_SPACES = str.maketrans("", "", " \u00a0\u202f'")


def decimal_mark(text: str) -> str | None:
    """``,`` or ``.`` when this amount shows which is the decimal mark, else None (``1.234``, ``1234``)."""
    digits = text.strip().lstrip("+-(").rstrip(")-").translate(_SPACES)
    dot, comma = digits.rfind("."), digits.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    for mark, pos in ((".", dot), (",", comma)):
        if pos >= 0:
            if digits.count(mark) > 1:
                return "," if mark == "." else "."
            return None if len(digits) - pos - 1 == 3 else mark
    return None


def parse_amount(text: str, mark: str) -> Decimal:
    """``text`` (stripped) as a Decimal with ``mark`` the file's decimal mark; ValueError if it is not an amount."""
    if mark == "." and PLAIN_DOT.fullmatch(text):
        return Decimal(text)
    if mark == "," and PLAIN_COMMA.fullmatch(text):
        return Decimal(text.replace(",", "."))
    body, negative = text.translate(_SPACES), False
    if body.startswith("(") and body.endswith(")"):       # accounting format from a spreadsheet
        body, negative = body[1:-1], True
    elif body.endswith("-") and not body.startswith("-"):  # trailing minus
        body, negative = body[:-1], True
    if not _GROUPED[mark].fullmatch(body):
        raise ValueError(f"not an amount: {text[:40]!r}")
    grouping = "." if mark == "," else ","
    try:
        value = Decimal(body.replace(grouping, "").replace(mark, "."))
    except InvalidOperation:
        raise ValueError(f"not an amount: {text[:40]!r}") from None
    return -value if negative else value


_QUANTITY = {".": re.compile(r"[+-]?(\d{1,9})(?:\.0*)?"), ",": re.compile(r"[+-]?(\d{1,9})(?:,0*)?")}


def parse_quantity(text: str, mark: str) -> int | None:
    """A whole number of up to 9 digits (``3``, ``-1``, ``3.00`` with ``mark`` the decimal mark), else None: never
    expanded from scientific notation (``1e400``), never truncated from a fraction (``1.5``)."""
    if m := _QUANTITY[mark].fullmatch(text.strip()):
        value = int(m.group(1))
        return -value if text.strip().startswith("-") else value
    return None


# --- dates -----------------------------------------------------------------------------------------------------

_TIME = r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME, re.I)
DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{2,4})" + _TIME, re.I)
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})" + _TIME, re.I)


def _zone(text: str | None):
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def slash_order(text: str) -> str | None:
    """"dm" or "md" when a slashed date shows its order (a part above 12), else None."""
    m = _SLASHED.fullmatch(text.strip())
    if not m:
        return None
    first, second = int(m.group(1)), int(m.group(2))
    return "dm" if first > 12 >= second else "md" if second > 12 >= first else None


def parse_datetime(text: str, slash: str = "md") -> datetime | None:
    """An aware UTC datetime, or None for an empty or unrecognised value (a date never stops a settlement)."""
    text = text.strip()
    if not text:
        return None
    if m := _ISO.fullmatch(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := DOTTED_DATE.fullmatch(text):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _SLASHED.fullmatch(text):
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        month, day = (b, a) if slash == "dm" else (a, b)
    else:
        return None
    if year < 100:
        year += 2000
    hour, minute, second = (int(g) if g else 0 for g in m.group(4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=_zone(m.group(7))).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
