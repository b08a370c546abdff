"""Orders under Amazon faults (issue #10): the order import rate with a 10% 500 rate on getOrder versus the
fault-free rate in the same run.

``orders_import_rate_10pct_getorder_500``: 500 orders created in the SP-API simulator (rate limits and response
validation off) are each imported by their own ``slsync.orders.import`` (no cached payload: one getOrder each) into
a fresh seeded SQLite SL, on a real 2-process prefork worker (queues default, amazon, sl) with the product's retry
and breaker defaults. Orders/s from the first to the last new ``xAMZOrder`` binding: first fault-free, then with
``{"op": "getOrder", "kind": "500", "rate": 0.1}``, then fault-free again (after an unmeasured warm-up of 100
orders: the first batch through a fresh worker and database is slower); the ratio is the faulted rate over the
better fault-free one. Each 500 is retried with the product's backoff (full jitter under RETRY_BACKOFF_BASE * 2^n,
no Retry-After from a 500), so the faulted batch ends with a tail of retries: ``faulted_rate_to_90pct`` shows the
rate of the bulk apart from that tail. Goal >= 0.5: a 10% error rate slows the flow (its retries) but the per-family breaker never
stops it (it opens on >= 50% of >= 20 calls in 60 s). The row also shows the orders breaker's state at the end, the
500s Amazon sent and the imports given up on (must be 0). Redis database 10 (``use_bench_redis(10)``).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from benchmarks.bench_orders import (
    QUEUES,
    SEED,
    _advance,
    _apply_env,
    _broker_idle,
    _create_orders,
    _env,
    _scalar,
    _seeded_sl,
    _sqlite,
)
from benchmarks.support import tear_down, use_bench_redis
from tests.support.worker import wait_until

N_ORDERS = int(os.environ.get("SLSYNC_BENCH_FAULT_ORDERS", "500"))
SCALE = 600.0            # the client's and simulator's clock: token lifetimes never bind here
FAULT = {"op": "getOrder", "kind": "500", "rate": 0.1}
REDIS_DB = 10


def _bindings(dsn: str) -> int:
    return _scalar(dsn, 'SELECT COUNT(*) FROM "xAMZOrder"')


def _import_phase(app, r, sim, dsn: str, rnd: random.Random, n_orders: int = N_ORDERS, timeout: float = 300) -> dict:
    """Create N orders, send one import task each, and time the first to the last new binding in SL."""
    ids = _create_orders(sim.url, n_orders, rnd)
    _advance(sim.url, 180)
    start, target = _bindings(dsn), _bindings(dsn) + n_orders
    ninety = start + int(0.9 * n_orders)
    before = sim.stats.snapshot()["operations"].get("getOrder", {}).get("statuses", {})
    with app.producer_or_acquire() as producer:
        for oid in ids:
            app.send_task("slsync.orders.import", args=[oid], queue="sl", producer=producer)
    con, first, t90, deadline = _sqlite(dsn), None, None, time.monotonic() + timeout
    failed_key = "slsync:failed:slsync.orders.import"
    try:
        while True:
            n = con.execute('SELECT COUNT(*) FROM "xAMZOrder"').fetchone()[0]
            now = time.monotonic()
            if n > start and first is None:
                first = now
            if n >= ninety and t90 is None:
                t90 = now
            if n >= target or (n + r.llen(failed_key) >= target and _broker_idle(r)):
                last = now
                break
            if now > deadline:
                raise TimeoutError(f"{n - start} of {n_orders} imported in {timeout:g}s")
            time.sleep(0.02)
    finally:
        con.close()
    wait_until(lambda: _broker_idle(r), 60, "broker idle after the imports")
    after = sim.stats.snapshot()["operations"].get("getOrder", {}).get("statuses", {})
    errors = int(after.get("500", 0)) - int(before.get("500", 0))
    imported = _bindings(dsn) - start
    return {"imported": imported, "span": last - first, "rate": imported / (last - first), "get_order_500": errors,
            "rate90": (ninety - start) / max(t90 - first, 1e-6), "failed": r.llen(failed_key)}


def run() -> list[dict]:
    redis_url = use_bench_redis(REDIS_DB)
    import redis

    from integration.guard.breaker import all_states
    from integration.sandbox.amazon import Simulator
    from tests.support.worker import start_worker
    from workers.app import app

    app.conf.broker_url = redis_url
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    saved = dict(os.environ)
    sim = Simulator(seed=SEED, orders=0, time_scale=SCALE, rate_limits=False, validate=False).start()
    worker = None
    try:
        with tempfile.TemporaryDirectory(prefix="slsync-bench-faults-") as tmp:
            dsn = _seeded_sl(Path(tmp), "faults.db")
            _apply_env(_env(sim.url, dsn, redis_url, SCALE))
            worker = start_worker(os.environ.copy(), queues=",".join(QUEUES), concurrency=2, app="workers.app",
                                  name="bench-faults")
            rnd = random.Random(SEED)
            _import_phase(app, r, sim, dsn, rnd, n_orders=100)    # warm-up, not measured
            clean = [_import_phase(app, r, sim, dsn, rnd)]
            sim.faults.set([FAULT])
            faulted = _import_phase(app, r, sim, dsn, rnd)
            breakers = all_states(r)
            sim.faults.set([])
            clean.append(_import_phase(app, r, sim, dsn, rnd))
    finally:
        tear_down(worker, sim, saved)
    base = max(c["rate"] for c in clean)
    return [{
        "name": "orders_import_rate_10pct_getorder_500",
        "metric": "orders/s, one import task each, 10% getOrder 500 vs fault-free",
        "value": round(faulted["rate"], 1), "baseline": round(base, 1), "ratio": round(faulted["rate"] / base, 3),
        "goal": ">= 0.5", "orders": N_ORDERS, "fault_free_runs": [round(c["rate"], 1) for c in clean],
        "faulted_rate_to_90pct": round(faulted["rate90"], 1),
        "fault_free_rate_to_90pct": [round(c["rate90"], 1) for c in clean],
        "faulted_seconds": round(faulted["span"], 2), "fault_free_seconds": [round(c["span"], 2) for c in clean],
        "get_order_500": faulted["get_order_500"], "imported": faulted["imported"],
        "failed_imports": faulted["failed"] + sum(c["failed"] for c in clean),
        "orders_breaker_after_faults": breakers["amazon.orders"],
        "worker": "prefork -c 2, queues default,amazon,sl; product retry and breaker defaults"}]
