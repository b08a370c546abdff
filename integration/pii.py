"""Buyer data kept out of what the product stores for its own use: failure records, kept response bodies.

``redact(value)`` copies a JSON-like value with the buyer's personal fields replaced by ``[redacted]``; structure,
ids, amounts, SKUs, city, region, postal and country code stay, so a person can still see what went wrong.
``redact_text(text)`` does the same inside text that holds JSON, even JSON cut short (a truncated response).

The fields are the ones Amazon gates behind its restricted roles (Orders v2026-01-01 ``BuyerInfo`` and
``CustomerAddress``, Orders v0 ``BuyerInfo`` and ``Address``; integration/amazon/roles.py) plus the canonical and SL
names the product copies them to (``Address.name``/``lines``/``phone``, SOHeader ``ShipName``/``ShipAddr*``...).
Holds keep their payload in full (a release needs it); ``slsync holds purge`` removes closed ones.
"""

from __future__ import annotations

import re

MARK = "[redacted]"
# keys compared lower-case without "_" and "-": buyerName, buyer_name and BuyerName are one key
KEYS = frozenset({
    "name", "buyername", "buyeremail", "email", "phone", "companyname", "company", "buyercompanyname",
    "buyerpurchaseordernumber", "purchaseordernumber", "buyercounty", "buyertaxinfo", "lines",
    "streetname", "streetnumber", "complement", "neighborhood", "addressinstructions", "dropofflocation",
    "shipname", "shipattn", "shipphone", "billname", "billattn", "billphone", "emailaddr",
    # Orders v2026-01-01: DeliveryPreference.addressInstruction, GiftOption.giftMessage, OrderTaxRegistration's
    # legalName / taxRegistrationNumber / taxRegistrationAddress / taxRegistrationAttributes; Orders v0 GiftMessageText
    "addressinstruction", "giftmessage", "giftmessagetext", "legalname", "taxregistrationnumber",
    "taxregistrationaddress", "taxregistrationattributes", "taxclassifications",
})
PREFIXES = ("addressline", "shipaddr", "billaddr")


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def is_personal(key: object) -> bool:
    if not isinstance(key, str):
        return False
    k = _norm(key)
    return k in KEYS or k.startswith(PREFIXES)


def redact(value):
    """A copy of ``value`` (dicts, lists, strings ...) without buyer data; empty values stay empty (so a reader
    still sees which fields Amazon sent)."""
    if isinstance(value, dict):
        return {k: (_blank(v) if _personal(k, v) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and '"' in value:
        return redact_text(value)
    return value


def _personal(key, value) -> bool:
    if not is_personal(key):
        return False
    # "lines" are an address's lines (strings), or an order's lines (objects: not personal as such)
    return _norm(key) != "lines" or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))


def _blank(value):
    if value in (None, "", [], {}):
        return value
    if isinstance(value, dict):   # e.g. "buyerTaxInfo": {...}: keep its keys, none of its values
        return {k: _blank(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_blank(v) for v in value]
    return MARK


# "key": "string value" | number | true/false/null, and a string value cut off by the end of the text
_KEY = r'"(?P<key>[A-Za-z_][A-Za-z0-9_-]{0,40})"\s*:\s*'
_PAIR = re.compile(_KEY + r'(?P<value>"(?:[^"\\]|\\.)*(?:"|$)|-?[0-9][0-9.eE+-]*)', re.DOTALL)


def redact_text(text: str, limit: int | None = None) -> str:
    """``text`` with the values of buyer fields replaced, then cut to ``limit`` characters (if given).

    Works on text, not on parsed JSON, so a body cut short by a proxy (the usual reason a response fails its shape
    check) is redacted too. Long text is cut to 4 x ``limit`` first: what is kept is a short form in any case.
    """
    if limit is not None:
        text = text[:limit * 4]

    def pair(m: re.Match) -> str:
        if not is_personal(m.group("key")) or m.group("value") in ('""',):
            return m.group(0)
        return f'"{m.group("key")}": "{MARK}"'

    out = _PAIR.sub(pair, _containers(text))
    return out if limit is None else out[:limit]


_OPEN = re.compile(_KEY + r"(?P<open>[\[{])")


def _containers(text: str) -> str:
    """A buyer field whose value is an object or a list (``buyerTaxInfo``, ``taxRegistrationAttributes: [{"key":
    "CPF", "value": ...}]``, an address's ``lines``) loses the whole value, nested parts and all, up to its closing
    bracket or the end of a body cut short; an empty one stays."""
    out, at = [], 0
    for m in _OPEN.finditer(text):
        if m.start() < at or not is_personal(m.group("key")):
            continue
        if _norm(m.group("key")) == "lines" and text[m.end():].lstrip().startswith("{"):
            continue    # an order's lines (objects), not an address's (strings): see _personal
        end = _close(text, m.end() - 1)
        if not text[m.end():end].strip().rstrip("]}").strip():
            continue    # an empty list or object stays as it is: a reader still sees which fields Amazon sent
        out.append(text[at:m.start()])
        out.append(f'"{m.group("key")}": "{MARK}"')
        at = end
    out.append(text[at:])
    return "".join(out)


def _close(text: str, start: int) -> int:
    """The index after the bracket that closes the one at ``start`` (strings and escapes respected), or the end."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)
