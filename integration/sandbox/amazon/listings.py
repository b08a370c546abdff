"""Listings Items 2021-08-01: one listing per catalog SKU; getListingsItem and patchListingsItem."""

from __future__ import annotations

import uuid

from integration.sandbox.amazon.state import iso
from integration.sandbox.amazon.wire import ApiError, Reply, Req, invalid

INCLUDED = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement", "relationships",
            "productTypes"}


def seed_listings(state) -> None:
    for row in state.catalog:
        channel = "AMAZON_NA" if row["fulfillment"] == "AFN" else "DEFAULT"
        state.listings[row["sku"]] = {
            "productType": "PRODUCT", "created": state.clock.start, "updated": state.clock.start,
            "attributes": {
                "item_name": [{"value": row["title"], "language_tag": "en_US"}],
                "fulfillment_availability": [{"fulfillment_channel_code": channel,
                                              "quantity": 0 if channel != "DEFAULT" else state.rnd.randint(0, 50)}],
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
        elif p.get("op") in ("add", "replace", "merge") and isinstance(p.get("value"), list):
            listing["attributes"][name] = p["value"]
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
    if not issues and not preview:
        listing["attributes"] = trial["attributes"]
        listing["updated"] = state.now()
    status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
    return Reply(200, {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues})
