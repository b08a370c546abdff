"""Fulfillment: SL shippers (carrier, tracking, ship date) go back to Amazon as shipment confirmations.

One SL shipper becomes one ``confirmShipment`` per package (box), each naming the Amazon order items and
quantities it carries; a partial shipment is simply a shipper with part of the order. ``xAMZShipment``
binds the shipper to what was sent, so nothing is confirmed twice: before sending, Amazon's own view of
the order (its packages and tracking numbers) is read, so a confirmation whose answer was lost in a crash
is recognised instead of repeated. AFN orders are Amazon's to ship and are never confirmed by us.

SL keeps no record of which line went into which box (SOShipPack has no line key), so when a shipper has
as many boxes as lines each line goes with its box; otherwise every line goes with the first box and the
other boxes' tracking numbers are recorded on the binding and in an event.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integration.errors import NeedsReview
from integration.guard import keys
from integration.sl.models import Event
from integration.sync.context import Context

log = logging.getLogger("slsync.fulfillment")
CURSOR = "fulfillment.shippers"


@dataclass(frozen=True)
class Outcome:
    value: str               # confirmed, already_confirmed, skipped_afn, not_amazon, cancelled_at_amazon, held
    packages: int = 0
    detail: str = ""


CONFIRM_TASK = "slsync.fulfillment.confirm"
REQUEUE_AFTER = 900   # seconds: a shipper still unconfirmed is handed out again at most this often


def sweep(ctx: Context, enqueue) -> int:
    """Hand every confirmed, not yet settled shipper changed since the watermark to ``enqueue``.

    The watermark stays at the earliest shipper still to be confirmed, so a confirmation lost on the way (a
    flushed queue, a worker gone) is found again by a later sweep; one held for a person waits for the release.
    A shipper still waiting is handed out again at most every ``REQUEUE_AFTER`` seconds.
    """
    saved = ctx.sl.get_cursor(CURSOR)
    watermark = datetime.fromisoformat(saved) if saved else None
    shippers = ctx.sl.shippers_confirmed_since(watermark, unpushed_only=True)
    if not shippers:
        return 0
    held = {h.key for h in ctx.sl.list_holds(status="OPEN", entity="shipper")}
    todo = [s for s in shippers if _key(s.cpny_id, s.shipper_id) not in held]
    due = [s for s in todo if ctx.redis.set(keys.key("queued", "shipper", _key(s.cpny_id, s.shipper_id)), "1",
                                            nx=True, ex=REQUEUE_AFTER)]
    if due:
        enqueue([(s.cpny_id, s.shipper_id) for s in due])
    mark = min(s.changed_at for s in todo) if todo else max(s.changed_at for s in shippers)
    # SL stamps minutes (SMALLDATETIME): keep the minute, so a shipper saved later in it is seen again
    ctx.sl.set_cursor(CURSOR, (mark - timedelta(minutes=1)).isoformat())
    return len(due)


def _key(cpny_id: str, shipper_id: str) -> str:
    return f"{cpny_id}:{shipper_id}"


def _package_ref(shipper_id: str, index: int) -> str:
    # Amazon: "a seller-supplied identifier ... Only positive numeric values are supported" (ordersV0.json)
    digits = re.sub(r"\D", "", shipper_id) or "0"
    return str(int(digits) * 100 + index + 1)


def _assign(shipper) -> list[tuple[object, list[tuple[str, int]]]]:
    missing = [ln.line_ref for ln in shipper.lines if not ln.amazon_item_id]
    if missing:
        raise NeedsReview("missing_field", f"shipper {shipper.shipper_id} lines {', '.join(missing)} have no Amazon "
                          "order item id", fields=["amazon_item_id"])
    items = [(ln.amazon_item_id, int(ln.qty)) for ln in shipper.lines if int(ln.qty) > 0]
    if not shipper.packages:
        raise NeedsReview("missing_field", f"shipper {shipper.shipper_id} has no tracking number",
                          fields=["TrackingNbr"])
    if len(shipper.packages) == len(items) > 1:
        return [(pkg, [item]) for pkg, item in zip(shipper.packages, items, strict=True)]
    return [(shipper.packages[0], items)] + [(pkg, []) for pkg in shipper.packages[1:]]


def confirm(ctx: Context, cpny_id: str, shipper_id: str) -> Outcome:
    """Confirm one SL shipper at Amazon, once. What needs a person (no tracking number, an order line without its
    Amazon item id, shipped after Amazon cancelled, the shipper gone) becomes a hold on the shipper, which
    ``slsync holds release`` re-runs once it is fixed."""
    try:
        return _confirm(ctx, cpny_id, shipper_id)
    except NeedsReview as exc:
        key = _key(cpny_id, shipper_id)
        hold_id = ctx.sl.create_hold("shipper", key, exc.reason, exc.message, {
            "error": exc.to_dict(), "task": CONFIRM_TASK, "args": [cpny_id, shipper_id], "queue": "amazon",
            "task_id": ctx.task_id})
        log.warning("shipper %s held (%s, hold %s): %s", key, exc.reason, hold_id, exc.message)
        return Outcome("held", detail=exc.reason)


def _confirm(ctx: Context, cpny_id: str, shipper_id: str) -> Outcome:
    bound = ctx.sl.get_shipment_binding(shipper_id) or {}
    if bound.get("status") in ("PUSHED", "SKIPPED_AFN", "NOT_AMAZON"):
        return Outcome("already_confirmed" if bound["status"] == "PUSHED" else bound["status"].lower())
    shipper = ctx.sl.shipper(shipper_id)
    if shipper is None:
        raise NeedsReview("missing_document", f"SL shipper {cpny_id}/{shipper_id} is gone", fields=["ShipperID"])
    order_binding = ctx.sl.find_order_binding(shipper.ord_nbr)
    if order_binding is None:
        ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id="", status="NOT_AMAZON")
        return Outcome("not_amazon")
    oid = order_binding.amazon_order_id
    order = ctx.amazon.orders.get(oid, included=("FULFILLMENT", "PACKAGES"))
    channel = ((order.get("fulfillment") or {}).get("fulfilledBy") or "").upper()
    if channel in ("AMAZON", "AFN"):
        ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id=oid, status="SKIPPED_AFN")
        return Outcome("skipped_afn")
    status = ((order.get("fulfillment") or {}).get("fulfillmentStatus") or "").upper()
    if status == "CANCELLED":
        raise NeedsReview("shipped_after_cancel", f"SL shipped {shipper.ord_nbr} but Amazon cancelled {oid}",
                          fields=["status"])
    at_amazon = {p.get("trackingNumber") for p in order.get("packages") or [] if p.get("trackingNumber")}
    carrier = ctx.mapping.carrier_for(shipper.ship_via_id)
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId") or ctx.settings.marketplace_ids[0]
    ship_date = shipper.ship_date if shipper.ship_date.tzinfo else shipper.ship_date.replace(tzinfo=UTC)
    sent, extra = [], []
    for index, (pkg, items) in enumerate(_assign(shipper)):
        if not items:
            extra.append(pkg.tracking_nbr)
            continue
        if pkg.tracking_nbr not in at_amazon:  # already there: our earlier answer was lost, not repeated
            ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id=oid, status="SENDING",
                                 response={"package": pkg.tracking_nbr},
                                 event=Event("shipment", shipper_id, "shipment_sending", ctx.task_id))
            ctx.amazon.orders.confirm_shipment(
                oid, marketplace_id=marketplace, package_reference_id=_package_ref(shipper_id, index),
                carrier_code=carrier.carrier_code, carrier_name=carrier.carrier_name or None,
                shipping_method=carrier.shipping_method or None, tracking_number=pkg.tracking_nbr,
                ship_date=ship_date, items=items)
        sent.append({"tracking": pkg.tracking_nbr, "items": [{"orderItemId": i, "quantity": q} for i, q in items]})
    ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id=oid, status="PUSHED",
                         response={"packages": sent, "unsent_tracking": extra},
                         event=Event("shipment", shipper_id, "shipment_confirmed", ctx.task_id,
                                     {"amazon_order_id": oid, "packages": len(sent), "unsent_tracking": extra}))
    return Outcome("confirmed", len(sent))
