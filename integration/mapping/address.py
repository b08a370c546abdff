"""Canonical ``Address`` -> SL's ship-to block (ShipName .. ShipCountry), nothing lost.

SL's ship-to columns are short (ShipAttn 30, ShipCity 30, ShipState 3, ShipZip 10). Amazon's address has up
to three lines and free-text state names. The rules, in order:

- a company goes in ShipName with the person in ShipAttn; otherwise the person is ShipName;
- address lines keep their own field when they fit; a third line is folded into ShipAddr2 (or 1);
  long text is split at word boundaries; what still does not fit goes to the note;
- the state becomes a code (``regions.state_code``); an unknown name stays if it fits, else it goes
  to the note with the field left blank;
- any field whose text had to be shortened keeps the part that fits, and the full text goes in the note.

Characters are kept verbatim here: the SL writer converts them to the database's code page
(``integration/sl/text.py``: transliterated, the original in the order's note). Widths, though, are the database's:
``measure`` gives a text's width as it will be written (``text.CodePage.measure``: on a double-byte code page such as
932, CHAR(60) holds 60 bytes, so a 48-character Japanese street is 96 and takes ShipAddr2 too; in cp1252 a street in
Chinese is measured as its transliteration). The caller passes it; ``len`` (a Unicode database) is the default.
A code (zip, phone digits) that does not fit is tried in its compatibility form (NFKC: a full-width postcode
１００－０００１ is 100-0001, 8 bytes rather than 16 in 932) before it is left blank. A state is a key of SL's
State table (``StateProvId`` CHAR(3), codes such as WA or QC): an unknown region name in another script (東京都)
is never one, and a code page would turn it into ``???``, so it goes to the note with the field blank.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from integration.canonical import Address
from integration.mapping.regions import country_code, state_code
from integration.sl.sl_columns import widths as sl_widths

# The ship-to block split_address fills, with SL's SOHeader widths.
SHIP_TO = ("ShipName", "ShipAttn", "ShipAddr1", "ShipAddr2", "ShipCity", "ShipState", "ShipZip", "ShipCountry",
           "ShipPhone")
SHIP_TO_WIDTHS: dict[str, int] = sl_widths("SOHeader", SHIP_TO)

LABELS = {"ShipName": "Name", "ShipAttn": "Attn", "ShipCity": "City", "ShipState": "State",
          "ShipZip": "Zip", "ShipCountry": "Country", "ShipPhone": "Phone"}


Measure = Callable[[str], int]


def fit_words(text: str, width: int, measure: Measure = len, *, hard: bool = False) -> tuple[str, str]:
    """Split ``text`` at a word boundary: (the longest prefix of whole words within ``width``, the rest).

    ``hard``: a first word wider than ``width`` on its own (a Japanese or Chinese street, written without blanks) is
    broken between two characters instead of leaving the field empty."""
    words = text.split()
    taken: list[str] = []
    for i, word in enumerate(words):
        if measure(" ".join([*taken, word])) > width:
            if hard and not taken:
                head = _head(word, width, measure)
                if head:
                    return head, " ".join([word[len(head):], *words[i + 1:]])
            return " ".join(taken), " ".join(words[i:])
        taken.append(word)
    return " ".join(taken), ""


def _head(word: str, width: int, measure: Measure) -> str:
    """The longest start of ``word`` within ``width``."""
    end = 0
    while end < len(word) and measure(word[:end + 1]) <= width:
        end += 1
    return word[:end]


def _pack_lines(lines: list[str], width: int, measure: Measure = len) -> tuple[str, str, str]:
    """Two address fields from up to three lines, plus the text that did not fit."""
    lines = [" ".join(x.split()) for x in lines if x and x.strip()]
    if len(lines) <= 2 and all(measure(x) <= width for x in lines):
        return (lines + ["", ""])[0], (lines + ["", ""])[1], ""
    if len(lines) == 3:
        for a, b in ((lines[0], f"{lines[1]}, {lines[2]}"), (f"{lines[0]}, {lines[1]}", lines[2])):
            if measure(a) <= width and measure(b) <= width:
                return a, b, ""
    # Word-fill across the lines, keeping line breaks as ", " so the carrier can still read them.
    text = ", ".join(lines)
    first, rest = fit_words(text, width, measure, hard=True)
    second, rest = fit_words(rest, width, measure, hard=True)
    return first, second, rest


def _fit(field: str, text: str, widths: dict[str, int], out: dict, note: list[str], partial=True,
         measure: Measure = len) -> None:
    text = " ".join((text or "").split())
    if measure(text) <= widths[field]:
        out[field] = text
        return
    if not partial:
        folded = " ".join(unicodedata.normalize("NFKC", text).split())
        if measure(folded) <= widths[field]:   # the same code in narrow characters (the original is noted)
            out[field] = folded
            note.append(f"{LABELS.get(field, field)}: {text}")
            return
    # A shortened code (state, zip, country) would be wrong, not just short: leave it blank.
    out[field] = fit_words(text, widths[field], measure, hard=True)[0] if partial else ""
    note.append(f"{LABELS.get(field, field)}: {text}")


def split_address(addr: Address, *, widths: dict[str, int] = SHIP_TO_WIDTHS, measure: Measure = len) -> dict[str, str]:
    """Fill SL's ship-to fields from ``addr`` within ``widths``, measured by ``measure`` (the database's units,
    see the module docstring); overflow goes to ``note`` (never lost)."""
    out: dict[str, str] = {}
    note: list[str] = []
    company, person = addr.company.strip(), addr.name.strip()
    _fit("ShipName", company or person, widths, out, note, measure=measure)
    _fit("ShipAttn", person if company else "", widths, out, note, measure=measure)
    out["ShipAddr1"], out["ShipAddr2"], rest = _pack_lines(list(addr.lines), min(widths["ShipAddr1"], widths["ShipAddr2"]),
                                                           measure)
    if rest:
        note.append("Address: " + ", ".join(" ".join(x.split()) for x in addr.lines if x.strip()))
    _fit("ShipCity", addr.city, widths, out, note, measure=measure)
    country = country_code(addr.country_code) or addr.country_code
    _fit("ShipCountry", country, widths, out, note, partial=False, measure=measure)
    code = state_code(out["ShipCountry"] or addr.country_code, addr.state_or_region)
    state = code or addr.state_or_region
    if not code and not state.isascii():
        out["ShipState"] = ""
        note.append(f"{LABELS['ShipState']}: {' '.join(state.split())}")
    else:
        _fit("ShipState", state, widths, out, note, partial=False, measure=measure)
    _fit("ShipZip", addr.postal_code, widths, out, note, partial=False, measure=measure)
    if "ShipPhone" in widths:
        _fit("ShipPhone", addr.phone or "", widths, out, note, measure=measure)
    out["note"] = "\n".join(note)
    return out
