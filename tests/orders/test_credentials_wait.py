"""LWA refuses the seller's refresh token (the seller revoked the app): every task waits, past its usual retries,
with one alert and no hold, one task per order however often the order is queued meanwhile; once the seller
authorises the app again, the waiting work completes, and the first 500s Amazon answers then are retried as
usual (the wait did not use up the retries). A real worker with few retries allowed, the simulator over HTTP (its
LWA endpoint), SQLite SL."""

from __future__ import annotations

import pytest

from tests.orders.conftest import sku_known, start_worker, wait_until
from tests.support import alerts
from workers.app import app


@pytest.fixture
def impatient_worker(env):
    proc = start_worker({**env, "TASK_MAX_RETRIES": "3", "TASK_PATIENT_RETRIES": "2"}, queues="default,amazon,sl", concurrency=2, name="lwa")
    yield proc
    proc.stop()


def test_revoked_credentials_make_tasks_wait_not_give_up_then_the_work_completes(ctx, sim, impatient_worker, r):
    oids = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])["orderId"] for _ in range(2)]
    good = sim.sim.refresh_token
    sim.sim.refresh_token = "Atzr|the-seller-revoked-the-app"
    for oid in oids + oids:                      # queued twice, as a sweep re-queues unsettled work
        app.send_task("slsync.orders.import", args=[oid], queue="sl")
    # far past TASK_MAX_RETRIES and TASK_PATIENT_RETRIES: still waiting, nothing held, one alert naming the setting
    wait_until(lambda: impatient_worker.output().count("transient failure (retry 5 in") == len(oids), timeout=90,
               what="each task retrying a fifth time while the credentials are refused")
    assert ctx.sl.list_holds() == []
    wait_until(lambda: impatient_worker.output().count("this duplicate ends") == len(oids), timeout=30,
               what="the second copy of each order's import ending (one waiter per order)")
    refused = [a for a in alerts.recorded(r) if "LWA_REFRESH_TOKEN" in a.get("message", "") + a["subject"]]
    assert len(refused) == 1
    assert all(ctx.sl.get_order_binding(oid) is None for oid in oids)

    sim.faults([{"op": "getOrder", "kind": "500", "count": 3}])   # Amazon's first answers after the outage
    sim.sim.refresh_token = good                 # authorised again; the product's re-check (5 min) comes early here
    for key in r.scan_iter("slsync:lwa-refused:*"):
        r.delete(key)
    wait_until(lambda: all(ctx.sl.get_order_binding(oid) for oid in oids), timeout=90, what="the orders in SL")
    assert ctx.sl.list_holds() == []
    assert sim.requests()["operations"]["getOrder"]["statuses"].get("500") == 3     # met, retried, not held
