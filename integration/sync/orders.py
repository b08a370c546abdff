"""Orders to cash: an Amazon order becomes (or changes) an SL sales order.

``import_order`` is idempotent per order: the xAMZOrder binding says what was applied last (Amazon's
``lastUpdatedTime`` and a payload hash); the mapping's status table says what to do in SL given what SL
has now; the SL document, the binding and an event are written in one transaction (the gateway's).
Problems a person must solve become holds (``xAMZHold``); the caller's task then succeeds.

Go-live (``GO_LIVE``): an order Amazon had already shipped or cancelled before the product took over is history,
not a conflict. Whether an order is history is read from its ``lastUpdatedTime``, not its purchase date: an order
last changed before go-live reached its final state before it, whereas one bought before go-live and shipped after
it left the warehouse while the product was responsible, without SL, which is the conflict a person must see.
History is recorded as the mapping's ``history`` says (``skip``: an xAMZOrder row with Status HISTORY and no SL
document, and an event), so a later update of that order is recognised, never a conflict nor a new order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integration import alerts
from integration.amazon.order_shape import NO_PRICES_YET, order_from_amazon, payload_hash, require_shippable
from integration.amazon.orders import amazon_time
from integration.canonical import Order, currency_places
from integration.errors import NeedsReview
from integration.guard import keys
from integration.sl.models import (
    Event,
    ItemPolicy,
    MiscCharge,
    OrderBinding,
    OrderTax,
    SalesOrder,
    SalesOrderLine,
)
from integration.sl.state import HISTORY
from integration.sync import paging
from integration.sync.context import Context
from integration.timeutil import parse_amazon_time as _ts

log = logging.getLogger("slsync.orders")
# The sweep's copy of an order (with the buyer's name and address) only hands it to the import queued at the same
# moment; an import that waited longer reads the order afresh (getOrder), so buyer data is not kept for an hour.
PAYLOAD_TTL = 900
SL_STATES = {"": "none", "OPEN": "open_order", "INVOICED": "invoiced", "CREDITED": "invoiced", "CANCELLED": "cancelled"}
BY_INVTID, BY_XREF = ItemPolicy(order=("invtid",)), ItemPolicy(order=("xref",))
_ORDER_FIELDS = {f.name for f in dataclasses.fields(SalesOrder)} - {"lines", "CustOrdNbr", "OrdDate"}


@dataclass(frozen=True)
class Outcome:
    value: str               # created, invoiced, cancelled, credited, updated, unchanged, stale, waiting, skipped,
    #                          history, held
    ord_nbr: str = ""
    hold_id: int | None = None
    detail: str = ""


def cache_payload(ctx: Context, payload: dict) -> None:
    """Keep an order as searchOrders returned it, so its import needs no second call."""
    ctx.redis.set(keys.order_payload(payload["orderId"]), json.dumps(payload), ex=PAYLOAD_TTL)


def _cached_payload(ctx: Context, amazon_order_id: str) -> dict | None:
    raw = ctx.redis.get(keys.order_payload(amazon_order_id))
    return json.loads(raw) if raw else None


def import_order(amazon_order_id: str, ctx: Context, *, fresh: bool = False) -> Outcome:
    """Bring SL in step with Amazon's current state of one order."""
    payload = None if fresh else _cached_payload(ctx, amazon_order_id)
    outcome = apply_order(payload or ctx.amazon.orders.get(amazon_order_id), ctx)
    if outcome.value == "stale" and payload is not None:
        # the sweep's copy is older than what SL already has: ask Amazon for today's truth once
        outcome = apply_order(ctx.amazon.orders.get(amazon_order_id), ctx)
    ctx.redis.delete(keys.order_payload(amazon_order_id))
    return outcome


def apply_order(payload: dict, ctx: Context) -> Outcome:
    """Apply one Orders v2026-01-01 order payload to SL (see the module docstring)."""
    oid = str(payload.get("orderId") or "")
    if not oid:
        return _hold(ctx, "order", "?", NeedsReview("missing_field", "order has no orderId", fields=["orderId"]),
                     payload, alert=True)
    last, digest = str(payload.get("lastUpdatedTime") or ""), payload_hash(payload)
    binding = ctx.sl.get_order_binding(oid)
    if binding is not None and binding.last_updated and last:
        if _ts(binding.last_updated) > _ts(last):
            ctx.sl.record_event(Event("order", oid, "stale_skipped", ctx.task_id,
                                      {"applied": binding.last_updated, "received": last}))
            return Outcome("stale", binding.ord_nbr)
        if binding.last_updated == last and binding.payload_hash == digest:
            return Outcome("unchanged", binding.ord_nbr)
    new = OrderBinding(oid, last, digest, _amazon_state(payload)[0])
    if is_history(ctx, payload, binding):
        return _history(ctx, payload, binding, new)
    try:
        order = order_from_amazon(payload)
        sl_state = SL_STATES.get(binding.sl_status if binding else "", "none")
        action = ctx.mapping.action_for(order.status, order.fulfillment_channel, sl_state=sl_state)
        return _ACTIONS[action](ctx, order, binding, OrderBinding(oid, last, digest, order.status,
                                                                  original_order_id=order.replaces))
    except NeedsReview as exc:
        role = exc.details.get("role")
        outcome = _hold(ctx, "order", oid, exc, payload, alert=exc.reason == "missing_field" and not role)
        if role:
            _role_missing(ctx, role, oid, outcome.hold_id)
        return outcome


def _amazon_state(payload: dict) -> tuple[str, str]:
    """(fulfillmentStatus, MFN or AFN) of a v2026-01-01 order as Amazon sent it."""
    fulfillment = payload.get("fulfillment") or {}
    channel = "AFN" if str(fulfillment.get("fulfilledBy", "")).upper() == "AMAZON" else "MFN"
    return str(fulfillment.get("fulfillmentStatus") or ""), channel


HISTORY_STATUSES = ("SHIPPED", "CANCELLED")    # final states an order may have reached before go-live


def is_history(ctx: Context, payload: dict, binding: OrderBinding | None) -> bool:
    """True for an order recorded as history, or one SL never saw that Amazon shipped (MFN or AFN) or cancelled
    before go-live: its ``lastUpdatedTime`` (the last change of any kind, so the shipment or cancellation too) is
    not after ``GO_LIVE`` (a ``GO_LIVE`` given as a date is midnight UTC: an order stamped exactly then is history).
    Unshipped orders are never history: they still have to be shipped."""
    if binding is not None:
        return binding.sl_status.strip() == HISTORY
    go_live = ctx.settings.go_live
    status, last = _amazon_state(payload)[0].upper(), str(payload.get("lastUpdatedTime") or "")
    if go_live is None or status.replace("CANCELED", "CANCELLED") not in HISTORY_STATUSES or not last:
        return False
    try:
        return _ts(last) <= go_live   # at go-live itself the product had not yet taken over
    except ValueError:
        return False   # an unreadable time is decided (and held) by the ordinary path


def _history(ctx: Context, payload: dict, binding: OrderBinding | None, new: OrderBinding) -> Outcome:
    """Record an order that was history at go-live, never a hold. ``history: skip``: no SL document; ``closed``: the
    sales order written closed (``integration.sl.orders.create``), or, when it cannot be written (an unknown SKU ...),
    recorded as with skip, the reason in the event.
    First sight: an xAMZOrder row with Status HISTORY and an event "history"; a later update of it: the binding
    takes Amazon's new state and an event "history_updated", once per version (an equal one is "unchanged")."""
    status, channel = _amazon_state(payload)
    detail = {"status": status, "channel": channel, "last_updated": new.last_updated,
              "go_live": ctx.settings.go_live.isoformat() if ctx.settings.go_live else None,
              "mode": ctx.mapping.history}
    oid = new.amazon_order_id
    if binding is None and ctx.mapping.history == "closed":
        try:
            order = order_from_amazon(payload)
            so, _ = build_sales_order(ctx, order)
            so.AdminHold = 0
            so.expected_total = None   # history is recorded as it was, never held (Amazon prices no cancelled order)
            ord_nbr = ctx.sl.create_sales_order(
                so, new, Event("order", oid, "history", ctx.task_id, detail),
                closed="cancelled" if status.upper().startswith("CANCEL") else "shipped")
            return Outcome("history", ord_nbr)
        except NeedsReview as exc:   # e.g. an SKU SL does not have: recorded without a document, still never held
            detail["not_written"] = f"{exc.reason}: {exc.message}"
    if binding is None:
        ctx.sl.record_order_history(new, Event("order", oid, "history", ctx.task_id, detail))
    else:
        ctx.sl.update_order_binding(oid, last_updated=new.last_updated, payload_hash=new.payload_hash,
                                    status=new.status, event=Event("order", oid, "history_updated", ctx.task_id,
                                                                   detail))
    return Outcome("history")


def _role_missing(ctx: Context, role: str, oid: str, hold_id: int | None) -> None:
    """One alert per seller and role however many orders it holds (its alert key; a reminder each
    ALERT_REPEAT_SECONDS while orders keep arriving without the data): the fix is one grant in Seller Central."""
    seller = ctx.settings.seller_id
    alerts.alert(f"Amazon role missing: {role}", dedup_key=f"role:{seller}:{role}", seller_id=seller, role=role,
                 order=oid, hold_id=hold_id,
                 message=f"seller {seller} has not granted this application the {role} role: Amazon leaves buyer "
                         f"data out and the orders that need it are held (missing_field). Grant the role in Seller "
                         f"Central, then: slsync holds release --reason missing_field")


def _hold(ctx: Context, entity: str, key: str, exc: NeedsReview, payload: dict, *, alert: bool) -> Outcome:
    hold_id = ctx.sl.create_hold(entity, key, exc.reason, exc.message,
                                 {"error": exc.to_dict(), "payload": payload, "task_id": ctx.task_id})
    log.warning("order %s held (%s, hold %s): %s", key, exc.reason, hold_id, exc.message)
    if alert:
        alerts.alert(f"{entity} held: {exc.reason}", key=key, hold_id=hold_id, fields=list(exc.fields),
                     message=exc.message)
    return Outcome("held", hold_id=hold_id, detail=exc.reason)


def build_sales_order(ctx: Context, order: Order) -> tuple[SalesOrder, list[str]]:
    """The SL sales order for a canonical order; the second value lists ghost-item SKUs (flagged, on admin hold).

    Money the SL way (see ``integration.sl.orders.create``): each line's merchandise after its promotions, shipping
    less shipping promotions as freight, gift wrap / COD / other charges as misc charges, Amazon's tax as the
    marketplace's SOTax row; where prices include VAT (the mapping's ``prices_include_tax``) the tax Amazon states
    is taken out of each amount. Amazon's order total goes along, and SL's must equal it to the cent.
    """
    fields = ctx.mapping.sl_order_fields(order, measure=ctx.sl.db.codepage.measure)
    site = ctx.mapping.site_for(order.fulfillment_channel)
    market = ctx.mapping.marketplace(order.marketplace_id)
    incl = market.prices_include_tax
    lines, ghosts, notes = [], [], [fields.pop("note", "")]
    misc: dict[str, Decimal] = {}
    freight = tax_merch = tax_frt = tax_misc = Decimal(0)
    for line in order.lines:
        if line.quantity_ordered == 0:   # a line Amazon cancelled (nothing to ship, no money): kept in the note
            notes.append(f"Amazon line {line.amazon_order_item_id} ({line.seller_sku}) has quantity 0: not booked")
            continue
        invt_id, how = ctx.mapping.resolve_sku(
            line.seller_sku, find_invtid=lambda s: ctx.sl.find_item_for_sku(s, BY_INVTID),
            find_xref=lambda s: ctx.sl.find_item_for_sku(s, BY_XREF))
        if how == "ghost":
            ghosts.append(line.seller_sku)
            notes.append(f"GHOST ITEM: Amazon SKU {line.seller_sku} is not an SL item; booked as {invt_id}")
        promo = line.promotion_discount.amount
        ship_disc = line.shipping_discount.amount if line.shipping_discount else Decimal(0)
        if promo > line.item_price.amount:   # a promotion without details larger than the item: the rest is shipping's
            ship_disc += promo - line.item_price.amount
            promo = line.item_price.amount
        after_promo = line.item_price.amount - promo
        net = after_promo - (line.item_tax.amount if incl else 0)
        unit = line.unit_price.amount
        if incl and after_promo:
            unit = unit * net / after_promo   # the price without the VAT it contains
        lines.append(SalesOrderLine(
            invt_id=invt_id, qty=Decimal(line.quantity_ordered), unit_price=unit, site_id=site,
            description=line.title, amazon_item_id=line.amazon_order_item_id,
            alternate_id=line.seller_sku if line.seller_sku != invt_id else "",
            discount=promo, net=net, qty_shipped=Decimal(line.quantity_shipped)))
        freight += line.shipping_price.amount - ship_disc - (line.shipping_tax.amount if incl else 0)
        for kind, charge, charge_tax in (("GIFT_WRAP", line.gift_wrap_price, line.gift_wrap_tax),
                                         ("COD_FEE", line.cod_fee, line.cod_fee_tax),
                                         ("OTHER", line.other_charge, line.other_tax)):
            amount = (charge.amount if charge is not None else Decimal(0)) - \
                (charge_tax.amount if incl and charge_tax is not None else Decimal(0))   # each charge's own VAT
            if amount:
                misc[kind] = misc.get(kind, Decimal(0)) + amount
        tax_merch += line.item_tax.amount
        tax_frt += line.shipping_tax.amount
        tax_misc += line.misc_tax.amount if line.misc_tax else Decimal(0)
    for kind, charge in order.order_charges:
        misc[kind] = misc.get(kind, Decimal(0)) + charge.amount
    header = {k: v for k, v in fields.items() if k in _ORDER_FIELDS}

    def day(moment):   # the marketplace's calendar day of a moment
        return moment.astimezone(market.zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None) \
            if moment else None

    so = SalesOrder(CustOrdNbr=order.amazon_order_id, OrdDate=day(order.purchase_date),
                    lines=lines, ShipSiteID=site, CuryID=order.order_total.currency, TotFrt=freight,
                    misc=[MiscCharge(ctx.mapping.misc_charge_for(kind), amount, _CHARGE_NAMES.get(kind, kind))
                          for kind, amount in misc.items()],
                    tax=OrderTax(market.tax_id, tax_merch, tax_frt, tax_misc),
                    expected_total=order.order_total.amount, ReqDate=day(order.deliver_by),
                    PromDate=day(order.deliver_by), ShipDate=day(order.ship_by), cancel_days=ctx.mapping.cancel_days,
                    FrtTermsID=ctx.mapping.freight_terms,
                    AdminHold=1 if ghosts else 0, note="\n".join(n for n in notes if n), **header)
    return so, ghosts


_CHARGE_NAMES = {"GIFT_WRAP": "Amazon gift wrap", "COD_FEE": "Amazon COD fee", "OTHER": "Amazon other charge",
                 "DELIVERY_TIP": "Amazon delivery tip"}


def _event(ctx: Context, order: Order, action: str, **detail) -> Event:
    return Event("order", order.amazon_order_id, action, ctx.task_id,
                 {"status": order.status, "channel": order.fulfillment_channel, **detail})


def _create(ctx: Context, order: Order, binding: OrderBinding | None, new: OrderBinding) -> Outcome:
    require_shippable(order)   # never a sales order we cannot ship: held, naming the role Amazon wants
    so, ghosts = build_sales_order(ctx, order)
    ord_nbr = ctx.sl.create_sales_order(so, new, _event(ctx, order, "sl_order_created", lines=len(so.lines)))
    if ghosts:
        _hold(ctx, "order", order.amazon_order_id,
              NeedsReview("ghost_item", f"booked with a placeholder item for SKUs {', '.join(ghosts)}",
                          fields=["seller_sku"]), {"order_id": order.amazon_order_id, "ord_nbr": ord_nbr}, alert=False)
    return Outcome("created", ord_nbr)


def _create_and_invoice(ctx, order, binding, new) -> Outcome:
    if order.fulfillment_channel == "AFN":
        return _fba_sale(ctx, order, binding, new)
    ord_nbr = _create(ctx, order, binding, new).ord_nbr
    ctx.sl.create_invoice(ord_nbr, event=_event(ctx, order, "invoiced", ord_nbr=ord_nbr))
    ctx.sl.update_order_binding(order.amazon_order_id, last_updated=new.last_updated,
                                payload_hash=new.payload_hash, status=new.status)
    return Outcome("invoiced", ord_nbr)


def _invoice(ctx, order, binding, new) -> Outcome:
    if order.fulfillment_channel == "AFN":
        return _fba_sale(ctx, order, binding, new)
    ctx.sl.create_invoice(binding.ord_nbr, event=_event(ctx, order, "invoiced", ord_nbr=binding.ord_nbr))
    return _update(ctx, order, binding, new, "invoiced")


def _fba_sale(ctx, order, binding, new) -> Outcome:
    """Amazon shipped an order from its own warehouse: SL gets the order closed, a confirmed shipper at the FBA
    site, the IN issue batch and the invoice for what shipped, dated the day Amazon reported the shipment, all in
    one transaction with the binding (``integration.sl.fba``; a crash or error anywhere leaves nothing, and the
    retry books it whole). The ship day is the ``lastUpdatedTime`` of the first version seen shipped, kept in the
    binding. Held: a line Amazon shipped short of its quantity (``fba_short_shipment``), an unknown SKU (no ghost
    item leaves an FBA warehouse), an open SL order whose total is no longer Amazon's."""
    short = [f"{ln.seller_sku} shipped {ln.quantity_shipped} of {ln.quantity_ordered}" for ln in order.lines
             if ln.quantity_ordered and ln.quantity_shipped != ln.quantity_ordered]
    if short:
        raise NeedsReview("fba_short_shipment", f"Amazon reports the order shipped, but {'; '.join(short)}",
                          fields=["quantityShipped"], details={"lines": short})
    shipped_at = (binding.shipped_at or "").strip() if binding is not None else ""
    new = dataclasses.replace(new, shipped_at=shipped_at or new.last_updated, original_order_id=order.replaces)
    so = None
    if binding is None:
        require_shippable(order)
        so, ghosts = build_sales_order(ctx, order)
        if ghosts:
            raise NeedsReview("unknown_sku", f"SKUs {', '.join(ghosts)} are not SL items; an FBA sale issues stock, "
                              "so it is not booked with a placeholder item", fields=["seller_sku"],
                              details={"skus": ghosts})
    elif binding.sl_status.strip() == "OPEN":
        _total_in_step(ctx, order, binding, new)
    market = ctx.mapping.marketplace(order.marketplace_id)
    ship_day = _ts(new.shipped_at).astimezone(market.zone).replace(tzinfo=None)
    booked = ctx.sl.book_fba_sale(new, order=so, ship_date=ship_day,
                                  event=_event(ctx, order, "fba_sale", shipped_at=new.shipped_at,
                                               replaces=order.replaces or None))
    return Outcome("invoiced", booked.ord_nbr)


def _cancel(ctx, order, binding, new) -> Outcome:
    try:
        ctx.sl.cancel_sales_order(binding.ord_nbr, binding=new,
                                  event=_event(ctx, order, "cancelled", ord_nbr=binding.ord_nbr))
    except NeedsReview as exc:  # e.g. SL already shipped it: a person decides
        raise NeedsReview("cancel_after_ship", f"Amazon cancelled the order but SL cannot cancel "
                          f"{binding.ord_nbr}: {exc.message}", fields=["status"],
                          details={"sl_reason": exc.reason, **exc.details}) from None
    return Outcome("cancelled", binding.ord_nbr)


def _credit(ctx, order, binding, new) -> Outcome:
    ctx.sl.create_credit_memo(binding.ord_nbr, event=_event(ctx, order, "credited", ord_nbr=binding.ord_nbr))
    return _update(ctx, order, binding, new, "credited")


def _update(ctx, order, binding, new, value="updated") -> Outcome:
    if binding is not None:
        ctx.sl.update_order_binding(order.amazon_order_id, last_updated=new.last_updated,
                                    payload_hash=new.payload_hash, status=new.status,
                                    event=_event(ctx, order, f"status_{new.status.lower()}"))
    return Outcome(value, binding.ord_nbr if binding else "")


def _nothing(ctx, order, binding, new) -> Outcome:
    """SL is in step with Amazon's status; its money must still be Amazon's. A total that changed after the order
    reached SL is first tried as Amazon's item-level cancellation (an item's quantityOrdered lowered, or the item
    gone): the SL lines are reduced as SL would (``integration.sl.orders.reduce_lines``) when that explains Amazon's
    new total to the cent. Anything else (a delivery tip Amazon finalised later, a charge changed, an item
    cancelled after SL made a shipper) is held with the difference for a person, never left silently below or above
    Amazon's."""
    if binding is not None and binding.sl_status.strip() == "OPEN" and order.status not in NO_PRICES_YET:
        if _total_in_step(ctx, order, binding, new):
            return Outcome("updated", binding.ord_nbr, detail="items_cancelled")
    return _update(ctx, order, binding, new)


def _total_in_step(ctx, order, binding, new) -> bool:
    """SL's open order totals Amazon's (True: after applying an item-level cancellation that explains the
    difference), else NeedsReview ``total_changed`` with the difference."""
    head = ctx.sl.sales_order(binding.ord_nbr)
    if head is None:
        return False
    quantum = Decimal(1).scaleb(-currency_places(order.order_total.currency))
    sl_total = Decimal(str(head["TotOrd"])).quantize(quantum)
    amazon_total = order.order_total.amount.quantize(quantum)
    if sl_total != amazon_total and _items_cancelled(ctx, order, binding, new):
        return True
    if sl_total != amazon_total:
        raise NeedsReview("total_changed", f"Amazon's order total is now {amazon_total}; SL's order "
                          f"{binding.ord_nbr} has {sl_total} (difference {amazon_total - sl_total})",
                          fields=["order_total"], details={"sl_total": str(sl_total),
                                                           "amazon_total": str(amazon_total),
                                                           "difference": str(amazon_total - sl_total)})
    return False


def _items_cancelled(ctx, order, binding, new) -> bool:
    """Apply Amazon's item-level cancellation to the open SL order; False when no item's quantity fell."""
    so, _ = build_sales_order(ctx, order)
    return bool(ctx.sl.reduce_sales_order(binding.ord_nbr, so, new,
                                          _event(ctx, order, "items_cancelled", ord_nbr=binding.ord_nbr)))


def _wait(ctx, order, binding, new) -> Outcome:
    if binding is None:   # nothing to write yet, but the decision is recorded (and fenced)
        ctx.sl.record_event(_event(ctx, order, "waiting"))
    return _update(ctx, order, binding, new, "waiting")


def _skip(ctx, order, binding, new) -> Outcome:
    ctx.sl.record_event(_event(ctx, order, "skipped"))
    return Outcome("skipped")


def _review(ctx, order, binding, new) -> Outcome:
    sl_state = binding.sl_status if binding else "none"
    raise NeedsReview("status_conflict", f"Amazon says {order.status} ({order.fulfillment_channel}) "
                      f"but SL has {sl_state or 'no order'}", fields=["status"])


_ACTIONS = {"create_order": _create, "create_and_invoice": _create_and_invoice, "invoice": _invoice,
            "cancel_order": _cancel, "credit_memo": _credit, "nothing": _nothing, "wait": _wait, "skip": _skip,
            "review": _review}


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- the polling sweep --------------------------------------------------------------------------------------
SWEEP_CURSOR = "orders.lastUpdated"
OVERLAP_SECONDS = 600       # re-read the last 10 minutes: Amazon's data can lag (reference §5 watermark rules)
SAFETY_SECONDS = 120        # Amazon refuses a window ending later than 2 minutes before now
FIRST_LOOKBACK_SECONDS = 3 * 24 * 3600
OVERLAP_DELTA = timedelta(seconds=OVERLAP_SECONDS)


SWEEP_PROGRESS = "orders.sweep"    # the window in progress, with Amazon's page token (xAMZCursor.State)
BLOCKS_READ = "orders.sweep.reread"   # seconds the last window asked the next one to read again
LISTING = paging.orders_listing(SWEEP_PROGRESS)


@dataclass(frozen=True)
class SweepResult:
    found: int                 # orders queued in this run
    window_start: str
    window_end: str
    done: bool = True          # the window was read to its end and the watermark moved
    retry_after: float = 0.0   # when not done: seconds until Amazon allows the next page
    pages: int = 0             # pages read in this run


def _settled(ctx: Context, payload: dict, binding: OrderBinding | None, held: set[str]) -> bool:
    """Nothing left to do for this version of the order: applied, held for a person, or nothing to write."""
    last = str(payload.get("lastUpdatedTime") or "")
    if binding is not None and binding.last_updated and last and _ts(binding.last_updated) >= _ts(last):
        return True
    if payload.get("orderId") in held:
        return True
    if binding is not None and binding.sl_status.strip() == HISTORY:
        return True    # history at go-live: SL will never write it, whatever Amazon changes later
    if binding is None:
        if is_history(ctx, payload, None):
            return False   # queued once, so it is recorded (its binding then settles it for good)
        status, channel = _amazon_state(payload)
        try:
            action = ctx.mapping.action_for(status, channel, sl_state="none")
        except NeedsReview:
            return False
        return action in ("wait", "skip")
    return False


def sweep(ctx: Context, enqueue, *, now: datetime | None = None, max_pages: int | None = None) -> SweepResult:
    """Find orders changed since the watermark and hand the unsettled ones to ``enqueue`` (ids, per page).

    The window starts at the watermark minus an overlap and ends two minutes before Amazon's clock (from
    its ``Date`` header, so a skewed local clock cannot skip orders). Orders arrive complete with their
    items, so each is cached for its import and costs no further call.

    A window of many pages takes many runs (searchOrders: one page per 180 s after a burst of 20): the window,
    Amazon's page token and the earliest order queued are kept in SL after every page, so a run stopped by the
    rate limit, an error or a crash resumes at the next page (``integration.sync.paging``). A paused run returns
    ``done=False`` with the seconds to wait; the caller runs the sweep again then.

    The watermark is "everything before this is settled in SL": it moves, once the last page has been handed
    on, to the earliest order the window had to enqueue (or to the window end when there was none). So when
    queued work is lost (Redis flushed, a worker pool gone), the next window finds those orders again, and the
    bindings keep that from doing anything twice.
    """
    if ctx.sl.get_progress(SWEEP_PROGRESS) is None:
        window = _next_window(ctx, now)
        if window["after"] >= window["before"]:
            return SweepResult(0, *(_ts(window[k]).isoformat(timespec="seconds") for k in ("after", "before")))
    held = {h.key for h in ctx.sl.list_holds(status="OPEN", entity="order")}
    found = 0

    def on_page(payloads: list[dict], extra: dict) -> None:
        queued, earliest = [], extra.get("earliest")
        for payload in payloads:
            if _settled(ctx, payload, ctx.sl.get_order_binding(payload["orderId"]), held):
                continue
            cache_payload(ctx, payload)
            queued.append(payload["orderId"])
            last = amazon_time(_ts(payload["lastUpdatedTime"]))
            earliest = last if earliest is None or last < earliest else earliest
        if queued:
            enqueue(queued)
        nonlocal found
        found += len(queued)
        extra["earliest"], extra["queued"] = earliest, extra.get("queued", 0) + len(queued)

    def finish(progress: dict) -> None:
        """Move the watermark, clear the window and record it, in one SL transaction."""
        extra, end = progress["extra"], _ts(progress["query"]["before"])
        mark = (_ts(extra["earliest"]) + OVERLAP_DELTA) if extra.get("earliest") else end  # next start = mark - overlap
        # a second read through Amazon's token (more orders in one second than a page) is read once more by the
        # next window: an order leaving that second while it was read could have shifted another out of sight
        reread = [b for b in extra.get("_token_blocks", []) if b not in (ctx.sl.get_progress(BLOCKS_READ) or [])]
        if reread:
            mark = min(mark, min(_ts(b) for b in reread) + OVERLAP_DELTA)
        mark_text = min(mark, end).astimezone(UTC).isoformat(timespec="seconds")
        ctx.sl.finish_listing(SWEEP_PROGRESS, SWEEP_CURSOR, mark_text, Event(
            "sweep", "orders", "swept", ctx.task_id,
            {"from": progress["query"]["after"], "to": progress["query"]["before"], "queued": extra.get("queued", 0),
             "watermark": mark_text, "pages": progress["pages"], "reread": reread}), also={BLOCKS_READ: reread})

    run = paging.walk(ctx, LISTING, lambda: _next_window(ctx, now), on_page, max_pages=max_pages, finish=finish)
    start, end = (_ts(run.query[k]).isoformat(timespec="seconds") for k in ("after", "before"))
    if not run.done:
        log.info("orders sweep %s .. %s paused after %d pages (%d queued so far); next page in %.1fs",
                 start, end, run.pages, run.extra.get("queued", 0), run.retry_after)
        return SweepResult(found, start, end, False, run.retry_after, run.pages)
    return SweepResult(found, start, end, True, 0.0, run.pages)


def _next_window(ctx: Context, now: datetime | None) -> dict:
    """From the watermark (less the overlap) to two minutes before Amazon's clock.

    The first window (no watermark yet) looks back FIRST_LOOKBACK from go-live when GO_LIVE is earlier than now,
    else from now: an order still open at go-live was last changed before it (when it became UNSHIPPED), so a
    window starting at go-live would never see it; the look-back finds it as it does at any first start. What
    that window finds shipped or cancelled before go-live is recorded as history (``is_history``)."""
    now = now or ctx.amazon.server_now(fresh=True)
    end = now - timedelta(seconds=SAFETY_SECONDS)
    saved = ctx.sl.get_cursor(SWEEP_CURSOR)
    go_live = ctx.settings.go_live
    first = min(end, go_live) if go_live is not None else end
    start = (_ts(saved) if saved else first - timedelta(seconds=FIRST_LOOKBACK_SECONDS)) - OVERLAP_DELTA
    return {"after": amazon_time(start), "before": amazon_time(end)}
