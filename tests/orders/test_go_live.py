"""Go-live: a first sync over 15 days of a seller's history does not flood the review queue.

The simulated seller has 15 days of orders (merchant-fulfilled ones older than three days were shipped outside the
sync, a day after purchase, as a seller does before the product runs). GO_LIVE is set 7 days back. What a user
checks after the first sync: no status_conflict hold for an order Amazon shipped or cancelled before go-live (it is
recorded as history, nothing written to SL's documents); an order still unshipped from before go-live is a sales
order; a merchant-fulfilled order shipped after go-live that SL never saw is still held as a conflict; and a later
change of a history order neither holds nor writes anything, the second time not even an event.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from integration.sandbox.amazon.state import iso
from integration.sl.sandbox import count
from integration.sync import orders
from integration.timeutil import parse_amazon_time
from tests.orders.conftest import (
    TIME_SCALE,
    Sim,
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    order_env,
    sku_known,
)

ORDERS = 150
GO_LIVE_DAYS_AGO = 7


@pytest.fixture
def sim():
    """A seller with 15 days of history (no future orders), plus one order placed the day before go-live and
    still unshipped: its last change (UNSHIPPED) is before go-live too."""
    from integration.sandbox.amazon import Simulator
    from integration.sandbox.amazon import orders as sim_orders

    s = Simulator(seed=11, orders=ORDERS, time_scale=TIME_SCALE, rate_limits=False, history_days=15.0,
                  future_days=0.0)
    state = s.state
    with state.lock:
        created = state.clock.start - timedelta(days=GO_LIVE_DAYS_AGO + 1)
        order = sim_orders.new_order(state, created=created, lines=[{"sku": sku_known(None), "quantity": 1}],
                                     channel="MFN")
        order["events"] += [(created, "created", {}), (created + timedelta(minutes=10), "unshipped", {})]
        sim_orders.store(state, order)
        state.tick()
    s.open_before_go_live = order["id"]
    yield Sim(s.start())
    s.stop()


@pytest.fixture
def env(sim, sl_dsn, redis_url, r, monkeypatch):
    monkeypatch.setenv("GO_LIVE", iso(sim.sim.state.clock.start - timedelta(days=GO_LIVE_DAYS_AGO)))
    yield from order_env(sim.url, sl_dsn, redis_url, TIME_SCALE)


def _sweep_and_import(ctx) -> tuple[orders.SweepResult, list[str]]:
    found: list[str] = []
    result = orders.sweep(ctx, enqueue=found.extend)
    assert result.done
    for oid in found:
        orders.import_order(oid, ctx)    # the sweep's copy of the order: no further call
    return result, found


def _events(ctx, oid: str) -> list[str]:
    return [e.action for e in ctx.sl.events_for("order", oid)]


def test_a_first_sync_over_15_days_holds_no_order_shipped_or_cancelled_before_go_live(ctx, sim):
    go_live = ctx.settings.go_live
    start = sim.sim.state.clock.start
    assert start - go_live == timedelta(days=GO_LIVE_DAYS_AGO)
    # The first start: the sweep's first window looks back from go-live (FIRST_LOOKBACK before it) ...
    first, queued = _sweep_and_import(ctx)
    assert parse_amazon_time(first.window_start) == \
        go_live - timedelta(seconds=orders.FIRST_LOOKBACK_SECONDS + orders.OVERLAP_SECONDS)
    # ... and the operator reads the 15 days of history too (slsync orders sync --since: the watermark set back)
    ctx.sl.set_cursor(orders.SWEEP_CURSOR, iso(start - timedelta(days=15) + orders.OVERLAP_DELTA))
    _, more = _sweep_and_import(ctx)
    queued += more
    truth = sim.orders()

    def last(o):
        return parse_amazon_time(o["lastUpdatedTime"])

    history = {oid for oid, o in truth.items() if o["status"] in ("SHIPPED", "CANCELLED") and last(o) < go_live}
    late_mfn = {oid for oid, o in truth.items()
                if o["status"] == "SHIPPED" and o["channel"] == "MFN" and last(o) >= go_live}
    kinds = {(truth[oid]["status"], truth[oid]["channel"]) for oid in history}
    assert history <= set(queued) and len(queued) == len(set(queued))      # each queued once, to be recorded
    assert {("SHIPPED", "MFN"), ("SHIPPED", "AFN")} <= kinds and any(s == "CANCELLED" for s, _ in kinds)
    assert late_mfn, "the seed ships merchant orders after go-live too"

    conflicts = {h.key for h in ctx.sl.list_holds(reason="status_conflict")}
    assert conflicts == late_mfn                     # only what left the warehouse after go-live without SL
    held = {h.key for h in ctx.sl.list_holds(status=None)}
    for oid in history:                              # recorded, never held, nothing in SL's documents
        binding = ctx.sl.get_order_binding(oid)
        assert (binding.sl_status, binding.ord_nbr, binding.last_updated) == \
            ("HISTORY", "", truth[oid]["lastUpdatedTime"])
        assert oid not in held and _events(ctx, oid) == ["history"]
        assert count(ctx.sl.db, "SOHeader", {"CustOrdNbr": oid}) == 0
    assert ctx.sl.order_counts()["HISTORY"] == len(history)

    unshipped = sim.sim.open_before_go_live          # placed and last changed before go-live, still to be shipped
    assert truth[unshipped]["status"] == "UNSHIPPED" and last(truth[unshipped]) < go_live
    assert ctx.sl.get_order_binding(unshipped).sl_status == "OPEN"
    assert count(ctx.sl.db, "SOHeader", {"CustOrdNbr": unshipped}) == 1

    # Swept again over the 15 days: no history order is queued again (their bindings settle them).
    ctx.sl.set_cursor(orders.SWEEP_CURSOR, iso(start - timedelta(days=15) + orders.OVERLAP_DELTA))
    found: list[str] = []
    orders.sweep(ctx, enqueue=found.extend)
    assert not set(found) & history

    # Amazon changes a history order after go-live: the sweep still leaves it alone; an import of it (a
    # notification's) records the new version once, and the same version again does nothing.
    oid = min(o for o in history if truth[o]["channel"] == "MFN" and truth[o]["status"] == "SHIPPED")
    with sim.sim.state.lock:
        sim.sim.state.orders[oid]["updated"] = sim.sim.state.now()
    sim.advance(180)
    found.clear()
    orders.sweep(ctx, enqueue=found.extend)
    assert oid not in found
    assert orders.import_order(oid, ctx, fresh=True).value == "history"
    assert orders.import_order(oid, ctx, fresh=True).value == "unchanged"
    assert _events(ctx, oid) == ["history", "history_updated"]
    assert ctx.sl.get_order_binding(oid).last_updated == sim.orders()[oid]["lastUpdatedTime"] > iso(go_live)
    assert oid not in {h.key for h in ctx.sl.list_holds(status=None)}
    assert count(ctx.sl.db, "SOHeader", {"CustOrdNbr": oid}) == 0


def test_without_go_live_a_shipped_order_sl_never_saw_is_a_conflict(ctx, sim):
    """GO_LIVE unset: the status table decides alone, as before (MFN shipped, SL has nothing: review)."""
    from dataclasses import replace

    ctx = replace(ctx, settings=replace(ctx.settings, go_live=None))
    oid = next(o for o, v in sim.orders().items() if v["status"] == "SHIPPED" and v["channel"] == "MFN")
    outcome = orders.import_order(oid, ctx, fresh=True)
    assert (outcome.value, outcome.detail) == ("held", "status_conflict")
    assert ctx.sl.get_order_binding(oid) is None


def test_history_closed_writes_each_order_as_a_closed_sales_order_nothing_open(ctx, sim):
    """``history: closed``: an order shipped or cancelled before go-live becomes a closed SL document for reference
    (Status C, Cancelled for a cancelled one, shipped quantities as Amazon shipped them) that nothing plans, ships
    or bills: no Process Manager entry, no next step, no unshipped balance, no hold."""
    from dataclasses import replace

    ctx = replace(ctx, mapping=replace(ctx.mapping, data={**ctx.mapping.data, "history": "closed"}))
    go_live, start = ctx.settings.go_live, sim.sim.state.clock.start
    ctx.sl.set_cursor(orders.SWEEP_CURSOR, iso(start - timedelta(days=15) + orders.OVERLAP_DELTA))
    _, queued = _sweep_and_import(ctx)
    truth = sim.orders()
    history = [oid for oid in queued if truth[oid]["status"] in ("SHIPPED", "CANCELLED")
               and parse_amazon_time(truth[oid]["lastUpdatedTime"]) < go_live]
    assert {truth[o]["status"] for o in history} == {"SHIPPED", "CANCELLED"}
    held = {h.key for h in ctx.sl.list_holds(status=None)}

    def head(ord_nbr):
        return ctx.sl.db.run(lambda r: r.one('SELECT "Status", "Cancelled", "UnshippedBalance", "NextFunctionID" '
                                             'FROM "SOHeader" WHERE "OrdNbr" = ?', [ord_nbr]), write=False)

    written = set()
    for oid in history:
        binding = ctx.sl.get_order_binding(oid)
        assert binding.sl_status == "HISTORY" and oid not in held
        if not binding.ord_nbr:   # an SKU SL lacks: recorded as with skip, the reason in the event, never held
            assert json.loads(ctx.sl.events_for("order", oid)[0].detail)["not_written"].startswith("unknown_sku")
            continue
        written.add(truth[oid]["status"])
        status, cancelled, unshipped, next_step = head(binding.ord_nbr)
        assert (status, cancelled, unshipped, next_step) == ("C", int(truth[oid]["status"] == "CANCELLED"), 0, "")
        assert count(ctx.sl.db, "ProcessQueue", {"SOOrdNbr": binding.ord_nbr}) == 0
        assert count(ctx.sl.db, "SOSched", {"OrdNbr": binding.ord_nbr, "Status": "O"}) == 0
    assert written == {"SHIPPED", "CANCELLED"}
    from integration.sl import verify  # closed history is whole SL documents: every integrity rule holds
    assert [(r.rule, r.status) for r in verify.verify(ctx.sl.db, ctx.sl.cpny_id) if r.status != "OK"] == []
    # a later change of a closed history order writes nothing more
    oid = next(o for o in history if truth[o]["status"] == "SHIPPED" and ctx.sl.get_order_binding(o).ord_nbr)
    with sim.sim.state.lock:
        sim.sim.state.orders[oid]["updated"] = sim.sim.state.now()
    sim.advance(180)
    assert orders.import_order(oid, ctx, fresh=True).value == "history"
    assert count(ctx.sl.db, "SOHeader", {"CustOrdNbr": oid}) == 1
