"""Backfill from the all-orders report: one report instead of hundreds of pages, then one import per order."""

from __future__ import annotations

import time
from datetime import timedelta

from integration.sync import backfill, orders
from tests.orders.conftest import sku_known


def test_backfill_fans_out_every_order_in_the_report_once(ctx, sim):
    made = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], minutes_ago=600) for _ in range(25)]
    sim.advance(180)
    queued: list[str] = []
    since = ctx.amazon.server_now(fresh=True) - timedelta(days=1)
    report_id = backfill.start(ctx, since)
    while (result := backfill.resume(ctx, report_id, queued.extend)).status != "DONE":
        time.sleep(0.2)
    assert result.orders == 25
    assert sorted(queued) == sorted(m["orderId"] for m in made)
    assert ctx.sl.get_cursor(backfill.CURSOR) == result.report_id
    for oid in queued:
        assert orders.import_order(oid, ctx).value == "created"
    ops = sim.requests()["operations"]
    assert ops["createReport"]["count"] == 1 and ops.get("searchOrders", {}).get("count", 0) == 0
    assert ops["getOrder"]["count"] == 25


def test_backfill_command_paces_every_order_through_the_workers(ctx, sim, env, worker):
    import subprocess
    import sys

    from integration.sl.sandbox import count
    from tests.orders.conftest import wait_until
    from tests.support.worker import ROOT, child_env

    made = [sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], minutes_ago=600) for _ in range(40)]
    sim.advance(180)
    since = (ctx.amazon.server_now(fresh=True) - timedelta(days=1)).isoformat()
    out = subprocess.run([sys.executable, "-m", "integration.cli", "orders", "backfill", "--since", since],
                         cwd=ROOT, env=child_env(env), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "40 orders handed to the workers" in out.stdout
    wait_until(lambda: count(ctx.sl.db, "xAMZOrder") == 40, timeout=90)
    assert {b.amazon_order_id for b in ctx.sl.order_bindings()} == {m["orderId"] for m in made}
    assert sim.requests()["throttled"] == 0
