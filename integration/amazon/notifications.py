"""Notifications v1: destinations (grantless) and subscriptions (seller token) [reference §2.4, §6]."""

from __future__ import annotations

import fnmatch
import json
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
# Who writes into the seller's SQS queue, and what its policy must let it do [reference §6.1]
AMAZON_PRINCIPAL = "arn:aws:iam::437568002678:root"
AMAZON_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes")
FIFO_REFUSED = "FIFO queues are not supported by Amazon's notifications; use a Standard queue"
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
               types: dict[str, str] | None = None, call=None,
               say=None) -> tuple[list[Destination], list[Subscription]]:
        """Idempotent setup for ``slsync amazon subscribe``: one destination per transport, the subscriptions on it.

        ``types`` (type -> payload version) defaults to the product's SQS types, plus the listings types when an
        EventBridge destination is given. The SQS destination is the one named ``name``, the EventBridge one
        ``name-eventbridge`` (or any for the same account and region: Amazon allows one per account and region
        [reference §6.1]). A destination is reused only when it points where asked: one named ``name`` for another
        queue (or for EventBridge) is re-pointed: the product's subscriptions on it are deleted, then the
        destination, and it is created anew. A subscription on another destination is replaced. ``say(text)`` is
        told each such change. ``ValueError`` for a type whose transport was not given. ``call(fn, *args,
        **kwargs)`` runs each API call (a command passes one that waits out a short rate-limit pause, so a rerun
        does not start over and spend the quota again).
        """
        call = call or (lambda fn, *args, **kwargs: fn(*args, **kwargs))
        say = say or (lambda text: None)
        if types is None:
            types = {**(PRODUCT_SUBSCRIPTIONS if sqs_arn else {}), **(LISTINGS_SUBSCRIPTIONS if event_bridge else {})}
        by = plan(types, sqs_arn=sqs_arn, event_bridge=event_bridge)
        existing = call(self.destinations)
        dests: dict[str, Destination] = {}
        known: dict[str, Subscription | None] = {}   # subscriptions already looked up (type -> as it now stands)
        if by["sqs"]:
            named = next((d for d in existing if d.name == name), None)
            if named is not None and resource_of(named) != f"SQS {sqs_arn}":
                known = self._retire(named, call, say, f"now {sqs_arn}")
                existing.remove(named)
                named = None
            dests["sqs"] = named or call(self.create_destination, name, sqs_arn=sqs_arn)
        if by["eventbridge"]:
            account, region = event_bridge
            wanted = f"EventBridge {account}:{region}"
            same = [d for d in existing if resource_of(d) == wanted]
            for other in (d for d in existing if d.name == f"{name}-eventbridge" and d not in same):
                known = self._retire(other, call, say, f"now {wanted}")
            dests["eventbridge"] = same[0] if same else call(self.create_destination, f"{name}-eventbridge",
                                                             event_bridge=event_bridge)
        subs = []
        for way, kinds in by.items():
            for kind in kinds:
                sub = known[kind] if kind in known else call(self.subscription, kind)
                if sub is not None and sub.destination_id != dests[way].destination_id:
                    call(self.unsubscribe, sub)
                    say(f"{kind} was delivered to destination {sub.destination_id}: subscribed to "
                        f"{dests[way].name} instead")
                    sub = None
                subs.append(sub if sub is not None else call(self.subscribe, kind, dests[way].destination_id,
                                                             types[kind]))
        return list(dests.values()), subs

    def _retire(self, dest: Destination, call, say, why: str) -> dict[str, Subscription | None]:
        """Delete ``dest`` after the product's subscriptions that use it (re-pointing a destination by name);
        returns each product type's subscription as it now stands."""
        dropped, now = [], {}
        for kind in KNOWN:
            sub = now[kind] = call(self.subscription, kind)
            if sub is not None and sub.destination_id == dest.destination_id:
                call(self.unsubscribe, sub)
                dropped.append(kind)
                now[kind] = None
        call(self.delete_destination, dest.destination_id)
        say(f"destination {dest.name} pointed at {resource_of(dest)} ({why}): deleted with its subscriptions "
            f"({', '.join(dropped) or 'none'}) and created again")
        return now


def resource_of(dest: Destination) -> str:
    """Where a destination delivers: ``SQS <queue ARN>`` or ``EventBridge <account>:<region>``."""
    if "sqs" in dest.resource:
        return f"SQS {dest.resource['sqs'].get('arn', '')}"
    bridge = dest.resource.get("eventBridge", {})
    return f"EventBridge {bridge.get('accountId', '')}:{bridge.get('region', '')}"


def queue_policy_problem(policy: str | None, queue_arn: str) -> str | None:
    """Why a queue's policy does not let Amazon write to it, or None [reference §6.1; Amazon's notifications guide,
    "Grant Selling Partner API permission to write to your SQS queue"]: ``AMAZON_PRINCIPAL`` needs
    ``sqs:SendMessage`` and ``sqs:GetQueueAttributes`` (Allow statements; Principal ``"*"`` or ``{"AWS": ...}``;
    Action a string or list, IAM wildcards such as ``sqs:*``; Resource the queue or ``"*"``). Conditions are not
    weighed, so this is a warning, not a verdict: Amazon's createDestination decides.
    """
    try:
        doc = json.loads(policy or "{}")
    except ValueError:
        return "the queue policy is not JSON"
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    granted: set[str] = set()
    for st in [statements] if isinstance(statements, dict) else statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        aws = _listed(principal.get("AWS")) if isinstance(principal, dict) else []
        if principal != "*" and not {"*", AMAZON_PRINCIPAL, "437568002678"} & set(aws):
            continue
        if not any(fnmatch.fnmatchcase(queue_arn, r) for r in _listed(st.get("Resource", "*"))):
            continue
        granted |= {a for a in AMAZON_ACTIONS for p in _listed(st.get("Action"))
                    if fnmatch.fnmatchcase(a.lower(), p.lower())}
    missing = [a for a in AMAZON_ACTIONS if a not in granted]
    return f"its policy does not let {AMAZON_PRINCIPAL} call {' and '.join(missing)}" if missing else None


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
        if isinstance(value, list) else []


def _kind(notification_type: str) -> str:
    """A notification type checked and quoted for a path (ids.py)."""
    return ids.segment(ids.notification_type(notification_type))
