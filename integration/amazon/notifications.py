"""Notifications v1: destinations (grantless) and subscriptions (seller token) [reference §2.4, §6]."""

from __future__ import annotations

from dataclasses import dataclass

from integration.amazon import ids
from integration.errors import Permanent

SCOPE = "sellingpartnerapi::notifications"
BASE = "/notifications/v1"
# What the product needs, and the payload version of each [reference §6.3, §6.4]. Amazon delivers these four only
# through SQS [reference §6.1].
PRODUCT_SUBSCRIPTIONS = {"ORDER_CHANGE": "1.0", "FBA_INVENTORY_AVAILABILITY_CHANGES": "1.0",
                         "REPORT_PROCESSING_FINISHED": "2020-09-04", "FEED_PROCESSING_FINISHED": "2020-09-04"}
# Listings events the product records (a later flow acts on them); Amazon delivers these only through EventBridge.
LISTINGS_SUBSCRIPTIONS = {"LISTINGS_ITEM_STATUS_CHANGE": "1.0", "LISTINGS_ITEM_ISSUES_CHANGE": "1.0",
                          "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "1.0"}
KNOWN = {**PRODUCT_SUBSCRIPTIONS, **LISTINGS_SUBSCRIPTIONS}
# The one transport Amazon uses per type [reference sp-api.md §6.1]: createSubscription refuses the other one.
EVENTBRIDGE_TYPES = frozenset({"LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE",
                               "LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "BRANDED_ITEM_CONTENT_CHANGE",
                               "ITEM_PRODUCT_TYPE_CHANGE", "PRODUCT_TYPE_DEFINITIONS_CHANGE"})


def transport(notification_type: str) -> str:
    """"eventbridge" for the listings and product-type events, "sqs" for every other type (ORDER_CHANGE, ...)."""
    return "eventbridge" if notification_type in EVENTBRIDGE_TYPES else "sqs"


def plan(types, *, sqs_arn: str | None, event_bridge) -> dict[str, list[str]]:
    """Split ``types`` by transport; ``ValueError`` saying why when a type's transport was not given."""
    by = {"sqs": [t for t in types if transport(t) == "sqs"],
          "eventbridge": [t for t in types if transport(t) == "eventbridge"]}
    problems = []
    if by["sqs"] and not sqs_arn:
        problems.append(f"{', '.join(by['sqs'])} {'is' if len(by['sqs']) == 1 else 'are'} delivered by Amazon only "
                        "through SQS (EventBridge carries only the LISTINGS_ITEM_* and product-type "
                        "notifications): give --sqs-arn with your queue's ARN")
    if by["eventbridge"] and not event_bridge:
        problems.append(f"{', '.join(by['eventbridge'])} {'is' if len(by['eventbridge']) == 1 else 'are'} delivered "
                        "by Amazon only through EventBridge: give --eventbridge ACCOUNT_ID:REGION")
    if problems:
        raise ValueError("; ".join(problems))
    return by


@dataclass(frozen=True)
class Destination:
    destination_id: str
    name: str
    resource: dict


@dataclass(frozen=True)
class Subscription:
    notification_type: str
    subscription_id: str
    destination_id: str
    payload_version: str


class Notifications:
    def __init__(self, transport):
        self.t = transport

    def destinations(self) -> list[Destination]:
        body = self.t.call("getDestinations", "GET", f"{BASE}/destinations", scope=SCOPE, shape=("payload",)).body
        return [Destination(d["destinationId"], d["name"], d["resource"]) for d in body["payload"]]

    def create_destination(self, name: str, *, sqs_arn: str | None = None,
                           event_bridge: tuple[str, str] | None = None) -> Destination:
        """An SQS queue (``sqs_arn``) or an EventBridge partner source (``(account_id, region)``)."""
        if bool(sqs_arn) == bool(event_bridge):
            raise Permanent("a destination is either an SQS queue ARN or an EventBridge (account, region)")
        spec = {"sqs": {"arn": sqs_arn}} if sqs_arn else {
            "eventBridge": {"accountId": event_bridge[0], "region": event_bridge[1]}}
        d = self.t.call("createDestination", "POST", f"{BASE}/destinations", scope=SCOPE,
                        body={"name": name, "resourceSpecification": spec}, shape=("payload",)).body["payload"]
        return Destination(d["destinationId"], d["name"], d["resource"])

    def delete_destination(self, destination_id: str) -> None:
        path = f"{BASE}/destinations/{ids.segment(ids.destination_id(destination_id))}"   # checked (ids.py)
        self.t.call("deleteDestination", "DELETE", path, scope=SCOPE)

    def subscription(self, notification_type: str) -> Subscription | None:
        try:
            body = self.t.call("getSubscription", "GET", f"{BASE}/subscriptions/{_kind(notification_type)}",
                               shape=("payload",)).body
        except Permanent as exc:
            if exc.details.get("status") == 404:
                return None
            raise
        s = body["payload"]
        return Subscription(notification_type, s["subscriptionId"], s["destinationId"], s["payloadVersion"])

    def subscribe(self, notification_type: str, destination_id: str, payload_version: str = "1.0") -> Subscription:
        body = self.t.call("createSubscription", "POST", f"{BASE}/subscriptions/{_kind(notification_type)}",
                           body={"payloadVersion": payload_version, "destinationId": destination_id},
                           shape=("payload",)).body
        s = body["payload"]
        return Subscription(notification_type, s["subscriptionId"], s["destinationId"], s["payloadVersion"])

    def unsubscribe(self, subscription: Subscription) -> None:
        self.t.call("deleteSubscriptionById", "DELETE",
                    f"{BASE}/subscriptions/{_kind(subscription.notification_type)}/"
                    f"{ids.segment(ids.subscription_id(subscription.subscription_id))}", scope=SCOPE)

    def ensure(self, name: str, *, sqs_arn: str | None = None, event_bridge: tuple[str, str] | None = None,
               types: dict[str, str] | None = None, call=None) -> tuple[list[Destination], list[Subscription]]:
        """Idempotent setup for ``slsync amazon subscribe``: one destination per transport, the missing subscriptions.

        ``types`` (type -> payload version) defaults to the product's SQS types, plus the listings types when an
        EventBridge destination is given. The SQS destination is named ``name``, the EventBridge one
        ``name-eventbridge``; an existing destination is reused by name, or for EventBridge by account and region
        (Amazon allows one per account and region [reference §6.1]). ``ValueError`` for a type whose transport
        was not given. ``call(fn, *args, **kwargs)`` runs each API call (a command passes one that waits out a
        short rate-limit pause, so a rerun does not start over and spend the quota again).
        """
        call = call or (lambda fn, *args, **kwargs: fn(*args, **kwargs))
        if types is None:
            types = {**(PRODUCT_SUBSCRIPTIONS if sqs_arn else {}), **(LISTINGS_SUBSCRIPTIONS if event_bridge else {})}
        by = plan(types, sqs_arn=sqs_arn, event_bridge=event_bridge)
        existing = call(self.destinations)
        dests: dict[str, Destination] = {}
        if by["sqs"]:
            dests["sqs"] = next((d for d in existing if d.name == name), None) or call(
                self.create_destination, name, sqs_arn=sqs_arn)
        if by["eventbridge"]:
            account, region = event_bridge
            same = [d for d in existing if d.name == f"{name}-eventbridge" or (
                d.resource.get("eventBridge", {}).get("accountId"),
                d.resource.get("eventBridge", {}).get("region")) == (account, region)]
            dests["eventbridge"] = same[0] if same else call(self.create_destination, f"{name}-eventbridge",
                                                                             event_bridge=event_bridge)
        subs = []
        for way, kinds in by.items():
            for kind in kinds:
                sub = call(self.subscription, kind)
                subs.append(sub if sub is not None else call(self.subscribe, kind, dests[way].destination_id,
                                                             types[kind]))
        return list(dests.values()), subs


def _kind(notification_type: str) -> str:
    """A notification type checked and quoted for a path (ids.py)."""
    return ids.segment(ids.notification_type(notification_type))
