"""Notifications in: one ``ingest()`` for every intake (HTTP receiver, SQS poller).

unwrap (EventBridge event or bare SQS body; PascalCase or camelCase keys) -> validate against the type's official
schema (a failure becomes a hold with the raw body) -> dedup on NotificationId -> route:

- ORDER_CHANGE: older than what SL already applied -> an event ``stale_notification``, skipped; else the order
  import is enqueued, coalesced so at most one import per order waits in the queue (``intake.coalesce``).
- REPORT_PROCESSING_FINISHED / FEED_PROCESSING_FINISHED / FBA_INVENTORY_AVAILABILITY_CHANGES / LISTINGS_ITEM_*:
  recorded as an xAMZEvent ``notification_received`` for the flows that consume them.

A notification counts as seen (the dedup marker) only after its route succeeded (enqueue returned, event or hold
written): if anything fails, ``ingest`` raises and the sender's retry is processed afresh. ``enqueue`` is supplied
by the face (``enqueue(task_name, args, queue)``), so this module never imports Celery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from integration.amazon.ids import is_order_id, shown_value
from integration.guard import dedup, keys, redis_client
from integration.intake import coalesce
from integration.intake.schemas import Schemas, default_schemas
from integration.sl.models import Event
from integration.timeutil import parse_amazon_time

log = logging.getLogger("slsync.intake")
ORDER_IMPORT = "slsync.orders.import"
SEEN_TTL = 14 * 24 * 3600        # SQS keeps a message at most 14 days
# Amazon's notifications nest under 10 levels (the schemas in integration/amazon/models); a body nested deeper is
# refused before anything walks it (a 100k-deep list once raised RecursionError and was answered "retry").
MAX_DEPTH = 32
Enqueue = Callable[[str, list, str], None]
# IngestResult.status -> the outcome counted in keys.intake_received ("accepted" ORDER_CHANGE: its import enqueued)
COUNTED_AS = {"accepted": "enqueued"}
# type -> (entity, path of its key inside the payload) for the types that are recorded for later flows
RECORDED = {
    "REPORT_PROCESSING_FINISHED": ("report", ("reportProcessingFinishedNotification", "reportId")),
    "FEED_PROCESSING_FINISHED": ("feed", ("feedProcessingFinishedNotification", "feedId")),
    "FBA_INVENTORY_AVAILABILITY_CHANGES": ("fba", ("SKU",)),
    "LISTINGS_ITEM_STATUS_CHANGE": ("listing", ("Sku",)),
    "LISTINGS_ITEM_ISSUES_CHANGE": ("listing", ("Sku",)),
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": ("listing", ("Sku",)),
}


class Malformed(ValueError):
    """The body is not JSON at all, or nested deeper than ``MAX_DEPTH`` (HTTP 400; the SQS poller keeps it as a
    hold): retrying cannot fix it."""


@dataclass(frozen=True)
class IngestResult:
    status: str                  # accepted, coalesced, duplicate, stale, held, recorded
    notification_id: str = ""
    type: str = ""
    key: str = ""


@dataclass(frozen=True)
class Notification:
    type: str
    notification_id: str
    event_time: str
    payload: dict
    body: dict                   # the notification itself (unwrapped)


def parse(raw: bytes | str | dict) -> object:
    if isinstance(raw, dict | list):
        return raw
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"not JSON: {exc.__class__.__name__}") from None
    except RecursionError:  # the parser gives up on deep nesting: the body is refused, never retried
        raise Malformed(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth_over(doc, MAX_DEPTH):
        raise Malformed(f"JSON nested deeper than {MAX_DEPTH} levels")
    return doc


def _depth_over(doc: object, limit: int) -> bool:
    """Whether ``doc`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def unwrap(doc: object) -> object:
    """The notification inside an EventBridge event (``detail``, ``detail-type``), or the SQS body itself."""
    if isinstance(doc, dict) and "detail-type" in doc and isinstance(doc.get("detail"), dict):
        return doc["detail"]
    return doc


def _pick(doc: dict, name: str):
    """``NotificationType`` or ``notificationType``: key casing differs by type [reference README note 11]."""
    if name in doc:
        return doc[name]
    return doc.get(name[0].lower() + name[1:])


def read(note: object, detail_type: str = "") -> Notification:
    doc = note if isinstance(note, dict) else {}
    meta = _pick(doc, "NotificationMetadata")
    meta = meta if isinstance(meta, dict) else {}
    payload = _pick(doc, "Payload")
    return Notification(type=str(_pick(doc, "NotificationType") or detail_type or ""),
                        notification_id=str(_pick(meta, "NotificationId") or ""),
                        event_time=str(_pick(doc, "EventTime") or ""),
                        payload=payload if isinstance(payload, dict) else {}, body=doc)


_local = threading.local()


def _sl():
    """One SL gateway per thread (a connection is never shared between threads)."""
    gw = getattr(_local, "sl", None)
    if gw is None:
        from integration.sl import SLGateway

        gw = _local.sl = SLGateway.connect()
    return gw


def ingest(raw: bytes | str | dict, *, source: str, enqueue: Enqueue, r=None, sl=None,
           schemas: Schemas | None = None) -> IngestResult:
    """Accept one notification; raises ``Malformed`` for non-JSON and any other error when nothing was accepted.

    Each answer is counted per intake, type and outcome (``keys.intake_received``: ``sqs:ORDER_CHANGE:enqueued``,
    ``sqs:ORDER_CHANGE:duplicate``, ``http:LISTINGS_ITEM_STATUS_CHANGE:recorded``, ``http:unknown:malformed``):
    which transport really brings what, and what became of it (the demo reports it). An error that leaves the
    notification to the sender's retry is not counted.
    """
    r = r if r is not None else redis_client()
    try:
        result = _ingest(raw, source=source, enqueue=enqueue, r=r, sl=sl, schemas=schemas)
    except Malformed:
        r.hincrby(keys.intake_received(), f"{source}:unknown:malformed", 1)
        raise
    outcome = COUNTED_AS.get(result.status, result.status)
    r.hincrby(keys.intake_received(), f"{source}:{result.type or 'unknown'}:{outcome}", 1)
    return result


def _ingest(raw, *, source: str, enqueue: Enqueue, r, sl, schemas: Schemas | None) -> IngestResult:
    sl = sl if sl is not None else _sl()
    doc = parse(raw)
    detail_type = str(doc.get("detail-type", "")) if isinstance(doc, dict) else ""
    inner = unwrap(doc)
    note = read(inner, detail_type)
    if schemas is None:
        from integration.config import settings

        schemas = default_schemas(settings().spapi_models_dir)
    problems = schemas.errors(note.type, inner) or ([] if note.type else ["NotificationType: missing"])
    if not problems and note.event_time:
        try:
            parse_amazon_time(note.event_time)
        except ValueError:
            problems = [f"EventTime: {note.event_time[:40]!r} is not a date-time"]
    if problems:
        return _hold(r, sl, raw, note, problems, source)
    if note.type == "ORDER_CHANGE" and not is_order_id(note.payload["OrderChangeNotification"]["AmazonOrderId"]):
        # the id goes into getOrder's path: one that is not Amazon's 3-7-7 shape is held, and nothing is called
        oid = shown_value(note.payload["OrderChangeNotification"]["AmazonOrderId"])
        return _hold(r, sl, raw, note, [f"Payload.OrderChangeNotification.AmazonOrderId: {oid} is not an Amazon "
                                        "order id (3-7-7)"], source, reason="invalid_id")
    if not note.notification_id:  # the FBA schema declares no metadata: a body hash stands in for the id
        digest = hashlib.sha256(json.dumps(note.body, sort_keys=True).encode()).hexdigest()[:40]
        note = Notification(note.type, "sha256:" + digest, note.event_time, note.payload, note.body)
    if dedup.seen(r, "notification", note.notification_id):
        return IngestResult("duplicate", note.notification_id, note.type)
    if note.type == "ORDER_CHANGE":
        result = _order_change(r, sl, note, enqueue)
    else:
        result = _record(sl, note, source)
    dedup.first_time(r, "notification", note.notification_id, ttl=SEEN_TTL)
    return result


def _order_change(r, sl, note: Notification, enqueue: Enqueue) -> IngestResult:
    oid = note.payload["OrderChangeNotification"]["AmazonOrderId"]
    at = parse_amazon_time(note.event_time)
    binding = sl.get_order_binding(oid)
    if binding is not None and binding.last_updated and at < parse_amazon_time(binding.last_updated):
        sl.record_event(Event("order", oid, "stale_notification", "",
                              {"notification_id": note.notification_id, "event_time": note.event_time,
                               "applied": binding.last_updated}))
        return IngestResult("stale", note.notification_id, note.type, oid)
    r.delete(keys.order_payload(oid))  # a sweep's cached copy may predate this event: the import reads afresh
    status, token = coalesce.claim(r, "order", oid, int(at.timestamp() * 1000))
    if status == "coalesced":
        return IngestResult("coalesced", note.notification_id, note.type, oid)
    try:
        enqueue(ORDER_IMPORT, [oid], "sl")
    except BaseException:
        coalesce.release(r, "order", oid, token)
        raise
    if status == "claimed":
        coalesce.confirm(r, "order", oid, token)
    return IngestResult("accepted", note.notification_id, note.type, oid)


def _record(sl, note: Notification, source: str) -> IngestResult:
    entity, path = RECORDED.get(note.type, ("notification", ()))
    key = note.payload
    for part in path:
        key = key.get(part) if isinstance(key, dict) else None
    key = str(key or note.type or "unknown")[:60]
    sl.record_event(Event(entity, key, "notification_received", "",
                          {"type": note.type, "notification_id": note.notification_id,
                           "event_time": note.event_time, "source": source, "payload": note.payload}))
    return IngestResult("recorded", note.notification_id, note.type, key)


def _hold(r, sl, raw, note: Notification, problems: list[str], source: str,
          reason: str = "schema_invalid") -> IngestResult:
    text = raw if isinstance(raw, str) else (raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray)
                                             else json.dumps(raw))
    ident = note.notification_id or "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    if dedup.seen(r, "notification", ident):
        return IngestResult("duplicate", ident, note.type)
    what = "failed its schema check" if reason == "schema_invalid" else "names an invalid id; nothing was called"
    hold_id = sl.create_hold("notification", ident[:60], reason,
                             f"{note.type or 'unknown'} notification {what} ({len(problems)} "
                             f"problem(s)): {problems[0][:200]}",
                             {"raw": text, "errors": problems[:50], "type": note.type, "source": source})
    log.warning("notification %s (%s) held as %s: %s", ident, note.type or "unknown", hold_id, reason)
    dedup.first_time(r, "notification", ident, ttl=SEEN_TTL)
    return IngestResult("held", ident, note.type, str(hold_id))


def import_started(r, amazon_order_id: str) -> None:
    """Called by the import task before it reads Amazon: events from now on queue another import."""
    coalesce.started(r, "order", amazon_order_id)
