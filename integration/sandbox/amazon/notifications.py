"""Notifications v1 (destinations, subscriptions) and delivery to an HTTP target.

Amazon pushes to SQS or EventBridge, never to a webhook [reference §6.1]; the simulator posts what the product's
intake would receive from those: the SQS message body (the notification JSON) or the EventBridge event envelope.
Delivery is at-least-once like Amazon's: ``duplicates`` and ``reorder`` (0..1) control repeats and swaps.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
import uuid

import requests

from integration.sandbox.amazon.state import iso
from integration.sandbox.amazon.wire import ApiError, Reply, Req, invalid, not_found

TYPES = ("ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES", "REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED")
CAMEL = ("REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED")  # key casing differs per type [§6.2]
APP_ID = "amzn1.sellerapps.app.sandbox-0000-0000-0000-000000000000"


class Outbox:
    """Builds envelopes for subscribed types and posts them from one background thread."""

    def __init__(self, sim, seed: int):
        self.sim = sim
        self.target: str | None = None
        self.api_key: str | None = None           # sent as an EventBridge API destination's connection does
        self.api_key_header = "x-api-key"
        self.duplicates = 0.0
        self.reorder = 0.0
        self.sent: list[dict] = []
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
            self.sim.violations.extend(self.sim.models.validate(NOTIFICATION_SCHEMAS[kind], note))
        if "eventBridge" in dest.get("resource", {}):
            eb = dest["resource"]["eventBridge"]
            note = {"version": "0", "id": str(uuid.UUID(int=self._rnd.getrandbits(128))), "detail-type": kind,
                    "source": f"aws.partner/sellingpartnerapi.amazon.com/{eb['accountId']}/{APP_ID}",
                    "account": eb["accountId"], "time": now, "region": eb["region"], "resources": [], "detail": note}
        self.sent.append(note)
        self._q.put(note)
        if self._rnd.random() < self.duplicates:
            self._q.put(note)

    def _run(self) -> None:
        session = requests.Session()
        held = None  # a notification overtaken by the next one (or sent after 0.5 s if none comes)
        while True:
            try:
                note = self._q.get(timeout=0.5 if held is not None else None)
            except queue.Empty:
                self._post(session, held)
                held = None
                continue
            if note is None:
                if held is not None:
                    self._post(session, held)
                return
            if held is None and self._rnd.random() < self.reorder:
                held = note
                continue
            self._post(session, note)
            if held is not None:
                self._post(session, held)
                held = None

    def _post(self, session, note: dict) -> None:
        """Deliver like EventBridge's API destination: a few tries on 5xx / 429 / no answer, then give up."""
        if not self.target:
            return
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
                return
            time.sleep(0.2 * 2 ** attempt)
        # dropped, as Amazon drops after its retries: the sweep is the safety net

    def stop(self) -> None:
        self._q.put(None)


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
