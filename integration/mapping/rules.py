"""The loaded mapping: status table, SKU policy, customers, shipping and field maps, as business verbs.

``load_mapping()`` reads the file named by ``SLSYNC_MAPPING_FILE`` (or the built-in ``default.yaml``),
validates it (``schema.check_text``) and refuses to start on any problem: a half-valid mapping would
write wrong orders quietly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from integration.canonical import Order
from integration.errors import ConfigError, NeedsReview
from integration.mapping.address import split_address
from integration.mapping.converters import CONVERTERS, NOTE
from integration.mapping.schema import CHANNELS, INVENTORY, SL_STATES, SOHEADER, STATUSES, check_text

# Older spellings (Orders v0, ORDER_CHANGE notifications) of the v2026 statuses and channels.
STATUS_ALIASES = {"PENDINGAVAILABILITY": "PENDING_AVAILABILITY", "PARTIALLYSHIPPED": "PARTIALLY_SHIPPED",
                  "CANCELED": "CANCELLED"}
CHANNEL_ALIASES = {"MERCHANT": "MFN", "AMAZON": "AFN"}


class Marketplace(NamedTuple):
    zone: ZoneInfo
    tax_mode: str            # facilitator | seller
    tax_id: str              # SalesTax.TaxId
    prices_include_tax: bool


DEFAULT_MARKETPLACE = {"time_zone": "UTC", "tax_mode": "facilitator", "tax_id": "AMZMF"}
DEFAULT_CHARGES = {"GIFT_WRAP": "GIFTWRAP", "COD_FEE": "CODFEE", "OTHER": "AMZOTHER", "DELIVERY_TIP": "AMZTIP"}


class Carrier(NamedTuple):
    carrier_code: str
    carrier_name: str
    shipping_method: str


def _key(text: str) -> str:
    return "".join(c for c in str(text).upper() if c.isalnum() or c == "_")


# Used where a mapping file predates the sites section.
DEFAULT_SITES = {"ship_from": {"MFN": "MAIN", "AFN": "FBA"}, "groups": {"MFN": ["MAIN", "WEST"], "AFN": ["FBA"]}}


@dataclass(frozen=True)
class Mapping:
    data: dict
    source: str

    @property
    def company(self) -> str:
        return self.data["company"]

    def status_rows(self) -> list[tuple[str, str, str, str]]:
        """(status, channel, sl_state, action) for every cell, in file order, for display."""
        return [(status, channel, state, actions[state])
                for status, channels in self.data["status_table"].items()
                for channel, actions in channels.items() for state in SL_STATES]

    @property
    def history(self) -> str:
        """What is done with an order Amazon shipped or cancelled before go-live that SL never saw (skip)."""
        return self.data.get("history") or "skip"

    def action_for(self, status: str, channel: str, *, sl_state: str) -> str:
        """What to do in SL for an Amazon ``status`` on ``channel`` (MFN/AFN) given what SL has now."""
        key = _key(status)
        key = STATUS_ALIASES.get(key.replace("_", ""), key)
        ch = CHANNEL_ALIASES.get(_key(channel), _key(channel))
        if key not in self.data["status_table"]:
            raise NeedsReview("unmapped_status", f"Amazon status {status!r} is not in the mapping's status table",
                              fields=["status"])
        if ch not in CHANNELS or sl_state not in SL_STATES:
            raise ValueError(f"channel must be one of {CHANNELS}, sl_state one of {SL_STATES}")
        row = self.data["status_table"][key]
        return (row.get(ch) or row["any"])[sl_state]

    def marketplace(self, marketplace_id: str) -> Marketplace:
        """Time zone and tax treatment of a marketplace (the mapping's ``marketplaces``, else its ``default``)."""
        table = self.data.get("marketplaces") or {}
        entry = table.get(marketplace_id) or table.get("default") or DEFAULT_MARKETPLACE
        return Marketplace(ZoneInfo(entry["time_zone"]), entry["tax_mode"], entry["tax_id"],
                           bool(entry.get("prices_include_tax", False)))

    def misc_charge_for(self, kind: str) -> str:
        """The SL MiscChrgID an Amazon charge type (GIFT_WRAP, COD_FEE, OTHER, DELIVERY_TIP) is booked to."""
        found = (self.data.get("charges") or DEFAULT_CHARGES).get(kind)
        if not found:
            raise NeedsReview("unmapped_charge", f"no SL misc charge for Amazon charge {kind} (mapping: charges)",
                              fields=["charges"])
        return found

    @property
    def freight_terms(self) -> str:
        """SOHeader.FrtTermsID: SL freight terms that add nothing to Amazon's shipping charge (blank: none named)."""
        return self.data["shipping"].get("freight_terms", "")

    @property
    def cancel_days(self) -> int:
        return int((self.data.get("schedules") or {}).get("cancel_days") or 90)

    def customer_for(self, marketplace_id: str) -> str:
        """The SL CustID that orders from ``marketplace_id`` are booked to."""
        try:
            return self.data["customers"][marketplace_id]
        except KeyError:
            raise NeedsReview("unmapped_marketplace", f"no SL customer for marketplace {marketplace_id!r}",
                              fields=["marketplace_id"]) from None

    def ship_via_for(self, service_level: str) -> str:
        """SL ShipViaID for an Amazon service level (v2026 SECOND_DAY or v0 SecondDay alike)."""
        levels = {_key(k).replace("_", ""): v for k, v in self.data["shipping"]["service_levels"].items()}
        via = levels.get(_key(service_level or "").replace("_", "")) or self.data["shipping"].get("default_ship_via")
        if not via:
            raise NeedsReview("unmapped_service_level", f"no ShipViaID for service level {service_level!r}",
                              fields=["shipping_service_level"])
        return via

    def site_for(self, channel: str) -> str:
        """The SL SiteID an order's lines are booked to for a fulfillment channel (MFN/AFN)."""
        ch = CHANNEL_ALIASES.get(_key(channel), _key(channel))
        sites = self.data.get("sites") or DEFAULT_SITES
        return sites["ship_from"].get(ch) or sites["ship_from"]["MFN"]

    def site_group(self, name: str) -> list[str]:
        """The sites whose availability is summed for one channel (e.g. MFN)."""
        groups = (self.data.get("sites") or DEFAULT_SITES)["groups"]
        if name not in groups:
            raise NeedsReview("unmapped_site_group", f"no site group {name!r} in the mapping", fields=["sites"])
        return list(groups[name])

    def carrier_for(self, ship_via_id: str) -> Carrier:
        """What confirmShipment is told for an SL ShipViaID (carrier code, name, method)."""
        entry = self.data["shipping"]["carriers"].get(ship_via_id.strip())
        if entry is None:
            raise NeedsReview("unmapped_ship_via", f"no Amazon carrier for SL ShipViaID {ship_via_id!r}",
                              fields=["ShipViaID"])
        return Carrier(entry["carrier_code"], entry.get("carrier_name", ""), entry.get("shipping_method", ""))

    def resolve_sku(self, sku: str, *, find_invtid: Callable[[str], str | None],
                    find_xref: Callable[[str], str | None]) -> tuple[str, str]:
        """(InvtID, how it was found) for a seller SKU, trying the lookups in the file's order.

        The two callables come from the SL adapter, so this module stays free of SQL. An unknown SKU
        is held for review, or mapped to the ghost item when the policy says so.
        """
        policy = self.data["sku"]
        steps = {"invtid": find_invtid, "xref": find_xref, "map": lambda s: (policy.get("map") or {}).get(s)}
        for step in policy["lookup"]:
            found = steps[step](sku)
            if found:
                return found, step
        if policy["unknown_sku"] == "ghost":
            return policy["ghost_item"], "ghost"
        raise NeedsReview("unknown_sku", f"seller SKU {sku!r} matches no SL item", fields=["seller_sku"])

    def sl_order_fields(self, order: Order, *, measure: Callable[[str], int] = len) -> dict:
        """SOHeader values for ``order``: customer, ship via, ship-to block, mapped fields and ``note``. ``measure``:
        a text's width in the SL database's units as written (``text.CodePage.measure``: bytes on a double-byte code
        page), which the ship-to block is fitted with; ``len`` for a Unicode database."""
        values: dict = {"CustID": self.customer_for(order.marketplace_id),
                        "ShipViaID": self.ship_via_for(order.shipping_service_level)}
        notes: list[str] = []
        if order.ship_to is not None:
            block = split_address(order.ship_to, measure=measure)
            notes += [block.pop("note")] if block["note"] else []
            block.pop("note", None)
            values.update(block)
        for row in self.data["order_fields"]:
            column = NOTE if row["to"] == "note" else SOHEADER[row["to"]]
            value, note = CONVERTERS[row["convert"]](getattr(order, row["from"]), column, row["from"])
            if row["to"] != "note" and value is not None:
                values[row["to"]] = value
            if note:
                notes.append(note)
        values["note"] = "\n".join(notes)
        return values

    @property
    def settlements(self) -> dict:
        """The ``settlements`` section: GL accounts and rules (compiled by ``integration.settlements.accounts``);
        empty when the file predates it (the built-in default's section then applies)."""
        return self.data.get("settlements") or {}

    def listing_attributes(self, item: dict) -> dict:
        """Amazon listing attribute values from an SL Inventory row (column name -> value)."""
        out = {}
        for row in self.data.get("listing_attributes") or []:
            value, _ = CONVERTERS[row["convert"]](item.get(row["from"]), INVENTORY[row["from"]]._replace(width=10**6),
                                                  row["from"])
            if value not in (None, ""):
                out[row["to"]] = value
        return out


def default_mapping_text() -> str:
    return resources.files("integration.mapping").joinpath("default.yaml").read_text(encoding="utf-8")


def load_mapping(path: str | Path | None = None) -> Mapping:
    """Load and validate the mapping file (``settings().mapping_file`` when ``path`` is None; "" = built-in).

    Raises ``ConfigError`` listing every problem with its line number.
    """
    if path is None:
        from integration.config import settings

        path = settings().mapping_file
    if path:
        try:
            text, source = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise ConfigError(f"SLSYNC_MAPPING_FILE {path!r} cannot be read: {exc}") from None
    else:
        text, source = default_mapping_text(), "built-in default.yaml"
    data, problems = check_text(text)
    if problems:
        raise ConfigError(f"mapping file {source} has {len(problems)} problem(s):\n"
                          + "\n".join(str(p) for p in problems))
    return Mapping(data=data, source=source)


__all__ = ["Carrier", "Mapping", "STATUSES", "default_mapping_text", "load_mapping"]
