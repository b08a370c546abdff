"""``/_sandbox/*``: inspection and control for tests and the demo (not part of Amazon's API).

GET  /_sandbox/orders                    every visible order: {"orders": [{orderId, status, channel, items, ...}]}
POST /_sandbox/orders                    create: {"lines": [{"sku", "quantity", "price"?}], "status"?: PENDING|UNSHIPPED,
                                         "fulfillment"?: MFN|AFN, "marketplace_id"?, "address"?: {CustomerAddress},
                                         "business"?, "purchase_order"?, "prime"?, "gift_message"?, "minutes_ago"?: 10,
                                         "replaces"?: orderId, "exchange"?: bool}
POST /_sandbox/orders/{id}/status        {"action": "cancel"|"cancel_item"|"ship"|"release"|"refund", "items"?: [{"orderItemId",
                                         "quantity"}], "by"?: BUYER|SELLER|AMAZON, "reason"?}
GET  /_sandbox/shipment-confirmations    every confirmShipment body received
GET  /_sandbox/listings                  {"listings": {sku: {productType, attributes, quantity}}}
GET  /_sandbox/feeds                     every feed with its input document
GET  /_sandbox/inventory                 FBA quantities per SKU
GET  /_sandbox/requests                  count per operation, statuses, 429s given, LWA grants
POST /_sandbox/clock                     {"advance_seconds": N} -> {"now": iso}
GET  /_sandbox/clock                     {"now": iso, "time_scale": x}
POST /_sandbox/faults                    {"rules": [...]} (see faults.py); DELETE clears
POST /_sandbox/notifications             {"target"?: url, "duplicates"?: 0..1, "reorder"?: 0..1, "api_key"?,
                                         "api_key_header"?}; GET lists sent ones
POST /_sandbox/reports                   {"size_mb", "charset"?, "compress"?} -> a DONE report with a big document
GET  /_sandbox/catalog                   the seller's SKUs (catalog.catalog(seed))
GET  /_sandbox/violations                responses that did not conform to the official models
GET  /_sandbox/roles                     {"roles": [granted role names], "all": [every role]}
POST /_sandbox/roles                     {"grant"?: [role], "revoke"?: [role]} or {"roles": [role]} (all of them set);
                                         names as in sandbox/amazon/roles.py (or what roles.parse takes) -> GET's answer
"""

from __future__ import annotations

import json
from datetime import timedelta

from integration.sandbox.amazon import orders, reports, roles
from integration.sandbox.amazon.orders_api import render
from integration.sandbox.amazon.state import iso
from integration.sandbox.amazon.wire import ApiError, Reply, Req

ALL = {"BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES"}


def _summary(order: dict) -> dict:
    return {"orderId": order["id"], "status": order["status"], "channel": order["channel"],
            "marketplaceId": order["marketplace"], "createdTime": iso(order["created"]),
            "lastUpdatedTime": iso(order["updated"]),
            "items": [{"orderItemId": i["id"], "sku": i["sku"], "quantity": i["qty"], "shipped": i["shipped"],
                       "unitPrice": str(i["unit"])} for i in order["items"]]}


def create_order(sim, spec: dict) -> dict:
    state = sim.state
    lines = spec.get("lines") or []
    if not lines or any("sku" not in line for line in lines):
        raise ApiError(400, "InvalidInput", "lines: [{sku, quantity}] is required")
    now = state.now()
    order = orders.new_order(state, created=now - timedelta(minutes=float(spec.get("minutes_ago", 10))), lines=lines,
                             channel=spec.get("fulfillment", "MFN"), marketplace=spec.get("marketplace_id"),
                             address=spec.get("address"), business=bool(spec.get("business") or spec.get("purchase_order")),
                             prime=bool(spec.get("prime")), gift_message=spec.get("gift_message"),
                             promotion=bool(spec.get("promotion")))
    if spec.get("purchase_order"):
        order["buyer"]["buyerPurchaseOrderNumber"] = spec["purchase_order"]
    if spec.get("replaces"):   # a replacement (or, with "exchange", an exchange) for an earlier order
        order["replaces"] = (str(spec["replaces"]), "EXCHANGE_ORIGINAL_ID" if spec.get("exchange")
                             else "REPLACEMENT_ORIGINAL_ID")
    orders.store(state, order)
    if spec.get("status", "UNSHIPPED") != "PENDING":
        orders.apply(state, order, "unshipped", {}, now)
    return render(order, ALL)


def change_status(sim, order_id: str, spec: dict) -> dict:
    state = sim.state
    order = state.orders.get(order_id)
    if order is None:
        raise ApiError(404, "NotFound", f"Order {order_id} not found")
    action, now = spec.get("action"), state.now()
    if action == "release":
        orders.apply(state, order, "unshipped", {}, now)
    elif action == "cancel":
        orders.apply(state, order, "cancel", {"by": spec.get("by", "BUYER"), "reason": spec.get("reason",
                                                                                             "Buyer Requested Cancel")}, now)
    elif action == "ship":
        for line in spec.get("items") or [{"orderItemId": i["id"]} for i in order["items"]]:
            orders.apply(state, order, "ship", {"item": line["orderItemId"], "quantity": line.get("quantity")}, now)
    elif action == "cancel_item":   # Amazon's item-level cancellation: the item's quantityOrdered falls
        for line in spec.get("items") or []:
            orders.apply(state, order, "cancel_item", {"item": line["orderItemId"], "quantity": line.get("quantity"),
                                                       "by": spec.get("by", "BUYER"),
                                                       "reason": spec.get("reason", "Buyer Requested Cancel")}, now)
    elif action == "refund":
        orders.apply(state, order, "refund", {"item": (spec.get("items") or [{"orderItemId": order["items"][0]["id"]}])
                                              [0]["orderItemId"]}, now)
    else:
        raise ApiError(400, "InvalidInput", "action must be cancel, cancel_item, ship, release or refund")
    return render(order, ALL)


def _role_names(value) -> set[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "InvalidInput", "roles are given as a list of role names")
    try:
        return set(roles.parse(",".join(value))) if value else set()
    except ValueError as exc:
        raise ApiError(400, "InvalidInput", str(exc)) from None


def change_roles(sim, spec: dict) -> dict:
    """What the seller grants the application, changed as a seller does in Seller Central (takes effect at once)."""
    state = sim.state
    base = _role_names(spec["roles"]) if "roles" in spec else state.roles
    grant, revoke = _role_names(spec.get("grant", [])), _role_names(spec.get("revoke", []))
    state.roles = (base | grant) - revoke      # all checked first: a bad name changes nothing
    return {"roles": [r for r in roles.ALL if r in state.roles], "all": list(roles.ALL)}


def handle(sim, req: Req) -> Reply:
    state, path, method = sim.state, req.path.rstrip("/"), req.method
    body = json.loads(req.body or b"{}") if method in ("POST", "PUT") else {}
    with state.lock:
        state.tick()
        if path == "/_sandbox/orders" and method == "GET":
            return Reply(200, {"orders": [_summary(o) for o in sorted(orders.visible(state, state.now()),
                                                                      key=lambda o: o["created"])]})
        if path == "/_sandbox/orders" and method == "POST":
            return Reply(201, create_order(sim, body))
        if path.startswith("/_sandbox/orders/") and path.endswith("/status") and method == "POST":
            return Reply(200, change_status(sim, path.split("/")[3], body))
        if path == "/_sandbox/shipment-confirmations":
            return Reply(200, {"confirmations": state.confirmations})
        if path == "/_sandbox/listings":
            from integration.sandbox.amazon.listings import quantity
            return Reply(200, {"listings": {s: {"productType": x["productType"], "attributes": x["attributes"],
                                                "quantity": quantity(x)} for s, x in state.listings.items()}})
        if path == "/_sandbox/feeds":
            return Reply(200, {"feeds": [{**{k: v for k, v in f.items() if not k.startswith("_")},
                                          "input": state.documents[f["_input"]]["content"].decode("utf-8", "replace")}
                                         for f in state.feeds.values()]})
        if path == "/_sandbox/inventory":
            return Reply(200, {"inventory": {s: {k: v for k, v in inv.items() if k != "updated"}
                                             for s, inv in state.fba.items()}})
        if path == "/_sandbox/requests":
            return Reply(200, sim.stats.snapshot())
        if path == "/_sandbox/clock":
            if method == "POST":
                sim.clock.advance(float(body.get("advance_seconds", 0)))
                state.tick()
            return Reply(200, {"now": iso(state.now()), "time_scale": sim.clock.scale})
        if path == "/_sandbox/faults":
            sim.faults.set([] if method == "DELETE" else body.get("rules", []))
            return Reply(200, {"rules": sim.faults.rules})
        if path == "/_sandbox/notifications":
            if method == "POST":
                for key in ("target", "duplicates", "reorder", "api_key", "api_key_header"):
                    if key in body:
                        setattr(sim.outbox, key, body[key])
            return Reply(200, {"target": sim.outbox.target, "sent": sim.outbox.sent})
        if path == "/_sandbox/reports" and method == "POST":
            return Reply(201, reports.sandbox_report(sim, body))
        if path == "/_sandbox/catalog":
            return Reply(200, {"catalog": state.catalog})
        if path == "/_sandbox/violations":
            return Reply(200, {"violations": sim.violations})
        if path == "/_sandbox/roles":
            try:
                return Reply(200, change_roles(sim, body if method == "POST" else {}))
            except ApiError as exc:
                return exc.reply()
    return Reply(404, {"errors": [{"code": "NotFound", "message": f"no sandbox endpoint {method} {path}"}]})
