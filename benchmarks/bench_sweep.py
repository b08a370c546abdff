"""The orders sweep at volume (issue #9): one window of 20,000 updated orders under the published searchOrders limit.

``orders_sweep_20k``: the simulator holds 20,000 orders updated in the first start's look-back (rate limits ON,
its clock and the client's ``SPAPI_TIME_SCALE`` at x100). One ``slsync.orders.sweep`` is sent to 2 prefork worker
processes; the sweep reads its 200 pages across many runs (20 in the first, then one or two per run as the fleet
bucket refills), resuming from the timestamp and page reached kept in SL, and fans out one import per order.
Wall time from sending the sweep to the end of its window with every import done, versus the least time the
published limit allows for those pages: ``(pages - burst) / rate`` of Amazon's seconds, divided by the time scale.
Goal <= 1.10, with zero 429 answers and every order in SL once (no sales order twice; every order the window covered
bound, held, or rightly not written by the status table).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.support import tear_down, use_bench_redis
from tests.support.worker import start_worker, wait_until

N_ORDERS = int(os.environ.get("SLSYNC_BENCH_SWEEP_ORDERS", "20000"))
SCALE = float(os.environ.get("SLSYNC_BENCH_SWEEP_SCALE", "100"))
SEED = 11
QUEUES = ("default", "amazon", "sl")
REDIS_DB = int(os.environ.get("SLSYNC_BENCH_SWEEP_REDIS_DB", "11"))   # its own: its workers meet no other tasks


def _sl(dsn: str, sql: str, args=()) -> list[tuple]:
    con = sqlite3.connect(dsn.removeprefix("sqlite:///"), timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _swept(dsn: str) -> list[dict]:
    rows = _sl(dsn, 'SELECT "Detail" FROM "xAMZEvent" WHERE "Entity" = ? AND "Action" = ?', ["sweep", "swept"])
    return [json.loads(d) for (d,) in rows]


def _idle(r) -> bool:
    return all(r.llen(q) == 0 for q in QUEUES) and r.hlen("unacked") == 0


def _check(dsn: str, sim, window_end: str) -> dict:
    """Nothing twice, nothing lost: the figures a seller would ask for."""
    from integration.errors import NeedsReview
    from integration.mapping import load_mapping
    from integration.sandbox.amazon.sandbox_api import _summary

    twice = _sl(dsn, 'SELECT "CustOrdNbr" FROM "SOHeader" GROUP BY "CustOrdNbr" HAVING COUNT(*) > 1')
    bound = {oid.strip() for (oid,) in _sl(dsn, 'SELECT "AmazonOrderId" FROM "xAMZOrder"')}
    held = {k.strip() for (k,) in _sl(dsn, 'SELECT "EntityKey" FROM "xAMZHold" WHERE "Status" = ?', ["OPEN"])}
    mapping = load_mapping()
    end = window_end.replace("+00:00", "Z")
    window, lost = 0, []
    for order in list(sim.state.orders.values()):
        o = _summary(order)
        if o["lastUpdatedTime"] > end:
            continue
        window += 1
        try:
            action = mapping.action_for(o["status"], o["channel"], sl_state="none")
        except NeedsReview:
            action = "review"
        if action not in ("wait", "skip") and o["orderId"] not in bound | held:
            lost.append(o["orderId"])
    return {"in_window": window, "bound": len(bound), "held": len(held), "lost": len(lost), "twice": len(twice)}


def run() -> list[dict]:
    from integration.guard.limits import PUBLISHED
    from integration.sandbox import sl_seed
    from integration.sandbox.amazon import Simulator

    redis_url = use_bench_redis(REDIS_DB)
    import redis

    from workers.app import app

    app.conf.broker_url = redis_url
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    saved = dict(os.environ)
    sim = Simulator(seed=SEED, orders=N_ORDERS, time_scale=SCALE, rate_limits=True, validate=False,
                    history_days=2.5, future_days=0.0).start()
    worker = None
    try:
        with tempfile.TemporaryDirectory(prefix="slsync-bench-sweep-") as tmp:
            dsn = f"sqlite:///{Path(tmp) / 'sweep.db'}"
            sl_seed.seed(dsn)
            os.environ.update({"SLSYNC_SANDBOX": "true", "SPAPI_ENDPOINT": sim.url,
                               "LWA_TOKEN_URL": f"{sim.url}/auth/o2/token", "SPAPI_TIME_SCALE": repr(SCALE),
                               "SL_DSN": dsn, "REDIS_URL": redis_url, "BROKER_URL": redis_url, "LOG_LEVEL": "warning"})
            from integration.config import settings

            settings.cache_clear()
            margin = settings().spapi_rate_margin
            worker = start_worker(os.environ.copy(), queues=",".join(QUEUES), concurrency=2, app="workers.app",
                                  name="bench-sweep")
            rate, burst = PUBLISHED["searchOrders"]
            budget = 3 * (N_ORDERS / 100) / (rate * SCALE) + 120
            sent = time.monotonic()
            app.send_task("slsync.orders.sweep", queue="amazon")
            wait_until(lambda: _swept(dsn), budget, "the sweep reaching the end of its window", interval=0.1)
            wait_until(lambda: _idle(r), 600, "every import done", interval=0.1)
            wall = time.monotonic() - sent
            swept = _swept(dsn)[0]
            stats = sim.stats.snapshot()
            pages = swept["pages"]
            minimum = max(0, pages - burst) / (rate * SCALE)
            checks = _check(dsn, sim, swept["to"])
            return [{
                "name": "orders_sweep_20k", "metric": "wall time / minimum allowed by searchOrders' limit",
                "value": round(wall, 1), "baseline": round(minimum, 1), "ratio": round(wall / minimum, 3),
                "goal": "<= 1.10", "pages": pages, "time_scale": SCALE, "rate_margin": margin,
                "throttled_429": stats["throttled"],
                "search_orders_calls": stats["operations"]["searchOrders"]["statuses"],
                **checks}]
    finally:
        tear_down(worker, sim, saved)
