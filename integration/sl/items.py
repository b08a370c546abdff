"""Which SL item an Amazon SKU is, by the configured policy (``ItemPolicy``).

SL's own customer-part lookup is ``DMG_ItemXref_Cust``: ``AlternateID = @x AND AltIDType = 'C' AND
EntityID = @CustID`` (reference §2.2); the reverse index ItemXRef2 (AlternateID, AltIDType, EntityID)
serves it. InvtID and AlternateID are CHAR(30): a longer SKU can only come from the mapping.
"""

from __future__ import annotations

from integration.errors import NeedsReview
from integration.sl.models import ItemPolicy
from integration.sl.rows import Rows

SL_ID_LENGTH = 30


def find_item(rows: Rows, sku: str, policy: ItemPolicy) -> str | None:
    """The InvtID for ``sku``, or None when no rule finds one. Ambiguous cross-references need review."""
    sku = sku.strip()
    for rule in policy.order:
        if rule == "map":
            found = policy.mapping.get(sku)
            if found and _exists(rows, found):
                return found
        elif len(sku) > SL_ID_LENGTH:
            continue
        elif rule == "invtid":
            if _exists(rows, sku):
                return sku
        elif rule == "xref":
            found = _xref(rows, sku, policy)
            if found:
                return found
        else:
            raise ValueError(f"unknown item policy rule {rule!r} (invtid, xref, map)")
    return None


def _exists(rows: Rows, invt_id: str) -> bool:
    return rows.scalar('SELECT 1 FROM "Inventory" WHERE "InvtID" = ?', [invt_id]) is not None


def _xref(rows: Rows, sku: str, policy: ItemPolicy) -> str | None:
    if not policy.xref_types:
        return None
    marks = ", ".join("?" for _ in policy.xref_types)
    found = rows.all(f'SELECT DISTINCT "InvtID", "AltIDType", "EntityID" FROM "ItemXRef" '
                     f'WHERE "AlternateID" = ? AND "AltIDType" IN ({marks})', [sku, *policy.xref_types])
    # Customer part numbers count only for our Amazon customer; global kinds for anyone.
    candidates = sorted({invt for invt, kind, entity in found if kind != "C" or entity == policy.entity_id})
    if len(candidates) > 1:
        raise NeedsReview("ambiguous_sku", f"SKU {sku!r} is an alternate id of several SL items: "
                          f"{', '.join(candidates)}", fields=("SKU",), details={"invt_ids": candidates})
    return candidates[0] if candidates else None


def items_for_skus(rows: Rows, skus: list[str], policy: ItemPolicy) -> dict[str, str | None]:
    return {sku: find_item(rows, sku, policy) for sku in skus}
