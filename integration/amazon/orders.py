"""Orders: v2026-01-01 searchOrders / getOrder (plain dicts in the official shape) and v0 confirmShipment."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from integration.amazon.ids import order_id as checked_order_id
from integration.amazon.ids import segment
from integration.amazon.paging import Page, items, pages

BASE = "/orders/2026-01-01/orders"
# What the sync needs to build a sales order; PII comes with roles, no RDT [reference §0.1].
DEFAULT_INCLUDED = ("BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES")


def amazon_time(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Orders:
    def __init__(self, transport, marketplace_ids: tuple[str, ...]):
        self.t, self.marketplace_ids = transport, tuple(marketplace_ids)

    def search(self, **filters) -> Iterator[dict]:
        """Orders (with their items) in a created or last-updated window; pages are fetched as you iterate."""
        return items(self.search_pages(**filters))

    def search_pages(self, *, created_after=None, created_before=None, last_updated_after=None,
                     last_updated_before=None, statuses: Iterable[str] = (), fulfilled_by: Iterable[str] = (),
                     marketplace_ids=None, included: Iterable[str] = DEFAULT_INCLUDED, page_size: int = 100,
                     token: str = "") -> Iterator[Page]:
        """searchOrders page by page, from ``token`` when resuming.

        Amazon wants exactly one of ``created_after`` / ``last_updated_after``, and a window end at least two
        minutes before now; every page repeats the same filters with the pagination token, which lives 24 hours
        [reference §4.2].
        """
        params: dict = {"marketplaceIds": ",".join(marketplace_ids or self.marketplace_ids),
                        "maxResultsPerPage": page_size}
        for name, value in (("createdAfter", created_after), ("createdBefore", created_before),
                            ("lastUpdatedAfter", last_updated_after), ("lastUpdatedBefore", last_updated_before)):
            if value is not None:
                params[name] = amazon_time(value)
        if statuses:
            params["fulfillmentStatuses"] = ",".join(statuses)
        if fulfilled_by:
            params["fulfilledBy"] = ",".join(fulfilled_by)
        if included:
            params["includedData"] = ",".join(included)

        def fetch(token: str) -> tuple[list, str]:
            query = {**params, "paginationToken": token} if token else params
            body = self.t.call("searchOrders", "GET", BASE, params=query, shape=("orders",)).body
            return body["orders"], (body.get("pagination") or {}).get("nextToken", "")
        return pages(fetch, token)

    def get(self, order_id: str, included: Iterable[str] = DEFAULT_INCLUDED) -> dict:
        """One order with its items, in the v2026-01-01 ``Order`` shape."""
        params = {"includedData": ",".join(included)} if included else None
        path = f"{BASE}/{segment(checked_order_id(order_id))}"   # checked before any call (ids.py)
        return self.t.call("getOrder", "GET", path, params=params, shape=("order",)).body["order"]

    def confirm_shipment(self, order_id: str, *, marketplace_id: str, package_reference_id: str | int,
                         carrier_code: str, tracking_number: str, ship_date: datetime | str,
                         items: Iterable[tuple[str, int]], carrier_name: str | None = None,
                         shipping_method: str | None = None) -> None:
        """Confirm one package of an MFN order; ``items`` are (orderItemId, quantity). 204 on success."""
        package = {"packageReferenceId": str(package_reference_id), "carrierCode": carrier_code,
                   "trackingNumber": tracking_number, "shipDate": amazon_time(ship_date),
                   "orderItems": [{"orderItemId": str(i), "quantity": int(q)} for i, q in items]}
        if carrier_name:
            package["carrierName"] = carrier_name
        if shipping_method:
            package["shippingMethod"] = shipping_method
        path = f"/orders/v0/orders/{segment(checked_order_id(order_id))}/shipmentConfirmation"
        self.t.call("confirmShipment", "POST", path,
                    body={"marketplaceId": marketplace_id, "packageDetail": package})
