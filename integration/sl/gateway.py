"""``SLGateway``: the Dynamics SL adapter's business verbs. One instance per process or thread.

Every verb runs in one transaction (retried whole on deadlock / serialization failure / lock time-out)
and writes its xAMZ* binding and event in that same transaction. "Already done" is a normal answer:
creating an order that is already bound returns the bound OrdNbr and writes nothing.

Fencing (DESIGN §5): inside ``with gateway.fenced(fence):`` every write for the fenced entity first locks the
entity's binding row, refuses a stale holder (``Superseded``, recorded as an event) and stamps the fence, all in
the document's own transaction. Unique keys in xAMZDocument make a second invoice for one order and shipment, or
a second credit memo for one cancellation or refund, impossible whatever the code above does.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from integration.errors import NeedsReview, Superseded, SyncError
from integration.fence import Fence
from integration.sl import ar, availability, fba, gl, items, orders, settlement_gl, shippers, state, transfers
from integration.sl.db import Database, DuplicateKey
from integration.sl.lookups import Lookups
from integration.sl.models import (
    Event,
    GLLine,
    Hold,
    ItemPolicy,
    OrderBinding,
    SalesOrder,
    SettlementBinding,
    Shipper,
    Transfer,
)
from integration.sl.reconciliation import ARDocument, bindings_for, documents_for, last_reconciliations
from integration.sl.rows import Rows

WHOLE_ORDER = "ORDER"        # xAMZDocument.EventKey of an invoice for the whole order (no shipment named)
CANCELLATION = "CANCEL"      # ... of the credit memo for a cancellation (no refund id from Amazon)


class SLGateway:
    FENCED_ENTITIES = frozenset(state.BINDINGS)   # lease entities whose SL writes are fenced

    def __init__(self, dsn: str, cpny_id: str | None = None):
        if cpny_id is None:
            from integration.config import settings

            cpny_id = settings().sl_cpny_id
        self.db = Database(dsn)
        self.cpny_id = cpny_id
        self.look = Lookups()
        self._fence: Fence | None = None

    @classmethod
    def connect(cls, dsn: str | None = None, cpny_id: str | None = None) -> SLGateway:
        if dsn is None:
            from integration.config import settings

            dsn = settings().sl_dsn
        return cls(dsn, cpny_id)

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def dialect(self) -> str:
        self.db.connection()
        return self.db.dialect.name

    def _read(self, work):
        return self.db.run(work, write=False)

    # -- fencing ------------------------------------------------------------------------------------------
    @contextmanager
    def fenced(self, fence: Fence | None):
        """Check every write for ``fence``'s entity against it while the block runs (one gateway per thread)."""
        before, self._fence = self._fence, fence
        try:
            yield self
        finally:
            self._fence = before

    def _fence_for(self, entity: str, key: str) -> Fence | None:
        f = self._fence
        return f if f is not None and f.matches(entity, key) else None

    def _write(self, work, entity: str, key: str):
        """Run a write; a refused stale holder leaves a trace in the event trail (its own transaction)."""
        try:
            try:
                return self.db.run(work)
            except DuplicateKey as exc:
                if "xamzfence" not in exc.message.lower():
                    raise
                return self.db.run(work)   # another holder created the entity's fence row meanwhile: decide again
        except Superseded as exc:
            event = Event(exc.details.get("entity", entity), exc.details.get("key", key), "superseded",
                          detail=exc.to_dict())
            with suppress(SyncError):
                self.db.run(lambda r: state.record_event(r, event))
            raise

    def next_fence_epoch(self) -> int:
        """SL's fencing epoch, one up: Redis lost its copy (see ``integration.guard.lease``)."""
        try:
            return self.db.run(state.next_fence_epoch)
        except DuplicateKey:   # another process created the counter row at the same moment
            return self.db.run(state.next_fence_epoch)

    # -- items and availability -------------------------------------------------------------------
    def find_item_for_sku(self, sku: str, policy: ItemPolicy | None = None) -> str | None:
        """The InvtID for an Amazon SKU by ``policy`` (InvtID, ItemXRef, mapping), or None."""
        return self._read(lambda r: items.find_item(r, sku, policy or ItemPolicy()))

    def items_for_skus(self, skus: list[str], policy: ItemPolicy | None = None) -> dict[str, str | None]:
        return self._read(lambda r: items.items_for_skus(r, skus, policy or ItemPolicy()))

    def available_qty(self, invt_id_or_sku: str, site_group: list[str] | tuple[str, ...],
                      policy: ItemPolicy | None = None) -> int:
        """Whole units available over the sites (reference §7 formula, INSetup switches, clamped at 0)."""
        def work(r: Rows):
            invt_id = items.find_item(r, invt_id_or_sku, policy) if policy else invt_id_or_sku
            return availability.available(r, [invt_id], list(site_group))[invt_id] if invt_id else 0
        return self._read(work)

    def available_quantities(self, invt_ids: list[str], site_group: list[str] | tuple[str, ...]) -> dict[str, int]:
        return self._read(lambda r: availability.available(r, list(invt_ids), list(site_group)))

    # -- sales orders ----------------------------------------------------------------------------------
    def create_sales_order(self, order: SalesOrder, binding: OrderBinding, event: Event | None = None,
                           closed: str = "") -> str:
        """Write SOHeader/SOLine/SOSched/ProcessQueue + xAMZOrder + xAMZEvent in one transaction; the OrdNbr.

        Already bound (this call or a concurrent one): returns the bound OrdNbr, writes nothing.
        A missing value raises NeedsReview naming the field, before anything is written.
        """
        orders.check_required(order)
        if not binding.amazon_order_id:
            raise NeedsReview("missing_field", "binding has no Amazon order id", fields=("amazon_order_id",))

        oid = binding.amazon_order_id
        fence = self._fence_for("order", oid)

        def work(r: Rows) -> str:
            if state.lock_binding(r, "order", {"AmazonOrderId": oid}, fence) is not None:
                return state.get_order_binding(r, oid).ord_nbr
            ord_nbr, notes = orders.create(r, self.look, self.cpny_id, order, closed)
            state.insert_order_binding(r, _with(binding, ord_nbr=ord_nbr, cpny_id=self.cpny_id,
                                                sl_status=state.HISTORY if closed else "OPEN"), fence)
            detail = {"ord_nbr": ord_nbr, "lines": len(order.lines), **({"notes": notes} if notes else {})}
            ev = event or Event("order", binding.amazon_order_id, "sl_order_created")
            if not ev.detail:
                ev = _with(ev, detail=detail)
            elif notes and isinstance(ev.detail, dict):
                ev = _with(ev, detail={**ev.detail, "ord_nbr": ord_nbr, "notes": notes})
            state.record_event(r, ev)
            return ord_nbr

        def existing() -> str | None:
            bound = self.get_order_binding(oid)
            return bound.ord_nbr if bound is not None else None
        return self._already_done(work, existing, "order", oid)

    def _already_done(self, work, existing, entity: str, key: str):
        """Run a write whose binding's key may be taken by a concurrent one: then return what that one wrote. A
        key of ours taken by anything else (e.g. a stray xAMZDocument row holding the next RefNbr) is an error."""
        try:
            return self._write(work, entity, key)
        except DuplicateKey as exc:
            found = existing() if exc.on_binding else None
            if not found:
                raise
            return found

    def get_order_binding(self, amazon_order_id: str) -> OrderBinding | None:
        return self._read(lambda r: state.get_order_binding(r, amazon_order_id))

    def order_bindings(self, sl_status: str | None = None, limit: int = 10000) -> list[OrderBinding]:
        """Amazon orders bound to SL orders, optionally only those in one SL state (OPEN, INVOICED ...)."""
        return self._read(lambda r: state.order_bindings(r, sl_status, limit))

    def find_order_binding(self, ord_nbr: str) -> OrderBinding | None:
        return self._read(lambda r: state.find_order_binding(r, self.cpny_id, ord_nbr))

    def record_order_history(self, binding: OrderBinding, event: Event) -> bool:
        """Bind an Amazon order that is history (shipped or cancelled before go-live) to no SL document: an
        xAMZOrder row with Status HISTORY and no OrdNbr, and ``event``, in one transaction. False (nothing
        written) when the order is already bound, by this call or a concurrent one."""
        oid = binding.amazon_order_id
        fence = self._fence_for("order", oid)

        def work(r: Rows) -> bool:
            if state.lock_binding(r, "order", {"AmazonOrderId": oid}, fence) is not None:
                return False
            state.insert_order_binding(r, _with(binding, ord_nbr="", cpny_id=self.cpny_id, sl_status=state.HISTORY),
                                       fence)
            state.record_event(r, event)
            return True
        try:
            return self._write(work, "order", oid)
        except DuplicateKey as exc:
            if exc.on_binding and self.get_order_binding(oid) is not None:
                return False
            raise

    def order_counts(self) -> dict[str, int]:
        """How many Amazon orders are bound per xAMZOrder.Status (OPEN, INVOICED, CANCELLED, HISTORY ...)."""
        return self._read(state.order_counts)

    def update_order_binding(self, amazon_order_id: str, *, last_updated: str | None = None,
                             payload_hash: str | None = None, status: str | None = None,
                             event: Event | None = None) -> bool:
        fence = self._fence_for("order", amazon_order_id)

        def work(r: Rows) -> bool:
            state.lock_binding(r, "order", {"AmazonOrderId": amazon_order_id}, fence)
            changed = state.update_order_binding(r, amazon_order_id, fence, last_updated=last_updated,
                                                 payload_hash=payload_hash, status=status) > 0
            if changed and event:
                state.record_event(r, event)
            return changed
        return self._write(work, "order", amazon_order_id)

    def cancel_sales_order(self, ord_nbr: str, binding: OrderBinding | None = None, event: Event | None = None) -> bool:
        """Cancel as SL cancels (see ``orders.cancel``); False if already cancelled. A shipped order needs review."""
        key = binding.amazon_order_id if binding else ord_nbr
        fence = self._fence_for("order", key)

        def work(r: Rows) -> bool:
            if binding is not None:
                state.lock_binding(r, "order", {"AmazonOrderId": key}, fence)
            done = orders.cancel(r, self.look, self.cpny_id, ord_nbr)
            if binding is not None:
                state.update_order_binding(r, key, fence, sl_status="CANCELLED",
                                           status=binding.status or None, last_updated=binding.last_updated or None,
                                           payload_hash=binding.payload_hash or None)
            if done:
                state.record_event(r, event or Event("order", key, "cancelled", detail={"ord_nbr": ord_nbr}))
            return done
        return self._write(work, "order", key)

    def reduce_sales_order(self, ord_nbr: str, order: SalesOrder, binding: OrderBinding,
                           event: Event | None = None) -> list[dict]:
        """Amazon's item-level cancellation (``orders.reduce_lines``) and the binding's new version in one
        transaction; the lines reduced (none: nothing written). NeedsReview when it is not SL's to do alone."""
        key = binding.amazon_order_id
        fence = self._fence_for("order", key)

        def work(r: Rows) -> list[dict]:
            state.lock_binding(r, "order", {"AmazonOrderId": key}, fence)
            changed = orders.reduce_lines(r, self.look, self.cpny_id, ord_nbr, order)
            if changed:
                state.update_order_binding(r, key, fence, status=binding.status or None,
                                           last_updated=binding.last_updated or None,
                                           payload_hash=binding.payload_hash or None)
                ev = event or Event("order", key, "items_cancelled")
                state.record_event(r, _with(ev, detail={**(ev.detail or {}), "ord_nbr": ord_nbr, "lines": changed}))
            return changed
        return self._write(work, "order", key)

    def book_fba_sale(self, binding: OrderBinding, *, order: SalesOrder | None, ship_date: datetime,
                      release: str = "hold", event: Event | None = None) -> OrderBinding:
        """Amazon shipped an FBA order: create it closed when SL has none (``order``), then book the shipment, its IN
        issue batch and its invoice (``fba.book``), and the binding (ShippedAt, ShipperID, INBatNbr, InvcRefNbr,
        OriginalOrderId, the version applied), all in one transaction. Already booked -> the binding, unchanged."""
        oid = binding.amazon_order_id
        fence = self._fence_for("order", oid)

        def work(r: Rows) -> OrderBinding:
            bound = state.get_order_binding(r, oid) \
                if state.lock_binding(r, "order", {"AmazonOrderId": oid}, fence) is not None else None
            if bound is not None and bound.shipper_id.strip():
                return bound
            if bound is None:
                if order is None:
                    raise NeedsReview("unknown_order", f"Amazon order {oid} has no SL order to book",
                                      fields=("OrdNbr",))
                orders.check_required(order)
                ord_nbr, _ = orders.create(r, self.look, self.cpny_id, order, "shipped")
                state.insert_order_binding(r, _with(binding, ord_nbr=ord_nbr, cpny_id=self.cpny_id, sl_status="OPEN"),
                                           fence)
            else:
                ord_nbr = bound.ord_nbr.strip()
            sale = fba.book(r, self.look, self.cpny_id, ord_nbr, ship_date=ship_date, release=release)
            # Amazon shipped it: the shipment sweep must never offer this shipper to confirmShipment
            state.bind_shipment(r, self.cpny_id, sale.shipper_id, ord_nbr=ord_nbr, amazon_order_id=oid,
                                status="SKIPPED_AFN")
            if sale.invc_nbr:
                state.record_document(r, oid, "IN", WHOLE_ORDER, cpny_id=self.cpny_id, ord_nbr=ord_nbr,
                                      ref_nbr=sale.invc_nbr, bat_nbr=sale.ar_bat_nbr, amount=sale.amount,
                                      task_id=event.task_id if event else "")
            state.update_order_binding(r, oid, fence, last_updated=binding.last_updated or None,
                                       payload_hash=binding.payload_hash or None, status=binding.status or None,
                                       sl_status="INVOICED", invc_ref_nbr=sale.invc_nbr or None,
                                       shipped_at=binding.shipped_at or None, shipper_id=sale.shipper_id,
                                       in_bat_nbr=sale.in_bat_nbr, original_order_id=binding.original_order_id or None)
            ev = event or Event("order", oid, "fba_sale")
            state.record_event(r, _with(ev, detail={**(ev.detail or {}), "ord_nbr": ord_nbr,
                                                    "shipper_id": sale.shipper_id, "in_bat_nbr": sale.in_bat_nbr,
                                                    "invc_nbr": sale.invc_nbr, "per_post": sale.per_post,
                                                    "amount": str(sale.amount),
                                                    **({"note": sale.note} if sale.note else {})}))
            return state.get_order_binding(r, oid)

        def existing() -> OrderBinding | None:
            bound = self.get_order_binding(oid)
            return bound if bound is not None and bound.shipper_id.strip() else None
        return self._already_done(work, existing, "order", oid)

    def sales_order(self, ord_nbr: str) -> dict | None:
        """Header and lines of an SL order as plain values (for checks and the CLI)."""
        def work(r: Rows):
            head = orders.order_header(r, self.cpny_id, ord_nbr)
            return None if head is None else {**head, "lines": orders.order_lines(r, self.cpny_id, ord_nbr)}
        return self._read(work)

    def create_invoice(self, ord_nbr: str, *, shipper_id: str = "", doc_date: datetime | None = None,
                       release: str = "hold", event: Event | None = None) -> str:
        """An AR invoice (IN) for the order, or for one of its shipments; already invoiced -> the existing RefNbr."""
        return self._ar_document(ord_nbr, "IN", shipper_id or WHOLE_ORDER, doc_date, None, None, release, event)

    def create_credit_memo(self, ord_nbr: str, *, event_key: str = CANCELLATION,
                           amounts: dict[str, Decimal] | None = None, freight: Decimal | None = None,
                           doc_date: datetime | None = None, release: str = "hold", event: Event | None = None) -> str:
        """An AR credit memo (CM) for the order (some lines, or all), one per cancellation or refund: ``event_key``
        is Amazon's id for the refund where there is one. Already credited for that event -> the existing RefNbr.
        After invoicing the memo is applied to the order's invoice as SL's screen applies it (see ``ar``)."""
        return self._ar_document(ord_nbr, "CM", event_key, doc_date, amounts, freight, release, event)

    def _ar_document(self, ord_nbr, doc_type, event_key, doc_date, amounts, freight, release, event) -> str:
        field = "invc_ref_nbr" if doc_type == "IN" else "cm_ref_nbr"
        keys: list[str] = []

        def work(r: Rows) -> str:
            known = state.find_order_binding(r, self.cpny_id, ord_nbr)
            key = known.amazon_order_id if known else ord_nbr
            keys[:] = [key]
            bound = None
            if known is not None:   # lock the binding, then decide on what it says now
                state.lock_binding(r, "order", {"AmazonOrderId": key}, self._fence_for("order", key))
                bound = state.get_order_binding(r, key)
            done = state.document_for(r, key, doc_type, event_key)
            if done:
                return done
            if bound is not None and getattr(bound, field) and event_key in (WHOLE_ORDER, CANCELLATION):
                return getattr(bound, field)   # written before xAMZDocument existed
            apply_to = self._invoice_to_credit(r, ord_nbr) if doc_type == "CM" else ""
            ref, total, bat_nbr = ar.create_document(r, self.look, self.cpny_id, ord_nbr, doc_type,
                                                     doc_date=doc_date or datetime.now(), amounts=amounts,
                                                     freight=freight, release=release, apply_to=apply_to)
            state.record_document(r, key, doc_type, event_key, cpny_id=self.cpny_id, ord_nbr=ord_nbr, ref_nbr=ref,
                                  bat_nbr=bat_nbr, amount=total, task_id=event.task_id if event else "")
            if bound is not None:
                state.update_order_binding(r, key, self._fence_for("order", key), **{field: ref},
                                           sl_status="INVOICED" if doc_type == "IN" else "CREDITED")
            state.record_event(r, event or Event("order", key, "invoiced" if doc_type == "IN" else "credited",
                                                 detail={"ord_nbr": ord_nbr, "ref_nbr": ref, "amount": str(total)}))
            return ref

        def existing() -> str | None:
            return self._read(lambda r: state.document_for(r, keys[0], doc_type, event_key)) if keys else None
        return self._already_done(work, existing, "order", ord_nbr)

    # -- shipments and transfers ----------------------------------------------------------------------
    def _invoice_to_credit(self, r: Rows, ord_nbr: str) -> str:
        """The order's invoice a credit memo is applied to: of the order's invoices (ours, and SL's own: the Sales
        Journal invoices a merchant order from its shipper, ARDoc.OrdNbr naming the order), the one with the largest
        open balance; '' when the order was never invoiced (nothing to apply to)."""
        found = r.all('SELECT "RefNbr", "CuryDocBal" FROM "ARDoc" WHERE "CpnyID" = ? AND "DocType" = ? '
                      'AND "OrdNbr" = ? ORDER BY "RefNbr"', [self.cpny_id, "IN", ord_nbr])
        best, best_bal = "", 0.0
        for ref, bal in found:
            if bal is not None and float(bal) > best_bal:
                best, best_bal = ref.strip(), float(bal)
        return best

    def shippers_confirmed_since(self, watermark: datetime | None, limit: int = 500,
                                 unpushed_only: bool = False) -> list[Shipper]:
        return self._read(lambda r: shippers.confirmed_since(r, self.cpny_id, watermark, limit, unpushed_only))

    def shipper(self, shipper_id: str) -> Shipper | None:
        """One confirmed shipper with its lines and packages (None if missing, unconfirmed or cancelled)."""
        return self._read(lambda r: shippers.one(r, self.cpny_id, shipper_id))

    def shippers_for_order(self, ord_nbr: str) -> list[Shipper]:
        return self._read(lambda r: shippers.for_order(r, self.cpny_id, ord_nbr))

    def bind_shipment(self, shipper_id: str, *, ord_nbr: str, amazon_order_id: str, status: str,
                      response: dict | str = "", event: Event | None = None) -> None:
        fence = self._fence_for("shipper", f"{self.cpny_id}:{shipper_id}")   # the confirm task's lease

        def work(r: Rows) -> None:
            state.bind_shipment(r, self.cpny_id, shipper_id, ord_nbr=ord_nbr, amazon_order_id=amazon_order_id,
                                status=status, response=response, fence=fence)
            state.record_event(r, event or Event("shipment", shipper_id, f"shipment_{status.lower()}",
                                                 detail={"ord_nbr": ord_nbr}))
        self._write(work, "shipment", shipper_id)

    def get_shipment_binding(self, shipper_id: str) -> dict | None:
        return self._read(lambda r: state.get_shipment_binding(r, self.cpny_id, shipper_id))

    def package_refs(self, shipper_id: str, amazon_order_id: str, boxes: dict[str, str],
                     taken: set[str] = frozenset()) -> dict[str, str]:
        """Each box's packageReferenceId (BoxRef -> reference), given once per box and unique within the Amazon
        order (``shippers.package_refs``); ``boxes`` maps BoxRef -> tracking number, ``taken``: references the
        order already has at Amazon."""
        def work(r: Rows) -> dict[str, str]:
            return shippers.package_refs(r, self.cpny_id, shipper_id, amazon_order_id, boxes, set(taken))
        try:
            return self.db.run(work)
        except DuplicateKey:   # drawn at the same moment by another writer without the order's binding row
            return self.db.run(work)

    def order_package_refs(self, amazon_order_id: str) -> set[str]:
        """Every packageReferenceId given to a box of the Amazon order (``shippers.order_package_refs``)."""
        return self._read(lambda r: shippers.order_package_refs(r, amazon_order_id))

    def fba_transfers_in_transit(self, fba_site: str) -> list[Transfer]:
        return self._read(lambda r: transfers.in_transit(r, self.cpny_id, fba_site))

    def fba_in_transit_by_item(self, fba_site: str) -> dict[str, Decimal]:
        return self._read(lambda r: transfers.in_transit_by_item(r, self.cpny_id, fba_site))

    # -- GL -----------------------------------------------------------------------------------------------
    def post_gl_batch(self, lines: list[GLLine], *, per_post: str, tran_date: datetime, descr: str,
                      binding: SettlementBinding | None = None, jrnl_type: str = "AMZ", release: str = "hold",
                      event: Event | None = None) -> str:
        """A balanced GL batch (or nothing); with a settlement binding, an already-posted settlement
        returns its existing BatNbr."""
        key = binding.settlement_id if binding is not None else ""
        fence = self._fence_for("settlement", key)

        def work(r: Rows) -> str:
            if binding is not None:
                state.lock_binding(r, "settlement", {"SettlementId": key}, fence)
                bound = state.get_settlement_binding(r, binding.settlement_id)
                if bound is not None and bound.batch_nbr:
                    return bound.batch_nbr
            ext = binding.settlement_id if binding and len(binding.settlement_id) <= 15 else ""
            bat_nbr, total = gl.post(r, self.look, self.cpny_id, lines, per_post=per_post, tran_date=tran_date,
                                     descr=descr, jrnl_type=jrnl_type, release=release, ext_ref_nbr=ext)
            if binding is not None:
                r.insert("xAMZSettlement", {
                    "SettlementId": binding.settlement_id, "CpnyID": self.cpny_id, "Module": "GL",
                    "BatNbr": bat_nbr, "CuryID": self.look.base_currency(r), "TotalAmt": total,
                    "LineCount": len(lines), "FileChecksum": binding.checksum, "Status": "POSTED",
                    "PostedAt": datetime.now(), **state.fence_values(fence)})
            state.record_event(r, event or Event("settlement", key or bat_nbr, "gl_batch_written",
                                                 detail={"bat_nbr": bat_nbr, "total": str(total)}))
            return bat_nbr

        def existing():
            bound = self._read(lambda r: state.get_settlement_binding(r, key)) if binding is not None else None
            return bound.batch_nbr if bound is not None else None
        return self._already_done(work, existing, "settlement", key)

    def get_settlement_binding(self, settlement_id: str) -> SettlementBinding | None:
        return self._read(lambda r: state.get_settlement_binding(r, settlement_id))

    def write_settlement(self, settlement_id: str, batches: list, *, checksum: str, total: Decimal, currency: str,
                         release: str = "hold", marketplace: str = "", holds: list[tuple] = (),
                         posting_key: str = "", replace_released: bool = False) -> dict:
        """All GL batches of a settlement (``integration.settlements.post.PlannedBatch``), its binding and its holds
        ((key, reason, message, payload)) in one transaction; idempotent by settlement id and checksum, a re-issue
        voids the unreleased batches it replaces (``integration.sl.settlement_gl``); ``replace_released``: a person
        reversed the released ones, which are marked SUPERSEDED."""
        fence = self._fence_for("settlement", settlement_id)
        return self._write(lambda r: settlement_gl.write(
            r, self.look, self.cpny_id, settlement_id, batches, checksum=checksum, total=total, currency=currency,
            release=release, marketplace=marketplace, holds=list(holds), fence=fence,
            posting_key=posting_key or checksum, replace_released=replace_released), "settlement", settlement_id)

    def settlement_batches(self, settlement_id: str) -> list[dict]:
        """The settlement's current GL batches: BatNbr, period, debit, credit, SL Status and Rlsed."""
        return self._read(lambda r: settlement_gl.bound_batches(r, settlement_id))

    def gl_currency(self) -> tuple[str, bool]:
        """(SL's base currency, multi-currency on)."""
        return self._read(settlement_gl.gl_currency)

    def sales_tax_accounts(self) -> dict[str, tuple[str, str]]:
        """SalesTax TaxId -> (SlsTaxAcct, SlsTaxSub)."""
        return self._read(settlement_gl.sales_tax_accounts)

    def period_of(self, date: datetime) -> str:
        """SL's fiscal period (YYYYPP) of a date (``ADG_GLPeriod_GetPerFromDateOut``)."""
        return self._read(lambda r: fba.period_of(r, date))

    # -- reconciliation (integration.settlements.reconcile) ---------------------------------------------------
    def order_bindings_for(self, amazon_order_ids) -> dict[str, OrderBinding]:
        """xAMZOrder bindings of many Amazon orders at once, by order id (unknown orders absent)."""
        return self._read(lambda r: bindings_for(r, amazon_order_ids))

    def ar_documents_for(self, amazon_order_ids) -> dict[str, list[ARDocument]]:
        """Our invoices and credit memos (xAMZDocument) of many Amazon orders, with their amounts by class."""
        return self._read(lambda r: documents_for(r, amazon_order_ids))

    def last_reconciliations(self) -> dict[str, str]:
        """Settlement id -> ``reconciled`` / ``unreconciled``: the last reconciliation recorded for it."""
        return self._read(last_reconciliations)

    # -- stock sent -------------------------------------------------------------------------------------
    def record_stock_sent(self, sku: str, site_group: str, invt_id: str, qty: float, feed_id: str = "") -> None:
        fence = self._fence_for("stock", f"{sku}@{site_group}")
        self._write(lambda r: state.record_stock_sent(r, sku, site_group, invt_id, qty, feed_id, fence),
                    "stock", f"{sku}@{site_group}")

    def last_stock_sent(self, sku: str, site_group: str) -> float | None:
        return self._read(lambda r: state.last_stock_sent(r, sku, site_group))

    # -- holds, cursors, events ----------------------------------------------------------------------------
    def create_hold(self, entity: str, key: str, reason: str, message: str, payload=None) -> int:
        """A review-queue entry; an open hold for the same entity and reason is reused (its id returned)."""
        fence = self._fence_for(entity, key)

        def work(r: Rows) -> int:
            if fence is not None:   # a stale holder must not hold what a newer one has settled
                state.lock_binding(r, entity, self._binding_key(entity, key), fence)
            existing = state.open_hold_for(r, entity, key, reason)
            if existing is not None:
                return int(existing)
            hold_id = state.create_hold(r, entity, key, reason, message, payload)
            state.record_event(r, Event(entity, key, "held", detail={"reason": reason, "hold_id": hold_id}))
            return hold_id
        return self._write(work, entity, key)

    def _binding_key(self, entity: str, key: str) -> dict:
        if entity == "shipper":
            cpny_id, _, shipper_id = key.partition(":")
            return {"CpnyID": cpny_id, "ShipperID": shipper_id}
        if entity == "stock":
            sku, _, group = key.rpartition("@")
            return {"SKU": sku, "SiteGroup": group}
        return {state.BINDINGS[entity][1][0]: key}

    def list_holds(self, reason: str | None = None, status: str | None = "OPEN", entity: str | None = None) -> list[Hold]:
        return self._read(lambda r: state.list_holds(r, reason, status, entity))

    def get_hold(self, hold_id: int) -> Hold | None:
        return self._read(lambda r: state.get_hold(r, hold_id))

    def set_hold_status(self, hold_id: int, status: str, note: str = "") -> bool:
        def work(r: Rows) -> bool:
            changed = state.set_hold_status(r, hold_id, status, note)
            if changed:
                state.record_event(r, Event("hold", str(hold_id), f"hold_{status.lower()}", detail=note))
            return changed
        return self.db.run(work)

    def purge_holds(self, older_than_days: float, *, dry_run: bool = False) -> int:
        """Delete closed holds (released, resolved, discarded, dismissed) last changed more than ``older_than_days``
        ago, with their payloads (buyer data); open holds stay whatever their age. One event records the purge."""
        before = datetime.now() - timedelta(days=older_than_days)

        def work(r: Rows) -> int:
            count = state.purge_holds(r, before, dry_run=dry_run)
            if count and not dry_run:
                closed_before = before.isoformat(timespec="seconds")
                state.record_event(r, Event("hold", "purge", "holds_purged",
                                            detail={"count": count, "closed_before": closed_before}))
            return count
        return self._read(work) if dry_run else self.db.run(work)

    def get_cursor(self, name: str) -> str | None:
        return self._read(lambda r: state.get_cursor(r, name))

    def set_cursor(self, name: str, value: str) -> None:
        self.db.run(lambda r: state.set_cursor(r, name, value))

    def get_progress(self, name: str) -> dict | None:
        """A paginated listing's saved progress (``integration.sync.paging``), or None."""
        return self._read(lambda r: state.get_progress(r, name))

    def set_progress(self, name: str, progress: dict | None) -> None:
        self.db.run(lambda r: state.set_progress(r, name, progress))

    def finish_listing(self, name: str, cursor: str, value: str, event: Event, also: dict | None = None) -> None:
        """A listing is done: clear its progress, move its watermark and record it, in one transaction
        (``also``: other state rows to set with it, name -> JSON value)."""
        def work(r: Rows) -> None:
            state.set_progress(r, name, None)
            for other, value_ in (also or {}).items():
                state.set_progress(r, other, value_)
            state.set_cursor(r, cursor, value)
            state.record_event(r, event)
        self.db.run(work)

    def record_event(self, event: Event) -> None:
        """One line of the audit trail; for the fenced entity it is a decision too, and is fenced like a write."""
        fence = self._fence_for(event.entity, event.key)
        if fence is None:
            self.db.run(lambda r: state.record_event(r, event))
            return

        def work(r: Rows) -> None:
            state.lock_binding(r, event.entity, self._binding_key(event.entity, event.key), fence)
            state.record_event(r, event)
        self._write(work, event.entity, event.key)

    def events_for(self, entity: str, key: str) -> list[Event]:
        return self._read(lambda r: state.events_for(r, entity, key))

    def events_by_action(self, entity: str, action: str, limit: int = 10000) -> list[Event]:
        """Events of one action on every key of an entity kind, oldest first (``slsync settlements list``)."""
        return self._read(lambda r: state.events_by_action(r, entity, action, limit))



def _with(value, **changes):
    return replace(value, **changes)
