"""Published default SP-API rate limits: operation -> (rate per second, burst).

Source: the "Usage Plan" tables in the descriptions of Amazon's models (``integration/amazon/models``, and the
models of the APIs not shipped there).
Sellers may have higher limits; the client updates the bucket from ``x-amzn-RateLimit-Limit`` at run time.
"""

from __future__ import annotations

PUBLISHED: dict[str, tuple[float, int]] = {
    # Orders v2026-01-01 (reads) and v0 (writes; deprecated reads kept for completeness)
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "updateShipmentStatus": (5.0, 15),
    "confirmShipment": (2.0, 10),
    # Feeds 2021-06-30
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    # Reports 2021-06-30
    "createReport": (0.0167, 15),
    "getReports": (0.0222, 10),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "cancelReport": (0.0222, 10),
    # Listings Items 2021-08-01
    "getListingsItem": (5.0, 10),
    "putListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "deleteListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    # FBA Inventory v1, Catalog 2022-04-01, Tokens
    "getInventorySummaries": (2.0, 2),
    "getCatalogItem": (2.0, 2),
    "searchCatalogItems": (2.0, 2),
    "createRestrictedDataToken": (1.0, 10),
    # Notifications v1
    "createDestination": (1.0, 5),
    "getDestinations": (1.0, 5),
    "getDestination": (1.0, 5),
    "deleteDestination": (1.0, 5),
    "createSubscription": (1.0, 5),
    "getSubscription": (1.0, 5),
    "getSubscriptionById": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
    # Sellers
    "getMarketplaceParticipations": (0.016, 15),
    # Finances
    "listFinancialEventGroups": (0.5, 30),
    "listFinancialEvents": (0.5, 30),
}

# An operation missing from the table gets Amazon's sandbox figure, the most conservative common limit.
FALLBACK: tuple[float, int] = (5.0, 15)


def published(operation: str) -> tuple[float, int]:
    return PUBLISHED.get(operation, FALLBACK)
