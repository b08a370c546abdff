"""The roles Amazon checks, written down for the simulator from Amazon's documentation.

Never imported from the product (``integration.amazon.roles``): a wrong entry there must not be wrong here too, or
the tests could not fail. tests/amazon/test_role_tables.py compares the two tables entry by entry.

Sources (Amazon's developer docs, as of 2026): "Selling Partner API Roles" (role definitions), "Role Mappings for
SP-API Operations" ("when an operation's table lists multiple roles, you must be authorized for at least one of the
roles ... operations that access restricted data (PII) typically require both a general role and a restricted
role"), the per-role pages ("Inventory and Order Tracking Role": API operations and types permitted), the report
type pages (each type carries a "Role:" line) and "Feed Type Values". sp-api.md §2.5 (restricted data), §7.1
(settlement types: Finance and Accounting). Where sp-api.md is silent, the entry says it follows Amazon's guide.

The Reports and Feeds operations themselves are listed under every role that has a report or feed type (the
"Inventory and Order Tracking Role" page lists createReport, getReports, createFeed, createFeedDocument, ...); what
Amazon checks is the role of the TYPE: createReport the body's reportType, getReports its reportTypes filter,
getReport / cancelReport / getReportDocument the report's type, createFeed the body's feedType, getFeed /
getFeedDocument the feed's type. A missing role is the same 403 ``Unauthorized`` either way.
"""

from __future__ import annotations

from integration.sandbox.amazon.wire import ApiError

INVENTORY_AND_ORDER_TRACKING = "Inventory and Order Tracking"
DIRECT_TO_CONSUMER_DELIVERY = "Direct-to-Consumer Delivery (Restricted)"
TAX_INVOICING = "Tax Invoicing (Restricted)"
PRODUCT_LISTING = "Product Listing"
AMAZON_FULFILLMENT = "Amazon Fulfillment"
FINANCE_AND_ACCOUNTING = "Finance and Accounting"
SELLING_PARTNER_INSIGHTS = "Selling Partner Insights"

ALL = (INVENTORY_AND_ORDER_TRACKING, DIRECT_TO_CONSUMER_DELIVERY, TAX_INVOICING, PRODUCT_LISTING, AMAZON_FULFILLMENT,
       FINANCE_AND_ACCOUNTING, SELLING_PARTNER_INSIGHTS)

REPORT_OPERATIONS = frozenset({"createReport", "getReports", "getReport", "cancelReport", "getReportDocument"})
FEED_OPERATIONS = frozenset({"createFeed", "getFeed", "cancelFeed", "getFeedDocument"})

# Report type -> the roles Amazon accepts for it (any one). The report type pages' "Role:" lines.
REPORT_TYPES: dict[str, tuple[str, ...]] = {
    # Order tracking reports (report-type-values-order, "Order Tracking Reports"; sp-api.md is silent on their role,
    # so Amazon's guide: order reports -> Inventory and Order Tracking). The Amazon Fulfillment role's definition
    # says it is "generally used for FBA Sales Reports, Order Tracking Reports"; the per-type line names Inventory
    # and Order Tracking, and that is what is modelled.
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": (INVENTORY_AND_ORDER_TRACKING,),
    # Restricted order reports with buyer PII (sp-api.md §2.5 lists them; "Role: Direct to Consumer Shipping
    # (Restricted)" on the order reports page): the general role AND the restricted one (RESTRICTED_REPORT_TYPES).
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING": (INVENTORY_AND_ORDER_TRACKING,),
    "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX": (INVENTORY_AND_ORDER_TRACKING,),
    # Settlement reports (sp-api.md §7.1: V2 "role Finance and Accounting"; report-type-values-settlement: the V2
    # flat file and the XML "Role: Finance and Accounting", the old flat file "Role: Inventory and Order Tracking,
    # Finance and Accounting, Amazon Fulfillment").
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2": (FINANCE_AND_ACCOUNTING,),
    "GET_V2_SETTLEMENT_REPORT_DATA_XML": (FINANCE_AND_ACCOUNTING,),
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": (INVENTORY_AND_ORDER_TRACKING, FINANCE_AND_ACCOUNTING,
                                                AMAZON_FULFILLMENT),
    # FBA reports (fba reports pages; sp-api.md is silent): inventory -> Amazon Fulfillment. The Amazon Fulfilled
    # Shipments report lists "Roles: Pricing, Amazon Fulfillment, Inventory and Order Tracking" (Pricing is not
    # modelled: nothing here calls an operation that needs it).
    "GET_AFN_INVENTORY_DATA": (AMAZON_FULFILLMENT,),
    "GET_AFN_INVENTORY_DATA_BY_COUNTRY": (AMAZON_FULFILLMENT,),
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": (AMAZON_FULFILLMENT,),
    "GET_FBA_MYI_ALL_INVENTORY_DATA": (AMAZON_FULFILLMENT,),
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": (AMAZON_FULFILLMENT,),
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL": (AMAZON_FULFILLMENT, INVENTORY_AND_ORDER_TRACKING),
    # Listings (inventory) reports (report-type-values-inventory; sp-api.md is silent): Product Listing.
    "GET_MERCHANT_LISTINGS_ALL_DATA": (PRODUCT_LISTING,),
    "GET_MERCHANT_LISTINGS_DATA": (PRODUCT_LISTING,),
    "GET_MERCHANT_LISTINGS_INACTIVE_DATA": (PRODUCT_LISTING,),
    "GET_MERCHANT_LISTINGS_DATA_LITE": (PRODUCT_LISTING,),
    "GET_FLAT_FILE_OPEN_LISTINGS_DATA": (PRODUCT_LISTING,),
}
# The restricted role a PII report also needs (sp-api.md §2.5: shipping -> Direct-to-Consumer Delivery, invoicing
# and tax -> the tax roles; "Role Mappings": restricted data needs both a general and a restricted role).
RESTRICTED_REPORT_TYPES: dict[str, str] = {
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": DIRECT_TO_CONSUMER_DELIVERY,
    "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING": DIRECT_TO_CONSUMER_DELIVERY,
    "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING": TAX_INVOICING,
    "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX": TAX_INVOICING,
}

# Feed type -> the roles Amazon accepts (any one). "Feed Type Values" and the role pages; sp-api.md §8 is silent on
# roles, so Amazon's guide: listings feeds -> Product Listing; order fulfillment (shipment confirmation) ->
# Inventory and Order Tracking or Direct-to-Consumer Delivery.
FEED_TYPES: dict[str, tuple[str, ...]] = {
    "JSON_LISTINGS_FEED": (PRODUCT_LISTING,),
    "POST_PRODUCT_DATA": (PRODUCT_LISTING,),
    "POST_INVENTORY_AVAILABILITY_DATA": (PRODUCT_LISTING,),
    "POST_FLAT_FILE_INVLOADER_DATA": (PRODUCT_LISTING,),
    "POST_ORDER_FULFILLMENT_DATA": (INVENTORY_AND_ORDER_TRACKING, DIRECT_TO_CONSUMER_DELIVERY),
    "POST_FLAT_FILE_FULFILLMENT_DATA": (INVENTORY_AND_ORDER_TRACKING, DIRECT_TO_CONSUMER_DELIVERY),
}

_ANY_REPORT_ROLE = tuple(dict.fromkeys(r for roles in REPORT_TYPES.values() for r in roles))
_ANY_FEED_ROLE = tuple(dict.fromkeys(r for roles in FEED_TYPES.values() for r in roles))

# Operation -> the roles Amazon accepts (any one); () = no role (grantless, or open to every application). For the
# report and feed operations this is only the gate before the type is known (any role that has such a type);
# the type's own entry decides (``missing``).
OPERATIONS: dict[str, tuple[str, ...]] = {
    # Orders: "Inventory and Order Tracking Role" lists getOrder(s), searchOrders (v2026-01-01) and confirmShipment.
    "searchOrders": (INVENTORY_AND_ORDER_TRACKING,),
    "getOrder": (INVENTORY_AND_ORDER_TRACKING,),
    "confirmShipment": (INVENTORY_AND_ORDER_TRACKING,),
    # Listings Items 2021-08-01: Product Listing (role definitions: "create and manage product listings").
    "getListingsItem": (PRODUCT_LISTING,),
    "patchListingsItem": (PRODUCT_LISTING,),
    # FBA Inventory v1: Amazon Fulfillment (role definitions: FBA).
    "getInventorySummaries": (AMAZON_FULFILLMENT,),
    # Reports and feeds: by type (above). createFeedDocument carries no type: any role that has a feed type.
    **{op: _ANY_REPORT_ROLE for op in REPORT_OPERATIONS},
    **{op: _ANY_FEED_ROLE for op in FEED_OPERATIONS},
    "createFeedDocument": _ANY_FEED_ROLE,
    # Sellers and Notifications: every application (the notifications destinations are grantless, sp-api.md §2.4).
    "getMarketplaceParticipations": (),
    "getDestinations": (),
    "createDestination": (),
    "deleteDestination": (),
    "getSubscription": (),
    "createSubscription": (),
    "deleteSubscriptionById": (),
}

# Orders v2026-01-01 fields Amazon leaves out without a role (dotted paths inside an Order; ``orderItems[]`` is every
# item). Without the delivery role a CustomerAddress keeps city, stateOrRegion, postalCode and countryCode
# (sp-api.md §2.5; Orders v2026-01-01 "Role-based permissions replace RDT generation").
# orderItems[].fulfillment.packing.giftOption.giftMessage: the model calls it a "Personal message from the buyer to be
# included with the gift-wrapped item" (ItemPacking.giftOption, orders_2026-01-01.json) -- text the buyer wrote,
# not a packing instruction, and v0 put the item-level gift message under the ``buyerInfo`` data element, which the
# tax roles gate (sp-api.md §2.5). The v2026 model names no other role, so the simulator keeps v0's: without Tax
# Invoicing the message is absent; giftWrapLevel (how to wrap) stays, as it is needed to pack the item.
RESTRICTED_FIELDS: dict[str, tuple[str, ...]] = {
    DIRECT_TO_CONSUMER_DELIVERY: ("recipient.deliveryAddress.name", "recipient.deliveryAddress.addressLine1",
                                  "recipient.deliveryAddress.addressLine2", "recipient.deliveryAddress.addressLine3",
                                  "recipient.deliveryAddress.phone", "recipient.deliveryAddress.companyName",
                                  "recipient.deliveryAddress.addressType"),
    TAX_INVOICING: ("buyer.buyerName", "buyer.buyerCompanyName", "buyer.buyerPurchaseOrderNumber",
                    "orderItems[].fulfillment.packing.giftOption.giftMessage"),
}


def _lacks(granted, accepted: tuple[str, ...]) -> str | None:
    return accepted[0] if accepted and not set(accepted) & set(granted) else None


def missing(granted, op: str, types=()) -> str | None:
    """The role Amazon would name as missing for ``op`` on report/feed ``types`` with the ``granted`` roles, or
    None. A type the table does not know is left to the handler (it answers what Amazon answers for it)."""
    role = _lacks(granted, OPERATIONS.get(op, ()))
    if role:
        return role
    for t in types:
        if op in FEED_OPERATIONS:
            role = _lacks(granted, FEED_TYPES.get(t, ()))
        else:
            role = _lacks(granted, REPORT_TYPES.get(t, ()))
            restricted = RESTRICTED_REPORT_TYPES.get(t)
            role = role or (restricted if restricted and restricted not in granted else None)
        if role:
            return role
    return None


def types_of(state, op: str, req) -> list[str]:
    """The report or feed types a request is about (the body's, the filter's, or the stored report's or feed's)."""
    if op in ("createReport", "createFeed"):
        try:
            value = req.json().get("reportType" if op == "createReport" else "feedType")
        except ApiError:   # a body that is not JSON: the model check answers it
            return []
        return [value] if isinstance(value, str) else []
    if op == "getReports":
        token = req.one("nextToken")
        saved = state.pagination.get(token) if token else None
        return list(saved["query"]["types"]) if saved else req.many("reportTypes")
    if op in ("getReport", "cancelReport"):
        report = state.reports.get(req.args.get("reportId"))
        return [report["reportType"]] if report else []
    if op == "getReportDocument":
        doc = req.args.get("reportDocumentId")
        return [r["reportType"] for r in state.reports.values() if r.get("reportDocumentId") == doc][:1]
    if op in ("getFeed", "cancelFeed"):
        feed = state.feeds.get(req.args.get("feedId"))
        return [feed["feedType"]] if feed else []
    if op == "getFeedDocument":
        doc = req.args.get("feedDocumentId")
        return [f["feedType"] for f in state.feeds.values()
                if doc in (f.get("_input"), f.get("resultFeedDocumentId"))][:1]
    return []


def slug(role: str) -> str:
    """``Direct-to-Consumer Delivery (Restricted)`` -> ``direct-to-consumer-delivery-restricted`` (for flags)."""
    return "-".join("".join(c if c.isalnum() else " " for c in role.lower()).split())


def parse(text: str) -> tuple[str, ...]:
    """Roles from a comma-separated list (``slsync amazon-sim --roles``, /_sandbox/roles): full names in any case,
    their slugs, or a word that only one role's slug contains (``delivery``, ``tax``, ``fulfillment``); ``all`` and
    ``none`` as such. Raises ValueError naming what it does not know."""
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
