"""Validation of the mapping file: a JSON schema for its shape, then rules that need the whole file.

Every problem is reported with the line it is on (from PyYAML's node marks), so an operator can fix
them all in one pass. PyYAML silently keeps the last of two equal keys; that is reported too, since a
duplicated status row would otherwise vanish without a word.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from integration.canonical import Order
from integration.mapping.address import SHIP_TO
from integration.mapping.converters import COLUMN_KINDS, CONVERTERS
from integration.sl.sl_columns import column_types

# Orders API v2026-01-01 FulfillmentStatus enum (orders_2026-01-01.json, definitions.FulfillmentStatus).
STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE")
CHANNELS = ("MFN", "AFN")
SL_STATES = ("none", "open_order", "invoiced", "cancelled")
ACTIONS = ("wait", "skip", "nothing", "create_order", "create_and_invoice", "invoice", "cancel_order",
           "credit_memo", "review")
SKU_LOOKUPS = ("invtid", "xref", "map")
# What becomes of an order Amazon shipped or cancelled before go-live (GO_LIVE) that SL never saw; see default.yaml.
HISTORY_MODES = ("skip", "closed")
ORDER_ATTRIBUTES = {f.name for f in dataclasses.fields(Order)} | {"promotion_ids"}
# The SOHeader columns order_fields may write, and the Inventory columns a listing attribute may be read from,
# with SL's kinds and widths (integration/sl/sl_columns.py).
_USER = tuple(f"User{n}" for n in range(1, 11))
SOHEADER = column_types("SOHeader", ("CustID", "CustOrdNbr", *SHIP_TO, "ShipViaID", *_USER))
INVENTORY = column_types("Inventory", ("InvtID", "Descr", "ClassID", "StkUnit", "UPCCode", "StkBasePrc", "StkWt",
                                       *_USER[:8]))

_row = {"type": "object", "required": ["from", "to", "convert"], "additionalProperties": False,
        "properties": {"from": {"type": "string"}, "to": {"type": "string"},
                       "convert": {"enum": sorted(CONVERTERS)}}}
# Settlements to the GL (integration/settlements/accounts.py): an SL Account (Acct CHAR(10)), SubAcct (CHAR(24)).
_ACCOUNT = {"type": "object", "required": ["acct"], "additionalProperties": False,
            "properties": {"acct": {"type": "string", "minLength": 1, "maxLength": 10},
                           "sub": {"type": "string", "minLength": 1, "maxLength": 24}}}
SETTLEMENT_ACCOUNTS = ("deposit", "receivable", "suspense", "carry_forward")
TAX_ACCOUNT = "@tax"   # a rule's acct: the tax clearing account of the row's marketplace
# A settlement in a foreign currency (SL multi-currency on): the SL rate type (CuryRtTp.RateTypeId CHAR(6); default
# CMSetup.GLRtTpDflt) and the account of the conversion's rounding line (default: SL's Currncy RealGain/RealLoss).
_MULTI_CURRENCY = {"rate_type": {"type": "string", "minLength": 1, "maxLength": 6}, "rounding": _ACCOUNT}
_SETTLEMENTS = {
    "type": "object", "required": ["rules", *SETTLEMENT_ACCOUNTS], "additionalProperties": False,
    "properties": {
        "default_sub": {"type": "string", "minLength": 1, "maxLength": 24},
        **{k: _ACCOUNT for k in SETTLEMENT_ACCOUNTS},
        **_MULTI_CURRENCY,
        "currencies": {"type": ["object", "null"], "propertyNames": {"pattern": "^[A-Z]{3}$"},
                       "additionalProperties": {"type": "object", "additionalProperties": False,
                                                "properties": {**{k: _ACCOUNT for k in SETTLEMENT_ACCOUNTS},
                                                               **_MULTI_CURRENCY}}},
        "rules": {"type": "array", "items": {
            "type": "object", "required": ["acct"], "additionalProperties": False,
            "properties": {"type": {"type": "string", "minLength": 1}, "amount_type": {"type": "string", "minLength": 1},
                           "description": {"type": "string", "minLength": 1},
                           "acct": {"type": "string", "minLength": 1, "maxLength": 10},
                           "sub": {"type": "string", "minLength": 1, "maxLength": 24}}}},
    },
}
SCHEMA = {
    "type": "object",
    "required": ["version", "company", "status_table", "sku", "customers", "shipping", "order_fields"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "company": {"type": "string", "minLength": 1, "maxLength": 10},
        "status_table": {"type": "object", "additionalProperties": {
            "type": "object", "minProperties": 1, "propertyNames": {"enum": [*CHANNELS, "any"]},
            "additionalProperties": {
                "type": "object", "required": list(SL_STATES), "additionalProperties": False,
                "properties": {s: {"enum": list(ACTIONS)} for s in SL_STATES}}}},
        "sku": {"type": "object", "required": ["lookup", "unknown_sku"], "additionalProperties": False,
                "properties": {
                    "lookup": {"type": "array", "minItems": 1, "uniqueItems": True,
                               "items": {"enum": list(SKU_LOOKUPS)}},
                    "map": {"type": ["object", "null"], "additionalProperties": {
                        "type": "string", "minLength": 1, "maxLength": 30}},
                    "unknown_sku": {"enum": ["hold", "ghost"]},
                    "ghost_item": {"type": "string", "maxLength": 30}}},
        "customers": {"type": "object", "minProperties": 1,
                      "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 15}},
        "shipping": {"type": "object", "required": ["service_levels", "carriers"], "additionalProperties": False,
                     "properties": {
                         "service_levels": {"type": "object", "additionalProperties": {
                             "type": "string", "minLength": 1, "maxLength": 15}},
                         "default_ship_via": {"type": "string", "maxLength": 15},
                         "freight_terms": {"type": "string", "minLength": 1, "maxLength": 10},
                         "carriers": {"type": "object", "additionalProperties": {
                             "type": "object", "required": ["carrier_code"], "additionalProperties": False,
                             "properties": {"carrier_code": {"type": "string", "minLength": 1},
                                            "carrier_name": {"type": "string"},
                                            "shipping_method": {"type": "string"}}}}}},
        "order_fields": {"type": "array", "items": _row},
        "sites": {"type": "object", "required": ["ship_from", "groups"], "additionalProperties": False,
                  "properties": {
                      "ship_from": {"type": "object", "required": list(CHANNELS), "additionalProperties": False,
                                    "properties": {c: {"type": "string", "minLength": 1, "maxLength": 10}
                                                   for c in CHANNELS}},
                      "groups": {"type": "object", "minProperties": 1, "additionalProperties": {
                          "type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1,
                                                                     "maxLength": 10}}}}},
        "listing_attributes": {"type": "array", "items": _row},
        "marketplaces": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["time_zone", "tax_mode", "tax_id"], "additionalProperties": False,
            "properties": {"time_zone": {"type": "string", "minLength": 1},
                           "tax_mode": {"enum": ["facilitator", "seller"]},
                           "tax_id": {"type": "string", "minLength": 1, "maxLength": 10},
                           "prices_include_tax": {"type": "boolean"}}}},
        "charges": {"type": "object", "additionalProperties": False,
                    "properties": {k: {"type": "string", "minLength": 1, "maxLength": 10}
                                   for k in ("GIFT_WRAP", "COD_FEE", "OTHER", "DELIVERY_TIP")}},
        "schedules": {"type": "object", "additionalProperties": False,
                      "properties": {"cancel_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
        "history": {"enum": list(HISTORY_MODES)},
        "settlements": _SETTLEMENTS,
    },
}


class Problem(NamedTuple):
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path or '(top)'}: {self.message}"


def _index(node, path: tuple, lines: dict, problems: list[Problem]) -> None:
    """Map every path in the YAML tree to its 1-based line; report duplicate keys on the way."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(Problem(key_node.start_mark.line + 1, _dotted((*path, key)), "duplicate key"))
            seen.add(key)
            _index(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1  # point at the key, where people look
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, problems)


def _dotted(path) -> str:
    return ".".join(str(p) for p in path)


def _line(lines: dict, path: tuple) -> int:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _rules(data: dict) -> list[tuple[tuple, str]]:
    """Checks across the file that a JSON schema cannot express; (path, message) pairs."""
    out: list[tuple[tuple, str]] = []
    table = data.get("status_table") or {}
    for status in STATUSES:
        if status not in table:
            out.append((("status_table",), f"status {status} has no row (every Amazon status needs one)"))
    for status, channels in table.items():
        if status not in STATUSES:
            out.append((("status_table", status), f"unknown Amazon status {status!r}; expected one of {', '.join(STATUSES)}"))
        if isinstance(channels, dict):
            if "any" in channels and set(channels) & set(CHANNELS):
                out.append((("status_table", status), "use either 'any' or MFN/AFN rows, not both"))
            elif "any" not in channels:
                for ch in CHANNELS:
                    if ch not in channels:
                        out.append((("status_table", status), f"no row for channel {ch}"))
    for market, entry in (data.get("marketplaces") or {}).items():
        zone = entry.get("time_zone") if isinstance(entry, dict) else None
        if isinstance(zone, str) and not _known_zone(zone):
            out.append((("marketplaces", market, "time_zone"), f"unknown time zone {zone!r} (an IANA name such as "
                                                                "America/Los_Angeles)"))
    sku = data.get("sku") or {}
    if sku.get("unknown_sku") == "ghost" and not sku.get("ghost_item"):
        out.append((("sku", "unknown_sku"), "unknown_sku: ghost needs a ghost_item (an InvtID)"))
    shipping = data.get("shipping") or {}
    carriers = shipping.get("carriers") or {}
    vias = [(("shipping", "service_levels", k), v) for k, v in (shipping.get("service_levels") or {}).items()]
    if shipping.get("default_ship_via"):
        vias.append((("shipping", "default_ship_via"), shipping["default_ship_via"]))
    for path, via in vias:
        if isinstance(via, str) and via not in carriers:
            out.append((path, f"ship via {via!r} has no entry under shipping.carriers"))
    for via, carrier in carriers.items():
        if isinstance(carrier, dict) and carrier.get("carrier_code") == "Other" and not carrier.get("carrier_name"):
            out.append((("shipping", "carriers", via), "carrier_code Other needs a carrier_name (confirmShipment rule)"))
    out += _settlement_rules(data.get("settlements"))
    out += _field_rules(data.get("order_fields"), "order_fields", ORDER_ATTRIBUTES, "an Order field",
                        SOHEADER, "an SOHeader column or note", allow_note=True)
    out += _field_rules(data.get("listing_attributes"), "listing_attributes", set(INVENTORY),
                        "an SL Inventory column", None, "", allow_note=False)
    return out


def _settlement_rules(section) -> list[tuple[tuple, str]]:
    """Two rules for the same (type, amount type, description) would leave one of them dead: report the second."""
    out: list[tuple[tuple, str]] = []
    seen: dict[tuple, int] = {}
    rules = section.get("rules") if isinstance(section, dict) else None
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        key = tuple(" ".join(str(rule.get(k) or "*").split()).casefold() for k in ("type", "amount_type", "description"))
        if key in seen:
            out.append((("settlements", "rules", i), f"same type/amount_type/description as rule {seen[key] + 1}: "
                                                     "only the first would ever match"))
        else:
            seen[key] = i
        acct = rule.get("acct")
        if isinstance(acct, str) and acct.startswith("@") and acct != TAX_ACCOUNT:
            out.append((("settlements", "rules", i, "acct"), f"{acct!r}: the only symbolic account is {TAX_ACCOUNT}"))
    return out


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _field_rules(rows, name, sources, source_kind, targets, target_kind, *, allow_note):
    out, used = [], {}
    for i, row in enumerate(rows if isinstance(rows, list) else []):
        if not isinstance(row, dict):
            continue
        src, dst, conv = row.get("from"), row.get("to"), row.get("convert")
        if isinstance(src, str) and src not in sources:
            out.append(((name, i, "from"), f"{src!r} is not {source_kind}"))
        if targets is None or not isinstance(dst, str):
            continue
        if dst != "note" or not allow_note:
            if dst not in targets:
                out.append(((name, i, "to"), f"{dst!r} is not {target_kind}"))
                continue
            if dst in used:
                out.append(((name, i, "to"), f"{dst} is already written by row {used[dst] + 1}"))
            used[dst] = i
        kind = "note" if dst == "note" else targets[dst].kind
        if conv in COLUMN_KINDS and kind not in COLUMN_KINDS[conv]:
            out.append(((name, i, "convert"), f"converter {conv} cannot write {dst} ({kind} column)"))
    return out


def check_text(text: str) -> tuple[dict | None, list[Problem]]:
    """Parse and validate mapping YAML; return (data, problems), problems sorted by line."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(mark.line + 1 if mark else 1, "", f"not valid YAML: {exc}")]
    if node is None or not isinstance(data, dict):
        return None, [Problem(1, "", "the mapping file must be a YAML mapping (key: value) at the top")]
    lines: dict = {}
    problems: list[Problem] = []
    _index(node, (), lines, problems)
    for err in jsonschema.Draft202012Validator(SCHEMA).iter_errors(data):
        path = tuple(err.absolute_path)
        message = err.message
        if "propertyNames" in err.relative_schema_path:  # the error is about a key: point at that key
            path = (*path, err.instance)
        elif err.validator == "additionalProperties":
            extra = [k for k in err.instance if k not in (err.schema.get("properties") or {})]
            path = (*path, extra[0]) if len(extra) == 1 else path
        elif err.validator == "maxLength":
            message += f" (at most {err.validator_value} characters: the SL column width)"
        problems.append(Problem(_line(lines, path), _dotted(path), message))
    problems += [Problem(_line(lines, p), _dotted(p), msg) for p, msg in _rules(data)]
    return data, sorted(set(problems), key=lambda p: (p.line, p.path, p.message))
