"""Listings that resume where they stopped: getReports (token life undocumented: re-query up to the creation time
reached) and getInventorySummaries (token lives 30 s: list again, skip what was done, checked by the last key),
against the simulator over HTTP. Each run is cut short after one page, as a rate pause or a crash would."""

from __future__ import annotations

from datetime import timedelta

from integration.amazon.reports import SETTLEMENT
from integration.sandbox.amazon.state import iso
from integration.sync import paging


def _settlement_reports(sim, count: int) -> list[str]:
    state = sim.sim.state
    now = state.now()
    ids = []
    for n in range(count):
        created = now - timedelta(days=3 * n + 1)
        rid = str(60000000000 + n)
        state.reports[rid] = {"reportId": rid, "reportType": SETTLEMENT, "marketplaceIds": ["ATVPDKIKX0DER"],
                              "dataStartTime": iso(created - timedelta(days=14)), "dataEndTime": iso(created),
                              "createdTime": iso(created), "processingStatus": "DONE",
                              "reportDocumentId": f"amzn1.spdoc.1.4.na.{rid}", "_created": created}
        ids.append(rid)
    return ids


def _walk_one_page_a_run(ctx, listing, query) -> tuple[list, list]:
    seen, runs = [], []
    for _ in range(40):
        run = paging.walk(ctx, listing, lambda: dict(query), lambda items, extra: seen.extend(items), max_pages=1)
        runs.append(run.resumed)
        if run.done:
            return seen, runs
    raise AssertionError("the listing never finished")


def test_settlement_reports_listed_over_many_runs_each_once(ctx, sim):
    state = sim.sim.state
    _settlement_reports(sim, 25)
    since = state.now() - timedelta(days=89)
    listed = [r["reportId"] for r in state.reports.values()
              if r["reportType"] == SETTLEMENT and since <= r["_created"] <= state.now()]
    listing = paging.reports_listing("test.reports")
    seen, runs = _walk_one_page_a_run(ctx, listing, {"types": [SETTLEMENT], "since": iso(since), "page_size": 4})
    ids = [r.report_id for r in seen]
    assert len(listed) > 25 and sorted(ids) == sorted(listed) and len(ids) == len(set(ids))
    assert runs[0] == "" and set(runs[1:]) == {"keyset"}         # every later run re-queried up to the time reached
    assert ctx.sl.get_progress("test.reports") is None            # done: nothing left in progress


def test_fba_summaries_resume_after_their_30_second_token_expired(ctx, sim):
    state = sim.sim.state
    template = next(iter(state.fba.values()))
    row = next(r for r in state.catalog if r["fulfillment"] == "AFN")
    for n in range(100):
        sku = f"FBA-EXTRA-{n:03d}"
        state.by_sku[sku] = {**row, "sku": sku}
        state.fba[sku] = dict(template)
    everything = sorted(state.fba)
    listing = paging.fba_listing("test.fba")
    query = {"marketplace": "ATVPDKIKX0DER"}
    seen: list = []
    first = paging.walk(ctx, listing, lambda: query, lambda items, extra: seen.extend(items), max_pages=1)
    assert not first.done and len(seen) == 50
    sim.advance(45)                                               # the page token (30 s) is gone
    rest = paging.walk(ctx, listing, lambda: query, lambda items, extra: seen.extend(items))
    assert rest.done and rest.resumed == "requery"
    assert [s.sku for s in seen] == everything                    # each SKU once, none skipped
    assert sim.requests()["operations"]["getInventorySummaries"]["statuses"] == {"200": 1 + 3}


def test_fba_summaries_hand_on_again_what_a_changed_list_cannot_prove_done(ctx, sim):
    state = sim.sim.state
    listing = paging.fba_listing("test.fba2")
    template = next(iter(state.fba.values()))
    row = next(r for r in state.catalog if r["fulfillment"] == "AFN")
    for n in range(80):
        state.by_sku[f"FBA-X-{n:03d}"] = {**row, "sku": f"FBA-X-{n:03d}"}
        state.fba[f"FBA-X-{n:03d}"] = dict(template)
    seen: list = []
    paging.walk(ctx, listing, lambda: {"marketplace": "ATVPDKIKX0DER"}, lambda items, extra: seen.extend(items),
                max_pages=1)
    first_page = [s.sku for s in seen]
    del state.fba[first_page[3]]                                  # the list changes before the next run
    sim.advance(45)
    paging.walk(ctx, listing, lambda: {"marketplace": "ATVPDKIKX0DER"}, lambda items, extra: seen.extend(items))
    assert set(state.fba) <= {s.sku for s in seen}                # nothing lost; some handed on twice, harmlessly


def test_more_orders_in_one_second_than_a_page_hold_lose_none_when_one_leaves_while_read(ctx, sim):
    """250 orders share one lastUpdatedTime, so the sweep must follow Amazon's (offset-based) token through them;
    one already handed on is cancelled while the sweep waits for the rate limit, shifting the rest. The order that
    shift hid is found by the next window, which reads that second again; the block costs pages, not pages
    squared."""
    from integration.sandbox.amazon.orders_api import render
    from integration.sandbox.amazon.sandbox_api import ALL
    from integration.sync import orders
    from tests.orders.conftest import sku_known

    state = sim.sim.state
    sku = sku_known(ctx)
    for _ in range(250):
        sim.create_order([{"sku": sku, "quantity": 1}])
    when = max(o["updated"] for o in state.orders.values())
    for o in state.orders.values():
        o["updated"] = when
    block = sorted(state.orders)
    victim = block[200]
    for oid in block:                      # already in SL from notifications, except the victim
        if oid != victim:
            assert orders.apply_order(render(state.orders[oid], ALL), ctx).value == "created"
    sim.advance(900)
    queued, cancelled = [], None
    while True:
        progress = ctx.sl.get_progress(orders.SWEEP_PROGRESS)
        if progress and progress.get("token") and cancelled is None:
            saved = state.pagination.get(progress["token"])
            if saved and saved["offset"] == 200:
                cancelled = block[3]
                sim.change(cancelled, "cancel")      # leaves the window while the sweep waits
        result = orders.sweep(ctx, enqueue=queued.extend, max_pages=1)
        if result.done:
            break
    assert cancelled is not None, "the sweep never followed the token through the block"
    first_window_pages = sim.requests()["operations"]["searchOrders"]["count"]
    assert first_window_pages <= 5                   # 250 orders in one second: 3 pages and a look past them
    sim.advance(300)
    while not orders.sweep(ctx, enqueue=queued.extend).done:
        pass
    assert victim in queued
    assert orders.import_order(victim, ctx).value == "created"


def test_unreadable_sweep_progress_starts_the_window_afresh(ctx, sim, caplog):
    from integration.sl.sandbox import update_rows
    from integration.sync import orders
    from tests.orders.conftest import sku_known

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.advance(180)
    ctx.sl.set_progress(orders.SWEEP_PROGRESS, {"query": {"after": "x"}})
    update_rows(ctx.sl.db, "xAMZCursor", {"State": "{not json"}, {"Name": orders.SWEEP_PROGRESS})
    queued: list[str] = []
    assert orders.sweep(ctx, enqueue=queued.extend).done
    assert queued == [made["orderId"]]
    assert "unusable" in caplog.text
