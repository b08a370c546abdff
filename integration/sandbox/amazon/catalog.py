"""The simulated seller's SKU catalog, shared with the SL sandbox seeding.

``catalog(seed)`` is deterministic. The *structure* (which SKUs exist, which SL item each maps to, MFN or AFN)
is the same for every seed, so the SL sandbox and the simulator agree even if they were started with different
seeds; the seed varies titles and prices only.

- 80 SL items ``WIDGET-0001`` .. ``WIDGET-0080``;
- 72 Amazon SKUs equal to an SL InvtID (``WIDGET-0001``), 8 cross-referenced ones (``AMZ-WIDGET-0005-BL`` ->
  ``WIDGET-0005``) and 6 SKUs unknown to SL (``NEWSKU-0001``, ``sl_invtid`` None);
- every fourth SKU is fulfilled by Amazon (AFN), the rest by the merchant (MFN).
"""

from __future__ import annotations

import random
from decimal import Decimal

SL_ITEMS = 80
UNKNOWN_SKUS = 6
_NOUNS = ["Widget", "Gadget", "Sprocket", "Bracket", "Flange", "Gasket", "Hinge", "Lamp", "Mug", "Kettle",
          "Notebook", "Cable", "Adapter", "Charger", "Mat", "Tray"]
_ADJ = ["Compact", "Deluxe", "Heavy-Duty", "Ergonomic", "Stainless", "Crème", "Große", "Premium", "Travel",
        "Eco", "Industrial", "Mini", "Señor", "Classic"]
_COLOURS = ["Black", "Blue", "Red", "Green", "White", "Grey"]


def invtid(n: int) -> str:
    """The SL InvtID of item ``n`` (1-based): ``WIDGET-0001``."""
    return f"WIDGET-{n:04d}"


def _is_cross_referenced(n: int) -> bool:
    return n % 10 == 5  # 5, 15, ..., 75: eight SKUs whose Amazon SKU differs from the InvtID


def catalog(seed: int = 1) -> list[dict]:
    """Every SKU of the simulated seller: sku, asin, title, price (Decimal str), fulfillment, sl_invtid, fnsku."""
    rnd = random.Random(f"catalog:{seed}")
    rows = []
    for n in range(1, SL_ITEMS + UNKNOWN_SKUS + 1):
        known = n <= SL_ITEMS
        colour = _COLOURS[n % len(_COLOURS)]
        if not known:
            sku, sl = f"NEWSKU-{n - SL_ITEMS:04d}", None
        elif _is_cross_referenced(n):
            sku, sl = f"AMZ-{invtid(n)}-{colour[:2].upper()}", invtid(n)
        else:
            sku, sl = invtid(n), invtid(n)
        title = f"{rnd.choice(_ADJ)} {rnd.choice(_NOUNS)} {n:03d}, {colour}"
        if n % 13 == 0:  # a few long titles, as real listings have
            title += " - with extended warranty, spare parts kit and multilingual manual (EN/DE/FR/ES/JP)"
        price = (Decimal(rnd.randint(499, 14999)) / 100).quantize(Decimal("0.01"))
        rows.append({
            "sku": sku,
            "asin": f"B0{(n * 7919 + 104729) % 10**8:08d}",
            "fnsku": f"X00{n:07d}",
            "title": title,
            "price": str(price),
            "fulfillment": "AFN" if n % 4 == 0 else "MFN",
            "sl_invtid": sl,
        })
    return rows


def by_sku(seed: int = 1) -> dict[str, dict]:
    return {row["sku"]: row for row in catalog(seed)}
