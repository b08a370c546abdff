"""Which roles did the seller grant this application? No SP-API operation says, so ``slsync amazon check`` infers it.

A missing role shows in two ways (integration.amazon.roles): an operation that needs it answers 403 Unauthorized,
or Orders v2026-01-01 leaves the restricted fields out of an order without any error (sp-api.md §2.5). So one cheap
call per role family is made and read: searchOrders for one recent merchant-fulfilled order with RECIPIENT and
BUYER (its answer, and what the order carries), getReports for a settlement type (Amazon checks a report type's
role), getInventorySummaries and getListingsItem (one page, one row). One call each, whatever the outcome: the limits that matter (searchOrders: one request per 180 s after a
burst of 20) are shared with the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from integration.amazon import roles
from integration.errors import SyncError, Transient

LOOKBACK = timedelta(days=30)
PROBE_SKU = "slsync-role-probe"   # a SKU no seller has: 404 means the call was allowed
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# Amazon checks the role of the report TYPE (roles.REPORT_TYPES), so a role is probed with getReports filtered to a
# type that role opens: a settlement type for Finance and Accounting (a 403 there says nothing about the others).
REPORT_PROBES = {roles.FINANCE_AND_ACCOUNTING: SETTLEMENT}


@dataclass(frozen=True)
class Finding:
    role: str
    verdict: str      # granted, missing, unknown, not checked
    why: str

    def __str__(self) -> str:
        return f"{self.verdict} ({self.why})"


def _refused(exc: SyncError) -> bool:
    """Amazon's answer to a call the application has no role for: 403 Unauthorized, which a new token did not cure."""
    if isinstance(exc, Transient):
        return False
    return exc.details.get("status") == 403 or bool(exc.details.get("role")) or "(403)" in exc.message


def _probe(role: str, op: str, call: Callable, fn: Callable, *, not_found_is_allowed=False) -> tuple[Finding, object]:
    try:
        result = call(fn)
    except SyncError as exc:
        if _refused(exc):
            return Finding(role, "missing", f"inferred: 403 on {op}"), None
        if not_found_is_allowed and exc.details.get("status") == 404:
            return Finding(role, "granted", f"inferred: {op} was allowed (404 for a SKU that does not exist)"), None
        return Finding(role, "unknown", f"{op} failed: {exc.kind}: {exc.message[:120]}"), None
    return Finding(role, "granted", f"inferred: {op} answered"), result


def _orders(client, call: Callable) -> list[Finding]:
    now = client.server_now(fresh=True)
    first = lambda: next(iter(client.orders.search_pages(  # noqa: E731
        created_after=now - LOOKBACK, statuses=("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"),
        fulfilled_by=("MERCHANT",), included=("RECIPIENT", "BUYER"), page_size=1)))
    found, page = _probe(roles.INVENTORY_AND_ORDER_TRACKING, "searchOrders", call, first)
    buyer_data = (roles.DIRECT_TO_CONSUMER_DELIVERY, roles.TAX_INVOICING)
    if page is None:
        return [found] + [Finding(r, "unknown", f"no order to look at; searchOrders: {found.why}")
                          for r in buyer_data]
    if not page.items:
        why = f"no order to look at: no merchant-fulfilled order to ship in the last {LOOKBACK.days} days"
        return [found] + [Finding(r, "unknown", why) for r in buyer_data]
    order = page.items[0]
    oid = order.get("orderId", "?")
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    has = [p for p in (roles.SHIPPABLE_NAME[0], roles.SHIPPABLE_STREET[0]) if address.get(p.rsplit(".", 1)[1])]
    delivery = (Finding(roles.DIRECT_TO_CONSUMER_DELIVERY, "granted",
                        f"inferred: order {oid} came with the ship-to name and street")
                if len(has) == 2 else
                Finding(roles.DIRECT_TO_CONSUMER_DELIVERY, "missing",
                        f"inferred: order {oid} came without " + ", ".join(
                            p for p in (roles.SHIPPABLE_NAME[0], roles.SHIPPABLE_STREET[0]) if p not in has)))
    named = bool((order.get("buyer") or {}).get("buyerName"))
    tax = Finding(roles.TAX_INVOICING, "granted" if named else "missing",
                  f"inferred: order {oid} came {'with' if named else 'without'} buyer.buyerName")
    return [found, delivery, tax]


def infer(client, call: Callable | None = None) -> list[Finding]:
    """One finding per role (``roles.ALL`` order). ``call(fn)`` runs each probe (a command waits out a short
    rate-limit pause with it)."""
    call = call or (lambda fn: fn())
    client.transport.quiet = True      # a refusal here is the answer sought, not an alert for the operator
    try:
        return _infer(client, call)
    finally:
        client.transport.quiet = False


def _infer(client, call: Callable) -> list[Finding]:
    findings = {f.role: f for f in _orders(client, call)}
    for role, report_type in REPORT_PROBES.items():
        findings[role] = _probe(role, "getReports", call,
                                lambda t=report_type: next(iter(client.reports.list_pages([t], page_size=1))))[0]
    findings[roles.AMAZON_FULFILLMENT] = _probe(
        roles.AMAZON_FULFILLMENT, "getInventorySummaries", call, lambda: next(iter(client.fba.summary_pages())))[0]
    listing = _probe(roles.PRODUCT_LISTING, "getListingsItem", call, lambda: client.listings.get(PROBE_SKU),
                     not_found_is_allowed=True)[0]
    if listing.verdict == "missing":
        listing = Finding(listing.role, "missing", listing.why + " (or SPAPI_SELLER_ID is not this seller's id)")
    findings[roles.PRODUCT_LISTING] = listing
    for role in roles.ALL:
        findings.setdefault(role, Finding(role, "not checked", "slsync calls no operation that needs it"))
    return [findings[r] for r in roles.ALL]
