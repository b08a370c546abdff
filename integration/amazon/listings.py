"""Listings Items 2021-08-01: read a listing, patch its attributes (quantity, price)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from integration.amazon import ids


@dataclass(frozen=True)
class Submission:
    sku: str
    status: str  # ACCEPTED | INVALID | VALID
    submission_id: str
    issues: list = field(default_factory=list)


class Listings:
    def __init__(self, transport, seller_id: str, marketplace_ids: tuple[str, ...]):
        self.t, self.seller_id, self.marketplace_ids = transport, seller_id, marketplace_ids

    def _path(self, sku: str) -> str:
        # SKUs with special characters must be URL-encoded [reference §4.5]: quoted, never narrowed
        seller = ids.segment(ids.seller_id(self.seller_id))
        return f"/listings/2021-08-01/items/{seller}/{ids.segment(ids.sku(sku))}"

    def get(self, sku: str, included: Iterable[str] = ("summaries", "attributes", "fulfillmentAvailability")) -> dict:
        params = {"marketplaceIds": ",".join(self.marketplace_ids), "includedData": ",".join(included)}
        return self.t.call("getListingsItem", "GET", self._path(sku), params=params, shape=("sku",)).body

    def patch(self, sku: str, patches: list[dict], *, product_type: str = "PRODUCT",
              validate_only: bool = False) -> Submission:
        params = {"marketplaceIds": ",".join(self.marketplace_ids)}
        if validate_only:
            params["mode"] = "VALIDATION_PREVIEW"
        body = self.t.call("patchListingsItem", "PATCH", self._path(sku), params=params,
                           body={"productType": product_type, "patches": patches},
                           shape=("sku", "status", "submissionId")).body
        return Submission(body["sku"], body["status"], body["submissionId"], body.get("issues", []))

    def set_quantity(self, sku: str, quantity: int, *, product_type: str = "PRODUCT") -> Submission:
        """The seller-fulfilled (DEFAULT channel) quantity of one SKU. ``merge``, not ``replace``: the seller's handling
        time and restock date on the same entry stay as they are (listingsItems_2021-08-01.json PatchOperation).
        Amazon applies an ACCEPTED patch later, so a read right after may still show the old quantity [§4.5]."""
        return self.patch(sku, [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                 "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": int(quantity)}]}],
                          product_type=product_type)
