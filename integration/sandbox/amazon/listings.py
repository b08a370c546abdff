"""Listings Items 2021-08-01: one listing per catalog SKU; getListingsItem and patchListingsItem.

As at Amazon, a patch is checked when it arrives (INVALID with its issues, or VALID for ``VALIDATION_PREVIEW``)
but ACCEPTED "only means accepted for processing" [reference §4.5, G-listings-2021]: it takes effect
``state.listings_delay`` simulated seconds later (``APPLY_AFTER`` by default), and getListingsItem shows the old
values until then. ``merge`` keeps what it does not name (the entries of the attribute it does not match, and
the fields of a matched entry it does not give: the lead time and restock date of a ``fulfillment_availability``
whose quantity it sets); ``add`` and ``replace`` put the value in place of the attribute; ``delete`` removes it
[listingsItems_2021-08-01.json PatchOperation: "The `merge` operation merges the target property";
"The `replace` operation adds or replaces the target property"].
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from integration.sandbox.amazon.state import iso, on_tick
from integration.sandbox.amazon.wire import ApiError, Reply, Req, invalid

INCLUDED = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement", "relationships",
            "productTypes"}
APPLY_AFTER = timedelta(minutes=2)
# The fields that say which entry of a multi-valued attribute a merged value is (the channel of a
# fulfillment_availability, the marketplace and currency of a purchasable_offer, the language of a text).
SELECTORS = ("fulfillment_channel_code", "marketplace_id", "language_tag", "currency", "audience")


def seed_listings(state) -> None:
    for row in state.catalog:
        channel = "AMAZON_NA" if row["fulfillment"] == "AFN" else "DEFAULT"
        state.listings[row["sku"]] = {
            "productType": "PRODUCT", "created": state.clock.start, "updated": state.clock.start,
            "attributes": {
                "item_name": [{"value": row["title"], "language_tag": "en_US"}],
                "fulfillment_availability": [{"fulfillment_channel_code": channel,
                                              "quantity": 0 if channel != "DEFAULT" else state.rnd.randint(0, 50),
                                              **({"lead_time_to_ship_max_days": 2} if channel == "DEFAULT" else {})}],
                "purchasable_offer": [{"marketplace_id": state.marketplace_ids[0], "currency": "USD",
                                       "our_price": [{"schedule": [{"value_with_tax": float(row["price"])}]}]}],
            },
        }


def quantity(listing: dict) -> int | None:
    for fa in listing["attributes"].get("fulfillment_availability", []):
        if fa.get("fulfillment_channel_code") == "DEFAULT":
            return fa.get("quantity")
    return None


def render(state, sku: str, included: set[str]) -> dict:
    listing, row = state.listings[sku], state.by_sku.get(sku, {})
    out: dict = {"sku": sku}
    if "summaries" in included:
        out["summaries"] = [{"marketplaceId": state.marketplace_ids[0], "asin": row.get("asin"),
                             "productType": listing["productType"], "conditionType": "new_new",
                             "status": ["BUYABLE", "DISCOVERABLE"], "itemName": row.get("title", sku),
                             "createdDate": iso(listing["created"]), "lastUpdatedDate": iso(listing["updated"])}]
    if "attributes" in included:
        out["attributes"] = listing["attributes"]
    if "issues" in included:
        out["issues"] = []
    if "fulfillmentAvailability" in included:
        out["fulfillmentAvailability"] = [{"fulfillmentChannelCode": fa["fulfillment_channel_code"],
                                           "quantity": fa.get("quantity", 0)}
                                          for fa in listing["attributes"].get("fulfillment_availability", [])]
    if "offers" in included:
        out["offers"] = [{"marketplaceId": state.marketplace_ids[0], "offerType": "B2C",
                          "price": {"currencyCode": "USD", "amount": row.get("price", "0.00")}}]
    return out


def _check_seller(sim, req: Req) -> None:
    if req.args["sellerId"] != sim.state.seller_id:
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied.",
                       "The seller id does not match the authorized selling partner.")
    if not req.many("marketplaceIds"):
        raise invalid("marketplaceIds is required.")


def get_listings_item(sim, req: Req) -> Reply:
    _check_seller(sim, req)
    sku = req.args["sku"]
    if sku not in sim.state.listings:
        raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {req.many('marketplaceIds')[0]}")
    included = set(req.many("includedData") or ["summaries"])
    if included - INCLUDED:
        raise invalid(f"Invalid includedData: {', '.join(sorted(included - INCLUDED))}")
    return Reply(200, render(sim.state, sku, included))


def _merge(old: list, new: list) -> list:
    """``merge``: each new entry updates the old entry with the same selectors (keeping the fields it does not
    give), or is added; old entries it does not match stay."""
    out = [dict(e) if isinstance(e, dict) else e for e in old]
    for entry in new:
        key = {k: entry[k] for k in SELECTORS if k in entry}
        match = next((e for e in out if isinstance(e, dict) and key and all(e.get(k) == v for k, v in key.items())),
                     None)
        if match is None:
            out.append(dict(entry))
        else:
            match.update(entry)
    return out


def apply_patches(listing: dict, patches: list[dict]) -> list[dict]:
    """Apply JSON-patch-like operations on top-level attributes; returns issues for the ones refused."""
    issues = []
    for p in patches:
        path = str(p.get("path", ""))
        name = path.removeprefix("/attributes/")
        if not path.startswith("/attributes/") or not name or "/" in name:
            issues.append({"code": "4000001", "message": f"Only top-level attributes can be patched: {path!r}",
                           "severity": "ERROR", "attributeNames": [name], "categories": ["INVALID_ATTRIBUTE"]})
            continue
        if p.get("op") == "delete":
            listing["attributes"].pop(name, None)
        elif p.get("op") == "merge" and isinstance(p.get("value"), list):
            listing["attributes"][name] = _merge(listing["attributes"].get(name, []), p["value"])
        elif p.get("op") in ("add", "replace") and isinstance(p.get("value"), list):
            listing["attributes"][name] = [dict(e) if isinstance(e, dict) else e for e in p["value"]]
        else:
            issues.append({"code": "4000002", "message": f"Invalid patch operation {p.get('op')!r}",
                           "severity": "ERROR", "attributeNames": [name], "categories": ["INVALID_ATTRIBUTE"]})
    return issues


def patch_listings_item(sim, req: Req) -> Reply:
    _check_seller(sim, req)
    state, sku, body = sim.state, req.args["sku"], req.json()
    if not body.get("productType") or not isinstance(body.get("patches"), list) or not body["patches"]:
        raise invalid("productType and a non-empty patches array are required.")
    listing = state.listings.get(sku)
    if listing is None:
        return Reply(200, {"sku": sku, "status": "INVALID", "submissionId": uuid.uuid4().hex, "issues": [
            {"code": "4000003", "message": f"SKU '{sku}' does not exist; use putListingsItem to create it.",
             "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]})
    trial = {"attributes": dict(listing["attributes"])}
    issues = apply_patches(trial, body["patches"])
    preview = req.one("mode") == "VALIDATION_PREVIEW"
    submission = uuid.uuid4().hex
    if not issues and not preview:  # applied later, onto the listing as it is then (patches in arrival order)
        delay = getattr(state, "listings_delay", None)
        due = state.now() + (APPLY_AFTER if delay is None else timedelta(seconds=float(delay)))
        state.listing_patches = getattr(state, "listing_patches", [])
        state.listing_patches.append({"due": due, "sku": sku, "patches": body["patches"], "submissionId": submission})
    status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
    return Reply(200, {"sku": sku, "status": status, "submissionId": submission, "issues": issues})


@on_tick
def tick(state, now) -> None:
    """Apply the accepted patches whose time has come."""
    pending = getattr(state, "listing_patches", [])
    due = [p for p in pending if p["due"] <= now]
    if not due:
        return
    state.listing_patches = [p for p in pending if p["due"] > now]
    for p in due:
        listing = state.listings.get(p["sku"])
        if listing is not None and not apply_patches(listing, p["patches"]):
            listing["updated"] = p["due"]
