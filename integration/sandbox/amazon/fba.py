"""FBA inventory of the AFN SKUs: fulfillable, reserved, inbound; moves as AFN orders ship or cancel."""

from __future__ import annotations

from integration.sandbox.amazon.state import iso, on_tick
from integration.sandbox.amazon.wire import Reply, Req, invalid


def seed_inventory(state) -> None:
    for row in state.catalog:
        if row["fulfillment"] == "AFN":
            r = state.rnd
            state.fba[row["sku"]] = {"fulfillable": r.randint(20, 400), "reserved": 0, "working": r.choice((0, 0, 24)),
                                     "shipped": r.choice((0, 12, 48)), "receiving": r.choice((0, 0, 6)),
                                     "unfulfillable": r.choice((0, 0, 1, 3)), "updated": state.clock.start}


@on_tick
def tick(state, now) -> None:
    """Inbound stock moves one step per simulated day: working -> shipped -> receiving -> fulfillable."""
    day = int((now - state.clock.start).total_seconds() // 86400)
    while getattr(state, "fba_day", 0) < day:
        state.fba_day = getattr(state, "fba_day", 0) + 1
        for sku, inv in state.fba.items():
            if inv["working"] or inv["shipped"] or inv["receiving"]:
                inv["fulfillable"] += inv["receiving"]
                inv["working"], inv["shipped"], inv["receiving"] = 0, inv["working"], inv["shipped"]
                _changed(state, sku)


def _changed(state, sku: str) -> None:
    inv = state.fba[sku]
    inv["updated"] = state.now()
    if inv["updated"] < state.clock.start:
        return
    row = state.by_sku[sku]
    state.notify("FBA_INVENTORY_AVAILABILITY_CHANGES", {
        "SellerId": state.seller_id, "FNSKU": row["fnsku"], "ASIN": row["asin"], "SKU": sku,
        "FulfillmentInventoryByMarketplace": [{
            "MarketplaceId": state.marketplace_ids[0], "ItemName": row["title"],
            "FulfillmentInventory": {
                "InboundQuantityBreakdown": {"Working": inv["working"], "Shipped": inv["shipped"], "Receiving": inv["receiving"]},
                "Fulfillable": inv["fulfillable"], "Unfulfillable": inv["unfulfillable"], "Researching": 0,
                "ReservedQuantityBreakdown": {"WarehouseProcessing": 0, "WarehouseTransfer": 0,
                                              "PendingCustomerOrder": inv["reserved"]},
                "FutureSupplyBuyable": 0, "PendingCustomerOrderInTransit": 0}}]})


def reserve(state, order: dict) -> None:
    for item in order["items"]:
        if item["sku"] in state.fba:
            state.fba[item["sku"]]["reserved"] += item["qty"]
            _changed(state, item["sku"])


def shipped(state, sku: str, qty: int) -> None:
    inv = state.fba.get(sku)
    if inv is not None:
        inv["fulfillable"] = max(0, inv["fulfillable"] - qty)
        inv["reserved"] = max(0, inv["reserved"] - qty)
        _changed(state, sku)


def release(state, order: dict) -> None:
    for item in order["items"]:
        inv = state.fba.get(item["sku"])
        if inv is not None:
            inv["reserved"] = max(0, inv["reserved"] - (item["qty"] - item["shipped"]))
            _changed(state, item["sku"])


def _summary(state, sku: str, details: bool) -> dict:
    inv, row = state.fba[sku], state.by_sku[sku]
    out = {"asin": row["asin"], "fnSku": row["fnsku"], "sellerSku": sku, "condition": "NewItem",
           "lastUpdatedTime": iso(inv["updated"]), "productName": row["title"],
           "totalQuantity": inv["fulfillable"] + inv["reserved"] + inv["working"] + inv["shipped"] + inv["receiving"]
           + inv["unfulfillable"]}
    if details:
        out["inventoryDetails"] = {
            "fulfillableQuantity": inv["fulfillable"], "inboundWorkingQuantity": inv["working"],
            "inboundShippedQuantity": inv["shipped"], "inboundReceivingQuantity": inv["receiving"],
            "reservedQuantity": {"totalReservedQuantity": inv["reserved"], "pendingCustomerOrderQuantity": inv["reserved"],
                                 "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": 0},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": inv["unfulfillable"]}}
    return out


def get_inventory_summaries(sim, req: Req) -> Reply:
    state = sim.state
    if req.one("granularityType") != "Marketplace" or not req.one("granularityId") or not req.one("marketplaceIds"):
        raise invalid("granularityType=Marketplace, granularityId and marketplaceIds are required.")
    if len(req.many("marketplaceIds")) > 1:
        raise invalid("marketplaceIds accepts exactly one value.")
    wanted = req.many("sellerSkus") or ([req.one("sellerSku")] if req.one("sellerSku") else [])
    if len(wanted) > 50:
        raise invalid("sellerSkus accepts at most 50 values.")
    skus = sorted(s for s in state.fba if not wanted or s in wanted)
    token = req.one("nextToken")
    offset = 0
    if token:
        saved = state.pagination.get(token)
        if saved is None or saved["expires"] < state.now():
            raise invalid("The nextToken has expired or is invalid.")
        offset = saved["offset"]
    page = skus[offset:offset + 50]
    details = req.one("details", "false").lower() == "true"
    body = {"payload": {"granularity": {"granularityType": "Marketplace", "granularityId": req.one("granularityId")},
                        "inventorySummaries": [_summary(state, s, details) for s in page]}}
    if offset + 50 < len(skus):
        from datetime import timedelta
        nxt = state.next_id("fbainv-")
        state.pagination[nxt] = {"offset": offset + 50, "expires": state.now() + timedelta(seconds=30)}
        body["pagination"] = {"nextToken": nxt}
    return Reply(200, body)
