"""Notifications v1: destinations (grantless) and subscriptions (seller token) [reference §2.4, §6]."""

from __future__ import annotations

from dataclasses import dataclass

from integration.amazon import ids
from integration.errors import Permanent

SCOPE = "sellingpartnerapi::notifications"
BASE = "/notifications/v1"
# What the product needs, and the payload version of each [reference §6.3, §6.4]
PRODUCT_SUBSCRIPTIONS = {"ORDER_CHANGE": "1.0", "FBA_INVENTORY_AVAILABILITY_CHANGES": "1.0",
                         "REPORT_PROCESSING_FINISHED": "2020-09-04", "FEED_PROCESSING_FINISHED": "2020-09-04"}


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
               types: dict[str, str] = PRODUCT_SUBSCRIPTIONS) -> tuple[Destination, list[Subscription]]:
        """Idempotent setup for ``slsync amazon subscribe``: reuse the destination by name, add missing subscriptions."""
        dest = next((d for d in self.destinations() if d.name == name), None)
        if dest is None:
            dest = self.create_destination(name, sqs_arn=sqs_arn, event_bridge=event_bridge)
        subs = []
        for kind, version in types.items():
            sub = self.subscription(kind)
            subs.append(sub if sub is not None else self.subscribe(kind, dest.destination_id, version))
        return dest, subs


def _kind(notification_type: str) -> str:
    """A notification type checked and quoted for a path (ids.py)."""
    return ids.segment(ids.notification_type(notification_type))
