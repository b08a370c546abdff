"""Fencing in SL: two holders of one order's lease, one of them stale, write one document between them.

The leases are real (Redis); the writers are separate processes with their own SL connections, released at the
same moment by a barrier, on SQLite and on PostgreSQL through psqlODBC. The stale holder got its fencing number
first and lost its lease (as in a Redis outage, a failover, a pause or a flush); the new holder took it over.
"""

from __future__ import annotations

import multiprocessing as mp
from decimal import Decimal

import pytest

from integration.errors import Superseded
from integration.fence import EPOCH_SPAN, Fence
from integration.guard import Lease, LeaseLost, keys
from integration.sl import sandbox
from tests.sl.builders import a_binding, amazon_id, an_order

ORDERS = 12


def _stale_and_new(r, gw, oid: str) -> tuple[Fence, Fence]:
    """Holder A takes the order's lease, loses it (the key is gone), holder B takes it: B's number is higher."""
    stale = Lease(r, "order", oid, ttl=30, epoch_source=gw.next_fence_epoch)
    assert stale.acquire()
    r.delete(keys.lease("order", oid))
    new = Lease(r, "order", oid, ttl=30, epoch_source=gw.next_fence_epoch)
    assert new.acquire() and new.fence > stale.fence
    return stale.fence_token(), new.fence_token()


def _writer(dsn: str, verb: str, role: str, jobs: list, barrier, out) -> None:
    from integration.errors import Superseded as Refused
    from integration.sl import open_gateway
    from integration.sl.models import OrderBinding

    gw = open_gateway(dsn, "AMZDEMO")
    outcomes = []
    for oid, number, owner, ord_nbr, order in jobs:
        fence = Fence("order", oid, number, owner)
        barrier.wait(timeout=60)
        try:
            with gw.fenced(fence):
                if verb == "create":
                    gw.create_sales_order(order, OrderBinding(oid, "2026-03-14T09:30:00Z", "h", "UNSHIPPED"))
                elif verb == "invoice":
                    gw.create_invoice(ord_nbr)
                elif verb == "cancel":
                    gw.cancel_sales_order(ord_nbr, OrderBinding(oid, "2026-03-14T10:00:00Z", "h2", "CANCELED"))
                else:
                    gw.create_credit_memo(ord_nbr, amounts={"00001": Decimal("11.05")}, freight=Decimal(0))
            outcomes.append("wrote")
        except Refused:
            outcomes.append("superseded")
    out.put((role, outcomes))
    gw.close()


def _race(dsn: str, verb: str, stale_jobs: list, new_jobs: list) -> tuple[list, list]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(dsn, verb, role, jobs, barrier, out))
             for role, jobs in (("stale", stale_jobs), ("new", new_jobs))]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results["stale"], results["new"]


def _prepare(gateway, r, *, created: bool, invoiced: bool = False):
    stale_jobs, new_jobs, made = [], [], []
    for _ in range(ORDERS):
        order = an_order(lines=2, order_id=amazon_id())
        oid = order.CustOrdNbr
        ord_nbr = gateway.create_sales_order(order, a_binding(order)) if created else ""
        if invoiced:
            gateway.create_invoice(ord_nbr)
        stale, new = _stale_and_new(r, gateway, oid)
        stale_jobs.append((oid, stale.number, stale.owner, ord_nbr, order))
        new_jobs.append((oid, new.number, new.owner, ord_nbr, order))
        made.append((oid, ord_nbr))
    return stale_jobs, new_jobs, made


def _count(gw, table, **where) -> int:
    return sandbox.count(gw.db, table, where)


def test_two_holders_invoicing_one_order_write_one_invoice(gateway, r, dsn):
    stale_jobs, new_jobs, made = _prepare(gateway, r, created=True)
    stale, new = _race(dsn, "invoice", stale_jobs, new_jobs)
    for oid, ord_nbr in made:
        assert _count(gateway, "ARDoc", DocType="IN", OrdNbr=ord_nbr) == 1, oid
        assert _count(gateway, "xAMZDocument", AmazonOrderId=oid, DocType="IN") == 1
    # the new holder always gets its write in (or finds the one the stale holder made before it came)
    assert new == ["wrote"] * ORDERS
    # whenever the new holder wrote first, the stale one was refused, and the refusal is in the event trail
    refused = stale.count("superseded")
    assert refused == sum(1 for oid, _ in made if any(e.action == "superseded" for e in gateway.events_for("order", oid)))


def test_two_holders_creating_one_order_write_one_sales_order(gateway, r, dsn):
    stale_jobs, new_jobs, made = _prepare(gateway, r, created=False)
    _race(dsn, "create", stale_jobs, new_jobs)
    numbers = {job[0]: {job[1], new[1]} for job, new in zip(stale_jobs, new_jobs, strict=True)}
    for oid, _ in made:
        assert _count(gateway, "SOHeader", CustOrdNbr=oid) == 1, oid
        assert gateway.get_order_binding(oid).fence in numbers[oid]   # stamped by whichever holder created it


def test_two_holders_cancelling_one_order_cancel_it_once(gateway, r, dsn):
    stale_jobs, new_jobs, made = _prepare(gateway, r, created=True)
    _race(dsn, "cancel", stale_jobs, new_jobs)
    for oid, ord_nbr in made:
        assert gateway.sales_order(ord_nbr)["Cancelled"] == 1
        assert sum(e.action == "cancelled" for e in gateway.events_for("order", oid)) == 1, oid


def test_two_holders_crediting_one_cancellation_write_one_credit_memo(gateway, r, dsn):
    stale_jobs, new_jobs, made = _prepare(gateway, r, created=True, invoiced=True)
    _race(dsn, "credit", stale_jobs, new_jobs)
    for oid, ord_nbr in made:
        assert _count(gateway, "ARDoc", DocType="CM", OrdNbr=ord_nbr) == 1, oid
        assert _count(gateway, "ARDoc", DocType="IN", OrdNbr=ord_nbr) == 1


def test_a_stale_holder_is_refused_after_the_new_one_wrote_and_says_so(gateway, r):
    order = an_order(lines=1)
    oid = order.CustOrdNbr
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    stale, new = _stale_and_new(r, gateway, oid)
    with gateway.fenced(new):
        invoice = gateway.create_invoice(ord_nbr)
    assert gateway.get_order_binding(oid).fence == new.number
    with gateway.fenced(stale), pytest.raises(Superseded):
        gateway.create_invoice(ord_nbr)
    with gateway.fenced(stale), pytest.raises(Superseded):
        gateway.update_order_binding(oid, status="SHIPPED")
    assert gateway.get_order_binding(oid).status == "UNSHIPPED"
    assert [e.action for e in gateway.events_for("order", oid)].count("superseded") == 2
    assert gateway.create_invoice(ord_nbr) == invoice      # unfenced callers (e.g. a person's tool) still see it


def test_the_same_number_from_another_owner_is_refused(gateway):
    """A Redis failover that lost increments can hand one number out twice: the first writer keeps it."""
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    with gateway.fenced(Fence("order", order.CustOrdNbr, 7, "a" * 32)):
        gateway.create_invoice(ord_nbr)
    with gateway.fenced(Fence("order", order.CustOrdNbr, 7, "b" * 32)), pytest.raises(Superseded):
        gateway.update_order_binding(order.CustOrdNbr, status="SHIPPED")


def test_a_holder_whose_keepalive_lost_the_lease_writes_nothing(gateway, r):
    import time

    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    lease = Lease(r, "order", order.CustOrdNbr, ttl=0.3, keepalive=True, epoch_source=gateway.next_fence_epoch)
    with pytest.raises(LeaseLost), lease:     # and its release says so
        r.delete(lease.key)                    # an outage, a failover, a flush: the lease is gone
        deadline = time.monotonic() + 5
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.lost
        with gateway.fenced(lease.fence_token()), pytest.raises(Superseded):
            gateway.create_invoice(ord_nbr)
    assert _count(gateway, "ARDoc", DocType="IN", OrdNbr=ord_nbr) == 0


def test_one_invoice_per_order_and_shipment_is_a_unique_key(gateway):
    """Even code that skips every check cannot write a second document for the same event."""
    from integration.sl import state
    from integration.sl.db import DuplicateKey

    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    gateway.create_invoice(ord_nbr, shipper_id="000123")
    with pytest.raises(DuplicateKey):
        gateway.db.run(lambda rows: state.record_document(
            rows, order.CustOrdNbr, "IN", "000123", cpny_id="AMZDEMO", ord_nbr=ord_nbr, ref_nbr="999999",
            bat_nbr="999999", amount=1))
    assert gateway.create_invoice(ord_nbr, shipper_id="000124") != gateway.create_invoice(ord_nbr, shipper_id="000123")
    first_refund = gateway.create_credit_memo(ord_nbr, event_key="amzn-refund-1", amounts={"00001": Decimal("1")},
                                              freight=Decimal(0))
    assert gateway.create_credit_memo(ord_nbr, event_key="amzn-refund-1") == first_refund
    assert _count(gateway, "ARDoc", DocType="CM", OrdNbr=ord_nbr) == 1


def test_fencing_numbers_after_a_flush_are_above_every_earlier_one(gateway, r):
    """Redis forgets its counters; SL's epoch goes up, so the new holder is not mistaken for a stale one."""
    order = an_order(lines=1)
    oid = order.CustOrdNbr
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    for _ in range(3):
        lease = Lease(r, "order", oid, ttl=30, epoch_source=gateway.next_fence_epoch)
        assert lease.acquire()
        with gateway.fenced(lease.fence_token()):
            gateway.update_order_binding(oid, status="UNSHIPPED", last_updated="2026-03-14T10:00:00Z")
        lease.release()
    before = gateway.get_order_binding(oid).fence
    r.flushdb()
    after = Lease(r, "order", oid, ttl=30, epoch_source=gateway.next_fence_epoch)
    assert after.acquire() and after.fence > before
    assert after.fence // EPOCH_SPAN == int(gateway.get_cursor("fence.epoch"))
    with gateway.fenced(after.fence_token()):
        gateway.create_invoice(ord_nbr)
    assert gateway.get_order_binding(oid).fence == after.fence


def test_a_holder_finding_sl_ahead_of_redis_lifts_the_counter_and_retries(gateway, r, monkeypatch):
    """Redis restored from an old snapshot hands out numbers SL has seen: the holder (still the lease's owner)
    is refused once, lifts the counter above SL's number, and its retry writes."""
    from integration.errors import Transient
    from integration.sync.entity import hold_entity

    class Ctx:   # what hold_entity needs of a Context
        def __init__(self):
            self.redis, self.sl = r, gateway
            self.settings = type("S", (), {"lease_seconds": 30})()

    order = an_order(lines=1)
    oid = order.CustOrdNbr
    gateway.create_sales_order(order, a_binding(order))
    ahead = 5 * EPOCH_SPAN + 40
    sandbox.update_rows(gateway.db, "xAMZOrder", {"Fence": ahead, "FenceOwner": "x" * 32}, {"AmazonOrderId": oid})
    with pytest.raises(Transient), hold_entity(Ctx(), "order", oid):
        gateway.update_order_binding(oid, status="SHIPPED")
    with hold_entity(Ctx(), "order", oid) as lease:
        assert lease.fence > ahead
        gateway.update_order_binding(oid, status="SHIPPED")
    assert gateway.get_order_binding(oid).status == "SHIPPED"


def test_the_sql_server_lock_holds_the_key_range():
    from integration.sl.dialect import SQLServerDialect
    from integration.sl.rows import Rows

    class Capture:
        def __init__(self):
            self.sql = ""

        def cursor(self):
            return self

        def execute(self, sql, params):
            self.sql = sql

        def fetchone(self):
            return None

        def fetchall(self):
            return []

    conn = Capture()
    Rows(conn, SQLServerDialect()).lock("xAMZOrder", ["Fence", "FenceOwner"], {"AmazonOrderId": "1"}, hold=True)
    assert conn.sql == ('SELECT "Fence", "FenceOwner" FROM "xAMZOrder" WITH (UPDLOCK, HOLDLOCK) '
                        'WHERE "AmazonOrderId" = ?')


def test_a_newer_holder_deciding_to_write_nothing_still_fences_out_a_stale_creator(gateway, r):
    """B (newer) sees the order cancelled before SL knew it and skips it; A (stale) read it unshipped and would
    create it: refused, because B's decision stamped the order's fence though no binding exists."""
    from integration.sl.models import Event

    for decide in ("skip", "hold"):
        order = an_order(lines=1)
        oid = order.CustOrdNbr
        stale, new = _stale_and_new(r, gateway, oid)
        with gateway.fenced(new):
            if decide == "skip":
                gateway.record_event(Event("order", oid, "skipped"))
            else:
                gateway.create_hold("order", oid, "status_conflict", "Amazon says SHIPPED, SL has no order")
        with gateway.fenced(stale), pytest.raises(Superseded):
            gateway.create_sales_order(order, a_binding(order))
        assert _count(gateway, "SOHeader", CustOrdNbr=oid) == 0
        assert gateway.get_order_binding(oid) is None


def test_a_stray_document_row_taking_the_next_number_is_an_error_not_already_done(gateway):
    """xAMZDocument's second key (company, type, RefNbr) refusing a row is not "a concurrent invoice won"."""
    from integration.errors import Permanent
    from integration.sl import state

    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    prefix, last = gateway.db.run(lambda rows: rows.one('SELECT "InvcNbrPrefix", "LastInvcNbr" FROM "SOType" '
                                                        'WHERE "SOTypeID" = ?', ["SO"]))   # ADG_SOType_InvcNbr
    stray = prefix.strip() + str(int(last) + 1).zfill(len(last.strip()))
    gateway.db.run(lambda rows: state.record_document(rows, "111-0000000-0000000", "IN", "ORDER", cpny_id="AMZDEMO",
                                                      ord_nbr="OTHER", ref_nbr=stray, bat_nbr="1", amount=1))
    with pytest.raises(Permanent):
        gateway.create_invoice(ord_nbr)
    assert gateway.get_order_binding(order.CustOrdNbr).sl_status == "OPEN"
