"""Selling Partner API roles: which role an operation and a piece of buyer data need.

No API lists the roles an application was granted; a missing role shows as data that is simply absent (Orders
v2026-01-01 leaves out the delivery address's name, lines and phone without the Direct-to-Consumer Delivery role;
the buyer's identity without a tax role) or as a 403 ``Unauthorized`` that a fresh token does not cure. The product
names the role in the hold or alert, from these tables (Amazon's "Roles in the Selling Partner API" guide; the
Orders v2026-01-01 migration guide: "Role-based permissions replace Restricted Data Token generation").
"""

from __future__ import annotations

INVENTORY_AND_ORDER_TRACKING = "Inventory and Order Tracking"
DIRECT_TO_CONSUMER_DELIVERY = "Direct-to-Consumer Delivery (Restricted)"
TAX_INVOICING = "Tax Invoicing (Restricted)"
PRODUCT_LISTING = "Product Listing"
AMAZON_FULFILLMENT = "Amazon Fulfillment"
FINANCE_AND_ACCOUNTING = "Finance and Accounting"
SELLING_PARTNER_INSIGHTS = "Selling Partner Insights"

ALL = (INVENTORY_AND_ORDER_TRACKING, DIRECT_TO_CONSUMER_DELIVERY, TAX_INVOICING, PRODUCT_LISTING, AMAZON_FULFILLMENT,
       FINANCE_AND_ACCOUNTING, SELLING_PARTNER_INSIGHTS)

# Operation -> the role Amazon checks for it (None: any role, or a grantless operation).
OPERATIONS: dict[str, str | None] = {
    "searchOrders": INVENTORY_AND_ORDER_TRACKING,
    "getOrder": INVENTORY_AND_ORDER_TRACKING,
    "confirmShipment": INVENTORY_AND_ORDER_TRACKING,
    "createReport": FINANCE_AND_ACCOUNTING,
    "getReports": FINANCE_AND_ACCOUNTING,
    "getReport": FINANCE_AND_ACCOUNTING,
    "cancelReport": FINANCE_AND_ACCOUNTING,
    "getReportDocument": FINANCE_AND_ACCOUNTING,
    "createFeedDocument": PRODUCT_LISTING,
    "createFeed": PRODUCT_LISTING,
    "getFeed": PRODUCT_LISTING,
    "getFeedDocument": PRODUCT_LISTING,
    "getListingsItem": PRODUCT_LISTING,
    "patchListingsItem": PRODUCT_LISTING,
    "getInventorySummaries": AMAZON_FULFILLMENT,
    "getMarketplaceParticipations": None,
    "getDestinations": None,
    "createDestination": None,
    "deleteDestination": None,
    "getSubscription": None,
    "createSubscription": None,
    "deleteSubscriptionById": None,
}

# Orders v2026-01-01 fields Amazon leaves out without a role (dotted paths inside an Order).
RESTRICTED_FIELDS: dict[str, tuple[str, ...]] = {
    DIRECT_TO_CONSUMER_DELIVERY: ("recipient.deliveryAddress.name", "recipient.deliveryAddress.addressLine1",
                                  "recipient.deliveryAddress.addressLine2", "recipient.deliveryAddress.addressLine3",
                                  "recipient.deliveryAddress.phone", "recipient.deliveryAddress.companyName",
                                  "recipient.deliveryAddress.addressType"),
    TAX_INVOICING: ("buyer.buyerName", "buyer.buyerCompanyName", "buyer.buyerPurchaseOrderNumber"),
}


# What an MFN order cannot ship without, of the fields the delivery role gates: someone to deliver to, and a street.
# (Amazon suppresses ``phone`` on its own for shipped orders past their delivery date; the model, CustomerAddress.)
SHIPPABLE_NAME = ("recipient.deliveryAddress.name", "recipient.deliveryAddress.companyName")
SHIPPABLE_STREET = ("recipient.deliveryAddress.addressLine1", "recipient.deliveryAddress.addressLine2",
                    "recipient.deliveryAddress.addressLine3")


def slug(role: str) -> str:
    """``Direct-to-Consumer Delivery (Restricted)`` -> ``direct-to-consumer-delivery-restricted`` (for flags)."""
    return "-".join("".join(c if c.isalnum() else " " for c in role.lower()).split())


def parse(text: str) -> tuple[str, ...]:
    """Roles from a comma-separated list (``slsync amazon-sim --roles``): full names in any case, their slugs, or a
    word that only one role's slug contains (``delivery``, ``tax``, ``fulfillment``); ``all`` and ``none`` as such.
    Raises ValueError naming what it does not know."""
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    if [w.lower() for w in wanted] == ["all"]:
        return ALL
    if not wanted or [w.lower() for w in wanted] == ["none"]:
        return ()
    found: list[str] = []
    for word in wanted:
        matches = [r for r in ALL if slug(r) == slug(word)] or [r for r in ALL if slug(word) in slug(r)]
        if len(matches) != 1:
            raise ValueError(f"unknown role {word!r}; roles: {', '.join(ALL)}")
        found.append(matches[0])
    return tuple(dict.fromkeys(found))


def for_operation(op: str) -> str | None:
    """The role ``op`` needs, or None."""
    return OPERATIONS.get(op)


def for_field(path: str) -> str | None:
    """The role without which Amazon leaves the field at ``path`` (dotted, inside an Order) out, or None."""
    for role, paths in RESTRICTED_FIELDS.items():
        if path in paths:
            return role
    return None
