"""FBA Inventory v1: stock levels of the AFN SKUs (fulfillable, reserved, inbound)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from integration.amazon.paging import Page, items, pages


@dataclass(frozen=True)
class FbaStock:
    sku: str
    asin: str
    fnsku: str
    fulfillable: int
    reserved: int
    inbound_working: int
    inbound_shipped: int
    inbound_receiving: int
    unfulfillable: int
    total: int
    updated: str


class FbaInventory:
    def __init__(self, transport, marketplace_ids: tuple[str, ...]):
        self.t, self.marketplace_ids = transport, marketplace_ids

    def summaries(self, **filters) -> Iterator[FbaStock]:
        """Every FBA SKU's quantities in one marketplace (every page fetched as you iterate)."""
        return items(self.summary_pages(**filters))

    def summary_pages(self, *, marketplace_id: str | None = None, skus: Iterable[str] = (),
                      start_time: str | None = None, token: str = "") -> Iterator[Page]:
        """getInventorySummaries page by page; a page token lives only 30 s [§4.6], so a caller resuming later
        re-queries and skips what it had done."""
        market = marketplace_id or self.marketplace_ids[0]
        params = {"granularityType": "Marketplace", "granularityId": market, "marketplaceIds": market, "details": "true"}
        if skus:
            params["sellerSkus"] = ",".join(skus)
        if start_time:
            params["startDateTime"] = start_time

        def fetch(token: str) -> tuple[list, str]:
            body = self.t.call("getInventorySummaries", "GET", "/fba/inventory/v1/summaries",
                               params={**params, "nextToken": token} if token else params, shape=("payload",)).body
            found = [_stock(s) for s in body["payload"].get("inventorySummaries", [])]
            return found, (body.get("pagination") or {}).get("nextToken", "")
        return pages(fetch, token)


def _stock(s: dict) -> FbaStock:
    d = s.get("inventoryDetails") or {}
    return FbaStock(
        s.get("sellerSku", ""), s.get("asin", ""), s.get("fnSku", ""), d.get("fulfillableQuantity", 0),
        (d.get("reservedQuantity") or {}).get("totalReservedQuantity", 0),
        d.get("inboundWorkingQuantity", 0), d.get("inboundShippedQuantity", 0),
        d.get("inboundReceivingQuantity", 0),
        (d.get("unfulfillableQuantity") or {}).get("totalUnfulfillableQuantity", 0),
        s.get("totalQuantity", 0), s.get("lastUpdatedTime", ""))
