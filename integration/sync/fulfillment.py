"""Fulfillment: SL shippers (carrier, tracking, ship date) go back to Amazon as shipment confirmations.

One SL shipper becomes one ``confirmShipment`` per box (SOShipPack row, or the shipper's SOShipHeader.TrackingNbr
when it has none), each with that box's tracking number and the Amazon order items and quantities it carries; a
partial shipment is simply a shipper with part of the order. ``xAMZShipment`` binds the shipper to what was sent,
so nothing is confirmed twice: before sending, Amazon's own view of the order (its packages) is read, and a box is
skipped when Amazon already has it: the package with the box's own packageReferenceId (``xAMZPackage``) and its
tracking number, i.e. a confirmation whose answer was lost in a crash; or a package confirmed outside the product
(Seller Central: a reference we never gave) with the box's tracking number and exactly its items. A box is never
recognised by its tracking number alone: carriers print one master number on every box of a multi-box shipment, so
after a crash between two boxes the second would be taken for the first and its items never confirmed. A reference
Amazon shows with another tracking number is sent again, which edits that package (the number was corrected in SL or
xAMZTracking after the first send). AFN orders are Amazon's to ship and are never confirmed by us.

Package references: Amazon's packageReferenceId "uniquely identifies a package within the scope of an order" and
must be a positive number (ordersV0.json); a second confirmShipment with the same reference *edits* that package
(Amazon's "Confirm the shipment status" guide). Each box therefore gets the next free number of its Amazon order
once, kept in ``xAMZPackage`` (``SLGateway.package_refs``): a retry sends the same reference (an edit of the same
package, never a second one) and two shippers of one order never share one, whatever their ShipperIDs look like.

Tracking numbers: SOShipPack.TrackingNbr is CHAR(20) and SOShipHeader.TrackingNbr CHAR(25); a 22-digit USPS
number does not fit (SL's own EDContainer_UpdateManifest keeps only Right(TrackingNbr, 20)). The whole number,
recorded by the warehouse or a person in ``xAMZTracking``, is sent instead of SL's; a number that fills its SL
column to the width with nothing recorded may have been cut, and the shipper is held (``tracking_truncated``)
rather than confirmed with a wrong number. A recorded number that neither begins nor ends with SL's value belongs
to another box (``tracking_conflict``).

Lines and boxes: each shipper line's Amazon order item is its own order line's (SOShipLine.OrdLineRef ->
SOLine.User1), never found by position. Which line went into which box SL does not say: SOShipPack has no line
key (SL links lines to boxes only in its EDI module, EDContainerDet by ContainerID and LineRef, and for lot or
serial numbers in SOShipLot.BoxRef, neither of which this reads). So: one box carries every line; as many boxes as
lines, one line each (both in LineRef / BoxRef order); otherwise the units are dealt out in line order, as evenly as
they go, so every box carries at least one unit and Amazon has every box's tracking number. Per item, the packages
add up to exactly what the shipper shipped. A box beyond the number of units carries nothing Amazon would accept
(an order item with quantity 1 or more is required): its tracking number is recorded on the binding and in the event.
"""

from __future__ import annotations

import logging
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


def _assign(shipper) -> list[tuple[object, list[tuple[str, int]]]]:
    """Each box with the (Amazon order item id, quantity) it carries, by the rule in the module docstring."""
    missing = [ln.line_ref for ln in shipper.lines if not ln.amazon_item_id]
    if missing:
        raise NeedsReview("missing_field", f"shipper {shipper.shipper_id} lines {', '.join(missing)} have no Amazon "
                          "order item id", fields=["amazon_item_id"])
    lines = sorted((ln for ln in shipper.lines if int(ln.qty) > 0), key=lambda ln: ln.line_ref)
    boxes = sorted(shipper.packages, key=lambda p: p.box_ref)
    if not boxes:
        raise NeedsReview("missing_field", f"shipper {shipper.shipper_id} has no tracking number",
                          fields=["TrackingNbr"])
    if len(boxes) == len(lines):
        return [(box, [(ln.amazon_item_id, int(ln.qty))]) for box, ln in zip(boxes, lines, strict=True)]
    units = [ln.amazon_item_id for ln in lines for _ in range(int(ln.qty))]
    share, extra = divmod(len(units), len(boxes))
    out, at = [], 0
    for n, box in enumerate(boxes):
        size = share + (1 if n < extra else 0)
        carried: dict[str, int] = {}
        for item in units[at:at + size]:
            carried[item] = carried.get(item, 0) + 1
        out.append((box, list(carried.items())))
        at += size
    return out


def _whole_tracking(shipper, boxes) -> None:
    """Hold a shipper whose tracking number may have been cut by SL's column, or whose recorded number is another's."""
    for pkg, _ in boxes:
        where = f"SOShipPack {pkg.box_ref}" if pkg.box_ref else "SOShipHeader"
        if pkg.looks_cut:
            raise NeedsReview(
                "tracking_truncated",
                f"shipper {shipper.shipper_id}: the tracking number in {where} fills its {pkg.sl_width} characters, "
                "so it may have been cut; record the whole number in xAMZTracking (CpnyID, ShipperID, BoxRef "
                f"{pkg.box_ref or 'blank'}, TrackingNbr) and release the hold", fields=["TrackingNbr"],
                details={"box_ref": pkg.box_ref, "width": pkg.sl_width})
        sl_value = pkg.sl_tracking_nbr
        if pkg.recorded_by and sl_value and not (pkg.tracking_nbr.startswith(sl_value)
                                                 or pkg.tracking_nbr.endswith(sl_value)):
            raise NeedsReview(
                "tracking_conflict",
                f"shipper {shipper.shipper_id}: the number recorded in xAMZTracking for {where} neither begins nor "
                "ends with the one SL holds; correct one of them and release the hold", fields=["TrackingNbr"],
                details={"box_ref": pkg.box_ref})


def _at_amazon(packages: list[dict], ours: set[str], ref: str, tracking: str, items: list[tuple[str, int]]) -> bool:
    """Whether Amazon already has this box (module docstring): its reference with its tracking number, or a package
    under a reference the product never gave (``ours``) with its tracking number and exactly its items."""
    def counted(pairs) -> dict[str, int]:
        out: dict[str, int] = {}
        for item_id, qty in pairs:
            out[str(item_id)] = out.get(str(item_id), 0) + int(qty)
        return out

    for p in packages:
        if str(p.get("packageReferenceId") or "") == ref:
            return p.get("trackingNumber") == tracking
    wanted = counted(items)
    return any(str(p.get("packageReferenceId") or "") not in ours and p.get("trackingNumber") == tracking
               and counted((x.get("orderItemId"), x.get("quantity") or 0) for x in p.get("packageItems") or []) == wanted
               for p in packages)


def confirm(ctx: Context, cpny_id: str, shipper_id: str) -> Outcome:
    """Confirm one SL shipper at Amazon, once. What needs a person (no tracking number, one SL may have cut, an
    order line without its Amazon item id, shipped after Amazon cancelled, the shipper gone) becomes a hold on the
    shipper, which ``slsync holds release`` re-runs once it is fixed."""
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
    at_amazon = order.get("packages") or []
    carrier = ctx.mapping.carrier_for(shipper.ship_via_id)
    marketplace = (order.get("salesChannel") or {}).get("marketplaceId") or ctx.settings.marketplace_ids[0]
    ship_date = shipper.ship_date if shipper.ship_date.tzinfo else shipper.ship_date.replace(tzinfo=UTC)
    boxes = _assign(shipper)
    loaded = [(pkg, items) for pkg, items in boxes if items]
    _whole_tracking(shipper, loaded)
    refs = ctx.sl.package_refs(shipper_id, oid, {pkg.box_ref: pkg.tracking_nbr for pkg, _ in loaded},
                               taken={str(p.get("packageReferenceId") or "") for p in at_amazon})
    ours = ctx.sl.order_package_refs(oid) if at_amazon else set()
    sent = []
    extra = [pkg.tracking_nbr for pkg, items in boxes if not items]
    for pkg, items in loaded:
        ref = refs[pkg.box_ref]
        if not _at_amazon(at_amazon, ours, ref, pkg.tracking_nbr, items):   # there: an earlier answer was lost
            ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id=oid, status="SENDING",
                                 response={"package": pkg.tracking_nbr, "reference": ref},
                                 event=Event("shipment", shipper_id, "shipment_sending", ctx.task_id))
            ctx.amazon.orders.confirm_shipment(
                oid, marketplace_id=marketplace, package_reference_id=ref,
                carrier_code=carrier.carrier_code, carrier_name=carrier.carrier_name or None,
                shipping_method=carrier.shipping_method or None, tracking_number=pkg.tracking_nbr,
                ship_date=ship_date, items=items)
        sent.append({"box": pkg.box_ref, "reference": ref, "tracking": pkg.tracking_nbr,
                     "items": [{"orderItemId": i, "quantity": q} for i, q in items]})
    ctx.sl.bind_shipment(shipper_id, ord_nbr=shipper.ord_nbr, amazon_order_id=oid, status="PUSHED",
                         response={"packages": sent, "unsent_tracking": extra},
                         event=Event("shipment", shipper_id, "shipment_confirmed", ctx.task_id,
                                     {"amazon_order_id": oid, "packages": len(sent), "unsent_tracking": extra}))
    return Outcome("confirmed", len(sent))
