"""Orders API handlers: v2026-01-01 searchOrders / getOrder and v0 confirmShipment, with Amazon's checks."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from integration.sandbox.amazon import orders
from integration.sandbox.amazon.orders import money
from integration.sandbox.amazon.roles import RESTRICTED_FIELDS
from integration.sandbox.amazon.state import MARKETPLACES, iso
from integration.sandbox.amazon.wire import Reply, Req, invalid, not_found
from integration.timeutil import parse_amazon_time

INCLUDED = {"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
            "TAX", "PAYMENT", "FULFILLMENT_ORDERS"}
TOKEN_LIFE = timedelta(hours=24)


def proceeds(item: dict, cur: str) -> dict:
    """The item's ``proceeds`` (ItemProceeds): every part rounded to the currency first, then summed, so Amazon's
    totals are the sums of the parts it shows. Where prices include VAT (orders.VAT_INCLUSIVE) the TAX breakdown
    states the tax the gross amounts contain and the item's total does not add it again."""
    def r(x: Decimal) -> Decimal:
        return orders.round_money(x, cur)

    rate, inclusive = item["tax_rate"], item.get("vat_inclusive", False)
    share = rate / (1 + rate) if inclusive else rate
    principal, ship = r(item["unit"] * item["qty"]), r(item["ship_price"])
    gift, cod = r(item.get("gift_wrap", 0)), r(item.get("cod_fee", 0))
    disc_item, disc_ship = r(item["discount"]), r(item.get("ship_discount", 0))
    # As Amazon reports them (v0's ItemTax / ShippingTax beside PromotionDiscountTax / ShippingDiscountTax): the tax
    # of each charge in full, and the tax the promotions take off as a negative DISCOUNT part.
    taxes = [("ITEM", r(principal * share)), ("SHIPPING", r(ship * share)), ("GIFT_WRAP", r(gift * share)),
             ("COD_FEE", r(cod * share) if inclusive else Decimal(0)),
             ("DISCOUNT", -r((disc_item + disc_ship) * share))]
    breakdowns = [{"type": kind, "subtotal": money(amount, cur)}
                  for kind, amount in (("ITEM", principal), ("SHIPPING", ship), ("GIFT_WRAP", gift), ("COD_FEE", cod))
                  if amount or kind == "ITEM"]
    tax = sum((t for _, t in taxes), Decimal(0))
    breakdowns.append({"type": "TAX", "subtotal": money(tax, cur),
                       "detailedBreakdowns": [{"subtype": k, "value": money(v, cur)} for k, v in taxes
                                              if v or k in ("ITEM", "SHIPPING")]})
    if disc_item or disc_ship:
        breakdowns.append({"type": "DISCOUNT", "subtotal": money(-(disc_item + disc_ship), cur),
                           "detailedBreakdowns": [{"subtype": k, "value": money(-v, cur)}
                                                  for k, v in (("ITEM", disc_item), ("SHIPPING", disc_ship)) if v]})
    total = principal + ship + gift + cod - disc_item - disc_ship + (Decimal(0) if inclusive else tax)
    return {"proceedsTotal": money(total, cur), "breakdowns": breakdowns}


def _item(order: dict, item: dict, inc: set[str]) -> dict:
    cur, pending = order["currency"], order["status"] == "PENDING"
    out = {"orderItemId": item["id"], "quantityOrdered": item["qty"],
           "product": {"asin": item["asin"], "title": item["title"], "sellerSku": item["sku"],
                       "condition": {"conditionType": "New", "conditionSubtype": "New"}}}
    if not pending:  # prices, taxes and promotions are absent while the order is PENDING (reference §4.1)
        out["product"]["price"] = {"unitPrice": money(item["unit"], cur)}
        if order["business"]:
            out["product"]["price"]["priceDesignation"] = "BUSINESS_PRICE"
    if "PROCEEDS" in inc and not pending:
        out["proceeds"] = proceeds(item, cur)
    if "PROMOTION" in inc and item["promo"] and not pending:
        out["promotion"] = {"breakdowns": [{"promotionId": item["promo"]}]}
    cancel = order["cancel"] or item.get("cancel")   # the whole order's, else this item's own (cancel_item)
    if "CANCELLATION" in inc and cancel:
        out["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": cancel["reason"]},
                               "cancellationExecution": {"cancelledBy": cancel["by"], "cancelReason": cancel["reason"]}}
    if "FULFILLMENT" in inc:
        out["fulfillment"] = {"quantityFulfilled": item["shipped"], "quantityUnfulfilled": item["qty"] - item["shipped"]}
        if item["gift"]:
            out["fulfillment"]["packing"] = {"giftOption": {"giftMessage": item["gift"], "giftWrapLevel": "STANDARD"}}
    if "TAX" in inc and not pending:
        out["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": "Amazon Services, Inc."}]}
    return out


def withhold(out: dict, granted) -> dict:
    """Leave out what Amazon leaves out without a role: no error, the fields are simply absent (Orders v2026-01-01
    "Role-based permissions replace RDT generation", sp-api.md §2.5; without the delivery role a CustomerAddress keeps
    city, stateOrRegion, postalCode and countryCode). The paths are the simulator's own
    ``integration.sandbox.amazon.roles.RESTRICTED_FIELDS`` (``orderItems[]``: in every item)."""
    def drop(node, keys: list[str]) -> None:
        key, rest = keys[0], keys[1:]
        if key.endswith("[]"):
            for each in (node.get(key[:-2]) or []) if isinstance(node, dict) else []:
                drop(each, rest)
        elif not rest:
            if isinstance(node, dict):
                node.pop(key, None)
        elif isinstance(node, dict):
            drop(node.get(key), rest)

    for role, paths in RESTRICTED_FIELDS.items():
        if role not in granted:
            for path in paths:
                drop(out, path.split("."))
    return out


def render(order: dict, included: set[str], granted=None) -> dict:
    """The order as Orders v2026-01-01 returns it, with the ``includedData`` groups asked for and the buyer data the
    ``granted`` roles allow (None: every role, as the /_sandbox views show it)."""
    cur = order["currency"]
    out = {"orderId": order["id"], "orderAliases": [{"aliasId": order["seller_order_id"], "aliasType": "SELLER_ORDER_ID"}],
           "createdTime": iso(order["created"]), "lastUpdatedTime": iso(order["updated"]),
           "programs": [p for p, on in (("AMAZON_BUSINESS", order["business"]), ("PRIME", order["prime"]),
                                        ("DELIVERY_BY_AMAZON", order["channel"] == "AFN")) if on],
           "salesChannel": {"channelName": "AMAZON", "marketplaceId": order["marketplace"],
                            "marketplaceName": MARKETPLACES.get(order["marketplace"], {}).get("name", "Amazon")}}
    if order.get("replaces"):
        out["associatedOrders"] = [{"orderId": order["replaces"][0], "associationType": order["replaces"][1]}]
    if "BUYER" in included:
        buyer = dict(order["buyer"])
        if order["channel"] == "AFN":
            buyer.pop("buyerEmail", None)  # buyer e-mail is FBM only [M-orders2026]
        out["buyer"] = buyer
    if "RECIPIENT" in included and order["status"] != "PENDING":
        out["recipient"] = {"deliveryAddress": dict(order["address"])}
    items = [_item(order, i, included) for i in order["items"]]
    if "PROCEEDS" in included and order["status"] != "PENDING":
        totals: dict[str, Decimal] = {}
        for item in items:
            for b in item.get("proceeds", {}).get("breakdowns", []):
                totals[b["type"]] = totals.get(b["type"], Decimal(0)) + Decimal(b["subtotal"]["amount"])
        grand = sum((Decimal(i["proceeds"]["proceedsTotal"]["amount"]) for i in items if "proceeds" in i), Decimal(0))
        out["proceeds"] = {"grandTotal": money(grand, cur),
                           "breakdowns": [{"type": k, "subtotal": money(v, cur)} for k, v in totals.items()]}
    if "FULFILLMENT" in included:
        ship_by = order["created"] + timedelta(days=2)
        out["fulfillment"] = {"fulfillmentStatus": order["status"],
                              "fulfilledBy": "AMAZON" if order["channel"] == "AFN" else "MERCHANT",
                              "fulfillmentServiceLevel": "EXPEDITED" if order["prime"] else "STANDARD",
                              "shipByWindow": {"earliestDateTime": iso(order["created"]), "latestDateTime": iso(ship_by)},
                              "deliverByWindow": {"earliestDateTime": iso(ship_by + timedelta(days=1)),
                                                  "latestDateTime": iso(ship_by + timedelta(days=5))}}
    out["orderItems"] = items
    if "PACKAGES" in included and order["channel"] == "MFN" and order["packages"]:
        out["packages"] = [dict(p) for p in order["packages"]]
    return out if granted is None else withhold(out, granted)


def _included(req: Req) -> set[str]:
    inc = {v.upper() for v in req.many("includedData")}
    bad = inc - INCLUDED
    if bad:
        raise invalid(f"Invalid includedData value(s): {', '.join(sorted(bad))}")
    return inc


def _time(req: Req, name: str):
    value = req.one(name)
    if value is None:
        return None
    try:
        return parse_amazon_time(value)
    except ValueError:
        raise invalid(f"{name} must be an ISO 8601 date-time, got {value!r}") from None


def search_orders(sim, req: Req) -> Reply:
    state, now = sim.state, sim.state.now()
    inc = _included(req)
    size = req.one("maxResultsPerPage", "100")
    if not size.isdigit() or not 1 <= int(size) <= 100:
        raise invalid("maxResultsPerPage must be between 1 and 100")
    token = req.one("paginationToken")
    filters = {k: v for k, v in sorted(req.params.items())
               if k not in ("paginationToken", "maxResultsPerPage", "includedData")}
    fingerprint = hashlib.sha1(repr(filters).encode()).hexdigest()
    if token:
        saved = state.pagination.get(token)
        if saved is None or saved["expires"] < now:
            raise invalid("Invalid or expired paginationToken.")
        if saved["fingerprint"] != fingerprint:
            raise invalid("The paginationToken does not match the request parameters.")
        offset, cutoff = saved["offset"], saved["cutoff"]
    else:
        offset, cutoff = 0, None
    ca, cb, ua, ub = (_time(req, n) for n in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"))
    if (ca is None) == (ua is None):
        raise invalid("Exactly one of createdAfter and lastUpdatedAfter must be specified.")
    if ca and (ua or ub):
        raise invalid("createdAfter cannot be combined with lastUpdatedAfter or lastUpdatedBefore.")
    if ua and cb:
        raise invalid("lastUpdatedAfter cannot be combined with createdBefore.")
    limit = now - timedelta(minutes=2)
    for name, after, before in (("createdBefore", ca, cb), ("lastUpdatedBefore", ua, ub)):
        if before is not None and before > limit:
            raise invalid(f"{name} must be at least 2 minutes before the current time.")
        if before is not None and after is not None and before < after:
            raise invalid(f"{name} must be later than or equal to the After value.")
        if after is not None and after > limit:
            raise invalid(f"{name.replace('Before', 'After')} must be at least 2 minutes before the current time.")
    cutoff = cutoff or iso(limit)
    statuses = set(req.many("fulfillmentStatuses"))
    by = set(req.many("fulfilledBy"))
    markets = set(req.many("marketplaceIds"))
    if len(markets) > 50:
        raise invalid("marketplaceIds accepts at most 50 values.")
    end = cb or ub or parse_amazon_time(cutoff)
    key = "created" if ca else "updated"
    start = ca or ua
    rows = [o for o in orders.visible(state, now)
            if start <= o[key] <= end
            and (not statuses or o["status"] in statuses)
            and (not by or ("AMAZON" if o["channel"] == "AFN" else "MERCHANT") in by)
            and (not markets or o["marketplace"] in markets)]
    rows.sort(key=lambda o: (o[key], o["id"]))
    page = rows[offset:offset + int(size)]
    body = {"orders": [render(o, inc, state.roles) for o in page]}
    if offset + int(size) < len(rows):
        nxt = secrets.token_urlsafe(24)
        state.pagination[nxt] = {"fingerprint": fingerprint, "offset": offset + int(size), "cutoff": cutoff,
                                 "expires": now + TOKEN_LIFE}
        body["pagination"] = {"nextToken": nxt}
    body["createdBefore" if ca else "lastUpdatedBefore"] = iso(end)
    return Reply(200, body)


def _order(sim, order_id: str) -> dict:
    order = sim.state.orders.get(order_id)
    if order is None or order["created"] > sim.state.now():
        raise not_found(f"Order {order_id} not found.")
    return order


def get_order(sim, req: Req) -> Reply:
    return Reply(200, {"order": render(_order(sim, req.args["orderId"]), _included(req), sim.state.roles)})


def confirm_shipment(sim, req: Req) -> Reply:
    state = sim.state
    order = _order(sim, req.args["orderId"])
    body = req.json()
    pkg = body.get("packageDetail")
    if not body.get("marketplaceId") or not isinstance(pkg, dict):
        raise invalid("marketplaceId and packageDetail are required.")
    if body["marketplaceId"] != order["marketplace"]:
        raise invalid(f"Order {order['id']} does not belong to marketplace {body['marketplaceId']}.")
    missing = [f for f in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems") if not pkg.get(f)]
    if missing:
        raise invalid(f"packageDetail is missing {', '.join(missing)}.")
    if not str(pkg["packageReferenceId"]).isdigit() or int(pkg["packageReferenceId"]) <= 0:
        raise invalid("packageReferenceId must be a positive numeric value.")
    if pkg["carrierCode"] == "Other" and not pkg.get("carrierName"):
        raise invalid("carrierName is required when carrierCode is Other.")
    if order["channel"] == "AFN":
        raise invalid(f"Order {order['id']} is fulfilled by Amazon; shipments cannot be confirmed by the seller.")
    if order["status"] in ("PENDING", "CANCELLED"):
        raise invalid(f"Order {order['id']} is {order['status']} and cannot be confirmed.")
    items = {i["id"]: i for i in order["items"]}
    wanted: dict[str, int] = {}
    for line in pkg["orderItems"]:
        item = items.get(str(line.get("orderItemId")))
        if item is None:
            raise invalid(f"Order item {line.get('orderItemId')} is not part of order {order['id']}.")
        qty = line.get("quantity")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise invalid(f"Quantity {qty} for order item {item['id']} must be a positive integer.")
        wanted[item["id"]] = wanted.get(item["id"], 0) + qty
    now = state.now()
    ref = str(pkg["packageReferenceId"])
    same = next((p for p in order["packages"] if p["packageReferenceId"] == ref), None)
    if same is not None:
        # Amazon ("Confirm the shipment status"): another confirmShipment with the same packageReferenceId edits that
        # package's details. Stricter here: the reference must name the same package (the same items and
        # quantities), so two boxes given one reference are refused instead of the first silently replaced.
        had: dict[str, int] = {}
        for x in same["packageItems"]:
            had[x["orderItemId"]] = had.get(x["orderItemId"], 0) + x["quantity"]
        if had != wanted:
            raise invalid(f"packageReferenceId {ref} already identifies another package of order {order['id']} "
                          "(other items or quantities); a reference names one package within an order.")
        same.update({"carrier": pkg["carrierCode"], "shipTime": pkg["shipDate"], "trackingNumber": pkg["trackingNumber"]})
        state.confirmations.append({"orderId": order["id"], "receivedAt": iso(now), **body})
        return Reply(204, None)
    for item_id, qty in wanted.items():
        item = items[item_id]
        if qty > item["qty"] - item["shipped"]:
            raise invalid(f"Quantity {qty} for order item {item_id} exceeds the quantity not yet shipped "
                          f"({item['qty'] - item['shipped']}).")
    for item_id, qty in wanted.items():
        orders.apply(state, order, "ship", {"item": item_id, "quantity": qty, "reason": "Seller confirmed shipment"},
                     now)
    order["packages"].append({"packageReferenceId": ref, "createdTime": iso(now),
                              "packageStatus": {"status": "SHIPPED"}, "carrier": pkg["carrierCode"],
                              "shipTime": pkg["shipDate"], "trackingNumber": pkg["trackingNumber"],
                              "packageItems": [{"orderItemId": str(x["orderItemId"]), "quantity": x["quantity"]}
                                               for x in pkg["orderItems"]]})
    state.confirmations.append({"orderId": order["id"], "receivedAt": iso(now), **body})
    return Reply(204, None)

