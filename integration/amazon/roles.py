"""Selling Partner API roles: which role an operation and a piece of buyer data need.

No API lists the roles an application was granted; a missing role shows as data that is simply absent (Orders
v2026-01-01 leaves out the delivery address's name, lines and phone without the Direct-to-Consumer Delivery role;
the buyer's identity without a tax role) or as a 403 ``Unauthorized`` that a fresh token does not cure (for reports
and feeds, the role of the report or feed type). The product names the role in the hold or alert, from these
tables (Amazon's "Roles in the Selling Partner API" guide and report/feed type pages; the Orders v2026-01-01
migration guide: "Role-based permissions replace Restricted Data Token generation"). The simulator keeps its own
table (integration/sandbox/amazon/roles.py); tests/amazon/test_role_tables.py makes the two agree.
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

# Reports and feeds: Amazon checks the role of the report or feed TYPE, not of the operation ("Role Mappings for
# SP-API Operations"; every role with a report type lists createReport, getReports, ...): those operations are
# named here with None, and the caller names the type's role (``for_report_type`` / ``for_feed_type``, passed as
# ``Transport.call(..., role=...)``).
REPORT_OPERATIONS = frozenset({"createReport", "getReports", "getReport", "cancelReport", "getReportDocument"})
FEED_OPERATIONS = frozenset({"createFeedDocument", "createFeed", "getFeed", "cancelFeed", "getFeedDocument"})

# Operation -> the role Amazon checks for it (None: any role, a grantless operation, or a typed one above).
OPERATIONS: dict[str, str | None] = {
    "searchOrders": INVENTORY_AND_ORDER_TRACKING,
    "getOrder": INVENTORY_AND_ORDER_TRACKING,
    "confirmShipment": INVENTORY_AND_ORDER_TRACKING,
    **{op: None for op in REPORT_OPERATIONS | FEED_OPERATIONS},
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

# Report type -> the role Amazon checks (the report type pages' "Role:" line; sp-api.md §7.1 for settlements, silent
# on the others, so Amazon's guide). Where Amazon accepts several, the one named is the one this product's use fits.
REPORT_TYPES: dict[str, str] = {
    # order tracking reports (the backfill's all-orders report): Inventory and Order Tracking
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": INVENTORY_AND_ORDER_TRACKING,
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": INVENTORY_AND_ORDER_TRACKING,
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": INVENTORY_AND_ORDER_TRACKING,
    "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": INVENTORY_AND_ORDER_TRACKING,
    # settlement reports: Finance and Accounting (sp-api.md §7.1; the old flat file also takes two other roles)
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2": FINANCE_AND_ACCOUNTING,
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": FINANCE_AND_ACCOUNTING,
    "GET_V2_SETTLEMENT_REPORT_DATA_XML": FINANCE_AND_ACCOUNTING,
    # FBA inventory reports: Amazon Fulfillment
    "GET_AFN_INVENTORY_DATA": AMAZON_FULFILLMENT,
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": AMAZON_FULFILLMENT,
    "GET_FBA_MYI_ALL_INVENTORY_DATA": AMAZON_FULFILLMENT,
    # listings reports: Product Listing
    "GET_MERCHANT_LISTINGS_ALL_DATA": PRODUCT_LISTING,
    "GET_MERCHANT_LISTINGS_DATA": PRODUCT_LISTING,
}
# Feed type -> the role Amazon checks ("Feed Type Values"; sp-api.md §8 names none, so Amazon's guide).
FEED_TYPES: dict[str, str] = {
    "JSON_LISTINGS_FEED": PRODUCT_LISTING,
    # shipment confirmation by feed: Inventory and Order Tracking (Direct-to-Consumer Delivery is accepted too)
    "POST_ORDER_FULFILLMENT_DATA": INVENTORY_AND_ORDER_TRACKING,
}

# Orders v2026-01-01 fields Amazon leaves out without a role (dotted paths inside an Order).
RESTRICTED_FIELDS: dict[str, tuple[str, ...]] = {
    DIRECT_TO_CONSUMER_DELIVERY: ("recipient.deliveryAddress.name", "recipient.deliveryAddress.addressLine1",
                                  "recipient.deliveryAddress.addressLine2", "recipient.deliveryAddress.addressLine3",
                                  "recipient.deliveryAddress.phone", "recipient.deliveryAddress.companyName",
                                  "recipient.deliveryAddress.addressType"),
    # the item's gift message: "Personal message from the buyer" (orders_2026-01-01.json GiftOption), item-level
    # buyerInfo in v0 (sp-api.md §2.5), gated by the tax roles there; no other role named in v2026
    TAX_INVOICING: ("buyer.buyerName", "buyer.buyerCompanyName", "buyer.buyerPurchaseOrderNumber",
                    "orderItems[].fulfillment.packing.giftOption.giftMessage"),
}


# What an MFN order cannot ship without, of the fields the delivery role gates: someone to deliver to, and a street.
# (Amazon suppresses ``phone`` on its own for shipped orders past their delivery date; the model, CustomerAddress.)
SHIPPABLE_NAME = ("recipient.deliveryAddress.name", "recipient.deliveryAddress.companyName")
SHIPPABLE_STREET = ("recipient.deliveryAddress.addressLine1", "recipient.deliveryAddress.addressLine2",
                    "recipient.deliveryAddress.addressLine3")


def for_operation(op: str) -> str | None:
    """The role ``op`` needs, or None (also for reports and feeds, whose role is their type's)."""
    return OPERATIONS.get(op)


def for_report_type(report_type: str) -> str | None:
    """The role Amazon checks for a report of ``report_type`` (createReport, getReports, getReport,
    getReportDocument), or None for a type this table does not know."""
    return REPORT_TYPES.get(report_type)


def for_feed_type(feed_type: str) -> str | None:
    """The role Amazon checks for a feed of ``feed_type`` (createFeedDocument, createFeed, getFeed, ...)."""
    return FEED_TYPES.get(feed_type)


def for_field(path: str) -> str | None:
    """The role without which Amazon leaves the field at ``path`` (dotted, inside an Order) out, or None."""
    for role, paths in RESTRICTED_FIELDS.items():
        if path in paths:
            return role
    return None
