"""A sweep window of 5,000 updated orders under Amazon's published searchOrders limit (0.0056/s, burst 20).

The first start's look-back holds 50 pages: 20 fit the burst, each later one waits about 180 s of Amazon's
time. The sweep (a real worker, the simulator over HTTP with its rate limits on, a clock 200 times faster)
must read each page once, across many runs, resuming from the page token it saved in SL, with no 429, and
every order must end in SL once: bound to one sales order, held for a person, or rightly not written.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from integration.errors import NeedsReview
from integration.sync import orders
from tests.orders.conftest import Sim, order_env
from tests.support.worker import start_worker, wait_until

ORDERS = 5000
SCALE = 200.0       # a page every ~0.9 s after the burst: slower than a page is processed, even on a busy host


@pytest.fixture
def big_sim():
    from integration.sandbox.amazon import Simulator

    s = Simulator(seed=11, orders=ORDERS, time_scale=SCALE, rate_limits=True, validate=False,
                  history_days=2.5, future_days=0.0).start()
    yield Sim(s)
    s.stop()


@pytest.fixture
def volume_env(big_sim, sqlite_dsn, redis_url, r):
    yield from order_env(big_sim.url, sqlite_dsn, redis_url, SCALE)


def _sl(dsn: str, sql: str, args=()) -> list[tuple]:
    con = sqlite3.connect(dsn[len("sqlite:///"):], timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _swept(dsn: str) -> list[dict]:
    return [json.loads(d) for (d,) in _sl(dsn, 'SELECT "Detail" FROM "xAMZEvent" WHERE "Entity" = ? AND "Action" = ?',
                                           ["sweep", "swept"])]


def _idle(r) -> bool:
    return all(r.llen(q) == 0 for q in ("default", "amazon", "sl")) and r.hlen("unacked") == 0


def test_a_window_of_5000_updated_orders_is_swept_across_runs_each_page_once(volume_env, big_sim, sqlite_dsn, r):
    from integration.mapping import load_mapping
    from workers.app import app

    worker = start_worker(volume_env, queues="default,amazon,sl", concurrency=2, app="workers.app", name="volume")
    try:
        app.conf.broker_url = volume_env["BROKER_URL"]
        app.send_task("slsync.orders.sweep", queue="amazon")
        wait_until(lambda: _swept(sqlite_dsn), 240, "the sweep reaching the end of its window", interval=0.5)
        time.sleep(1.0)
        wait_until(lambda: _idle(r), 240, "every queued import done", interval=0.5)
    finally:
        worker.stop()

    swept = _swept(sqlite_dsn)
    assert len(swept) == 1
    window_end = swept[0]["to"]
    stats = big_sim.sim.stats.snapshot()
    search = stats["operations"]["searchOrders"]
    # every page read exactly once (none again from page 1), across many runs of the task, and Amazon never said 429
    assert search["statuses"] == {"200": swept[0]["pages"]}, search
    assert swept[0]["pages"] >= ORDERS // 100 * 0.9 > 20
    assert stats["throttled"] == 0
    runs = sum(1 for line in worker.output().splitlines() if "Task slsync.orders.sweep[" in line and "received" in line)
    # the burst's 20 pages in the first run, then a page or a few per run as the bucket refills (how many depends
    # on how busy the host is; that it took many runs, each going on where the last stopped, does not)
    assert runs >= 3, f"{runs} sweep runs for {swept[0]['pages']} pages"

    # nothing twice: one sales order per Amazon order, one binding per order
    assert _sl(sqlite_dsn, 'SELECT "CustOrdNbr" FROM "SOHeader" GROUP BY "CustOrdNbr" HAVING COUNT(*) > 1') == []
    bound = {oid.strip() for (oid,) in _sl(sqlite_dsn, 'SELECT "AmazonOrderId" FROM "xAMZOrder"')}
    held = {key.strip() for (key,) in _sl(sqlite_dsn, 'SELECT "EntityKey" FROM "xAMZHold" WHERE "Status" = ?', ["OPEN"])}
    # nothing lost: every order the window covered is in SL (bound or held) unless the mapping says not to write it
    mapping = load_mapping()
    window = [o for o in big_sim.orders().values() if o["lastUpdatedTime"] <= window_end.replace("+00:00", "Z")]
    assert len(window) >= ORDERS * 0.9
    missing = []
    for o in window:
        try:
            action = mapping.action_for(o["status"], o["channel"], sl_state="none")
        except NeedsReview:
            action = "review"
        if action not in ("wait", "skip") and o["orderId"] not in bound | held:
            missing.append((o["orderId"], o["status"], o["channel"], action))
    assert missing == []
    assert len(bound) > ORDERS * 0.5
    assert orders.SWEEP_CURSOR and not _sl(sqlite_dsn, 'SELECT "State" FROM "xAMZCursor" WHERE "Name" = ? AND '
                                                    '"State" <> ?', [orders.SWEEP_PROGRESS, ""])
