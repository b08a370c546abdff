"""Notifications v1 (destinations, subscriptions) and delivery by the transport Amazon uses for each type.

Amazon never calls a webhook [reference sp-api.md §6.1]. The SQS-workflow types (ORDER_CHANGE, FBA inventory,
report and feed processing, ...) go only to an SQS queue: the Outbox sends the notification JSON as the message body
into the simulator's own SQS service (``sqs.py``), to the queue the destination's ARN names; a queue that does not
exist there, or whose policy does not let Amazon's principal write to it, receives nothing (``createDestination``
refuses such a queue, and a FIFO one, as Amazon does: ``SqsService.refusal``). The EventBridge-workflow types
(LISTINGS_ITEM_*, product-type events) go only to an EventBridge partner source: the Outbox posts the EventBridge event to the HTTP
target, as an EventBridge API destination would. ``createSubscription`` refuses a type with a destination of the
other transport (400 InvalidInput), as Amazon does.

Delivery is at-least-once like Amazon's: ``duplicates`` and ``reorder`` (0..1) control repeats and swaps.
The simulator publishes listings events itself when an MFN listing's quantity changes (a patch or a feed): a
LISTINGS_ITEM_MFN_QUANTITY_CHANGE, and a LISTINGS_ITEM_STATUS_CHANGE when it becomes (un)buyable.
"""

from __future__ import annotations

import json
import queue
import random
import re
import threading
import time
import uuid
from collections import Counter

import requests

from integration.sandbox.amazon.sqs import SqsService
from integration.sandbox.amazon.state import iso, on_tick
from integration.sandbox.amazon.wire import ApiError, Reply, Req, invalid, not_found

# Transport per type [reference sp-api.md §6.1, notification-type-definition.json]
SQS_TYPES = frozenset({
    "ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES", "REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED",
    "ANY_OFFER_CHANGED", "B2B_ANY_OFFER_CHANGED", "ACCOUNT_STATUS_CHANGED", "FBA_OUTBOUND_SHIPMENT_STATUS",
    "FULFILLMENT_ORDER_STATUS", "FEE_PROMOTION", "PRICING_HEALTH", "TRANSACTION_UPDATE",
    "ITEM_INVENTORY_EVENT_CHANGE", "ITEM_SALES_EVENT_CHANGE", "DETAIL_PAGE_TRAFFIC_EVENT"})
EVENTBRIDGE_TYPES = frozenset({
    "LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
    "BRANDED_ITEM_CONTENT_CHANGE", "ITEM_PRODUCT_TYPE_CHANGE", "PRODUCT_TYPE_DEFINITIONS_CHANGE"})
# What the sandbox emits
TYPES = ("ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES", "REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED",
         "LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE")
CAMEL = ("REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED")  # key casing differs per type [§6.2]
SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,75}(\.fifo|[A-Za-z0-9_-]{0,5})$")
APP_ID = "amzn1.sellerapps.app.sandbox-0000-0000-0000-000000000000"
# Schemas the simulator checks its own notifications against. LISTINGS_ITEM_STATUS_CHANGE is left out: its schema's
# enum says LISTINGS_ITEM_STATUS_CHANGED while its example and the docs send ..._CHANGE [§6.4].
LISTINGS_SCHEMAS = {"LISTINGS_ITEM_ISSUES_CHANGE": "ListingsItemIssuesChangeNotification.json",
                    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "ListingsItemMfnQuantityChange.json"}


def transport(kind: str) -> str:
    """"sqs" or "eventBridge": the only way Amazon delivers ``kind``."""
    return "eventBridge" if kind in EVENTBRIDGE_TYPES else "sqs"


class Outbox:
    """Builds envelopes for subscribed types and delivers them from one background thread."""

    def __init__(self, sim, seed: int):
        self.sim = sim
        self.sqs = SqsService()
        self.target: str | None = None            # the EventBridge API destination's endpoint
        self.api_key: str | None = None           # sent as an EventBridge API destination's connection does
        self.api_key_header = "x-api-key"
        self.duplicates = 0.0
        self.reorder = 0.0
        self.sent: list[dict] = []
        self.delivered: Counter = Counter()      # (transport, type) -> deliveries, duplicates included
        self.undeliverable: Counter = Counter()  # (transport, type) -> no queue / no target / gave up
        self.quantities: dict[str, int | None] | None = None   # MFN quantity per SKU, as last published
        self._rnd = random.Random(f"notify:{seed}")
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sim-notify", daemon=True)
        self._thread.start()

    def publish(self, kind: str, payload: dict) -> None:
        state = self.sim.state
        sub = state.subscriptions.get(kind)
        if sub is None:
            return
        dest = state.destinations.get(sub["destinationId"], {})
        now = iso(state.now())
        meta = {"ApplicationId": APP_ID, "SubscriptionId": sub["subscriptionId"], "PublishTime": now,
                "NotificationId": str(uuid.UUID(int=self._rnd.getrandbits(128)))}
        if kind in CAMEL:
            note = {"notificationVersion": "2020-09-04", "notificationType": kind, "payloadVersion": "2020-09-04",
                    "eventTime": now, "payload": payload,
                    "notificationMetadata": {k[0].lower() + k[1:]: v for k, v in meta.items()}}
        else:
            note = {"NotificationVersion": "1.0", "NotificationType": kind, "PayloadVersion": "1.0",
                    "EventTime": now, "Payload": payload, "NotificationMetadata": meta}
        if self.sim.validate:
            from integration.sandbox.amazon.models import NOTIFICATION_SCHEMAS

            schema = {**NOTIFICATION_SCHEMAS, **LISTINGS_SCHEMAS}.get(kind)
            if schema:
                self.sim.violations.extend(self.sim.models.validate(schema, note))
        resource = dest.get("resource", {})
        if "eventBridge" in resource:
            eb = resource["eventBridge"]
            note = {"version": "0", "id": str(uuid.UUID(int=self._rnd.getrandbits(128))), "detail-type": kind,
                    "source": f"aws.partner/sellingpartnerapi.amazon.com/{eb['accountId']}/{APP_ID}",
                    "account": eb["accountId"], "time": now, "region": eb["region"], "resources": [], "detail": note}
            route = ("eventBridge", None, kind)
        else:
            route = ("sqs", resource.get("sqs", {}).get("arn", ""), kind)
        self.sent.append(note)
        self._q.put((route, note))
        if self._rnd.random() < self.duplicates:
            self._q.put((route, note))

    def _run(self) -> None:
        session = requests.Session()
        held = None  # a notification overtaken by the next one (or sent after 0.5 s if none comes)
        while True:
            try:
                item = self._q.get(timeout=0.5 if held is not None else None)
            except queue.Empty:
                self._deliver(session, *held)
                held = None
                continue
            if item is None:
                if held is not None:
                    self._deliver(session, *held)
                return
            if held is None and self._rnd.random() < self.reorder:
                held = item
                continue
            self._deliver(session, *item)
            if held is not None:
                self._deliver(session, *held)
                held = None

    def _deliver(self, session, route: tuple, note: dict) -> None:
        way, arn, kind = route
        if way == "sqs":
            ok = self.sqs.deliver(arn, json.dumps(note))   # SendMessage into the destination's queue
        else:
            ok = self._post(session, note)
        (self.delivered if ok else self.undeliverable)[(way, kind)] += 1

    def _post(self, session, note: dict) -> bool:
        """Deliver like EventBridge's API destination: a few tries on 5xx / 429 / no answer, then give up."""
        if not self.target:
            return False
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers[self.api_key_header] = self.api_key
        body = json.dumps(note)
        for attempt in range(4):
            try:
                status = session.post(self.target, data=body, headers=headers, timeout=5).status_code
            except requests.RequestException:
                status = 0
            if status and status < 500 and status != 429:
                return True
            time.sleep(0.2 * 2 ** attempt)
        return False  # dropped, as Amazon drops after its retries: the sweep is the safety net

    def counts(self) -> dict:
        return {"delivered": {f"{w}:{k}": n for (w, k), n in sorted(self.delivered.items())},
                "undeliverable": {f"{w}:{k}": n for (w, k), n in sorted(self.undeliverable.items())}}

    def stop(self) -> None:
        self._q.put(None)
        self.sqs.close()


@on_tick
def listings_events(state, now) -> None:
    """Publish what Amazon publishes when an MFN listing's quantity changes (patch, feed), after the fact."""
    from integration.sandbox.amazon.listings import quantity

    outbox = state.outbox
    if outbox is None:
        return
    current = {sku: quantity(listing) for sku, listing in state.listings.items()}
    before, outbox.quantities = outbox.quantities, current
    if before is None:
        return
    for sku, old in before.items():
        new = current.get(sku, "deleted")
        if new == old:
            continue
        if new == "deleted":
            status = ["DELETED"]
        else:
            if new is not None:
                outbox.publish("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", {
                    "SellerId": state.seller_id, "FulfillmentChannelCode": "DEFAULT", "Sku": sku, "Quantity": new})
            if bool(old) == bool(new):
                continue
            status = ["BUYABLE", "DISCOVERABLE"] if new else ["DISCOVERABLE"]
        row, listing = state.by_sku.get(sku, {}), state.listings.get(sku, {})
        outbox.publish("LISTINGS_ITEM_STATUS_CHANGE", {
            "SellerId": state.seller_id, "MarketplaceId": state.marketplace_ids[0], "Asin": row.get("asin", ""),
            "Sku": sku, "CreatedDate": iso(listing.get("created", now)), "Status": status})


def get_destinations(sim, req: Req) -> Reply:
    return Reply(200, {"payload": list(sim.state.destinations.values())})


def create_destination(sim, req: Req) -> Reply:
    body = req.json()
    spec = body.get("resourceSpecification") or {}
    if not body.get("name") or not (spec.get("sqs") or spec.get("eventBridge")):
        raise invalid("name and resourceSpecification (sqs or eventBridge) are required.")
    for dest in sim.state.destinations.values():
        if dest["name"] == body["name"]:
            raise ApiError(409, "Conflict", f"A destination named {body['name']} already exists.")
    if spec.get("sqs"):
        arn = str(spec["sqs"].get("arn", ""))
        if not SQS_ARN.match(arn):
            raise invalid(f"{arn[:200]!r} is not an SQS queue ARN (arn:aws:sqs:<region>:<account id>:<queue name>).")
        # Amazon writes only to a Standard queue whose policy lets it [reference §6.1]: checked here, as Amazon does
        refused = sim.state.outbox.sqs.refusal(arn) if sim.state.outbox is not None else None
        if refused:
            raise invalid(refused)
    eb = spec.get("eventBridge")
    if eb and not (isinstance(eb, dict) and re.match(r"^\d{12}$", str(eb.get("accountId", "")))
                   and re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", str(eb.get("region", "")))):
        raise invalid("eventBridge needs accountId (12 digits) and region (e.g. us-east-1).")
    for dest in sim.state.destinations.values():  # one EventBridge destination per account and region [§6.1]
        other = dest["resource"].get("eventBridge")
        if eb and other and (other["accountId"], other["region"]) == (eb["accountId"], eb["region"]):
            raise ApiError(409, "Conflict", f"An EventBridge destination for account {eb['accountId']} in "
                                            f"{eb['region']} already exists: {dest['destinationId']}.")
    dest_id = str(uuid.UUID(int=sim.state.rnd.getrandbits(128)))
    if spec.get("sqs"):
        resource = {"sqs": {"arn": spec["sqs"]["arn"]}}
    else:
        eb = spec["eventBridge"]
        resource = {"eventBridge": {"name": f"aws.partner/sellingpartnerapi.amazon.com/{eb['accountId']}/{APP_ID}",
                                    "region": eb["region"], "accountId": eb["accountId"]}}
    dest = {"name": body["name"], "destinationId": dest_id, "resource": resource}
    sim.state.destinations[dest_id] = dest
    return Reply(200, {"payload": dest})


def delete_destination(sim, req: Req) -> Reply:
    if sim.state.destinations.pop(req.args["destinationId"], None) is None:
        raise not_found("Destination not found.")
    return Reply(200, {})


_LABEL = {"sqs": "an SQS", "eventBridge": "an EventBridge"}


def _type(req: Req) -> str:
    kind = req.args["notificationType"]
    if kind not in TYPES:
        raise invalid(f"Notification type {kind} is not supported by the sandbox.")
    return kind


def get_subscription(sim, req: Req) -> Reply:
    sub = sim.state.subscriptions.get(_type(req))
    if sub is None:
        raise not_found("Subscription not found.")
    return Reply(200, {"payload": sub})


def create_subscription(sim, req: Req) -> Reply:
    kind, body = _type(req), req.json()
    if not body.get("payloadVersion") or body.get("destinationId") not in sim.state.destinations:
        raise invalid("payloadVersion and an existing destinationId are required.")
    resource = sim.state.destinations[body["destinationId"]]["resource"]
    given, needed = next(iter(resource)), transport(kind)
    if given != needed:  # Amazon delivers each type by one transport only [reference §6.1]
        raise invalid(f"Notification type {kind} is delivered only to {_LABEL[needed]} destinations; destination "
                      f"{body['destinationId']} is {_LABEL[given]}.")
    if kind in sim.state.subscriptions:
        raise ApiError(409, "Conflict", f"A subscription for {kind} already exists.")
    sub = {"subscriptionId": str(uuid.UUID(int=sim.state.rnd.getrandbits(128))),
           "payloadVersion": body["payloadVersion"], "destinationId": body["destinationId"]}
    if body.get("processingDirective"):
        sub["processingDirective"] = body["processingDirective"]
    sim.state.subscriptions[kind] = sub
    return Reply(200, {"payload": sub})


def delete_subscription(sim, req: Req) -> Reply:
    kind = _type(req)
    sub = sim.state.subscriptions.get(kind)
    if sub is None or sub["subscriptionId"] != req.args["subscriptionId"]:
        raise not_found("Subscription not found.")
    del sim.state.subscriptions[kind]
    return Reply(200, {})
