"""Buyer data in holds: a hold keeps its payload until `slsync holds purge` removes it once closed and old;
`slsync holds show` prints the buyer's name, address and phone only with --full."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

from tests.orders.conftest import on_both_engines  # noqa: F401  (SQLite and PostgreSQL)
from tests.support.worker import ROOT, child_env

BUYER = {"orderId": "111-1234567-0000001", "buyer": {"buyerName": "Jane Roe", "buyerEmail": "jane@example.test"},
         "recipient": {"deliveryAddress": {"name": "Jane Roe", "addressLine1": "1 Main St", "city": "Seattle",
                                           "phone": "+1 206 555 0100", "countryCode": "US"}}}


def slsync(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "integration.cli", *args], cwd=ROOT, env=child_env(env),
                          capture_output=True, text=True, timeout=120)


def _hold(ctx, key: str, status: str = "OPEN", days_ago: float = 0) -> int:
    hold_id = ctx.sl.create_hold("order", key, "unknown_sku", "SKU not in SL", {"payload": {**BUYER, "orderId": key}})
    if status != "OPEN":
        ctx.sl.set_hold_status(hold_id, status, "closed by the test")
    if days_ago:   # the hold was last changed that long ago
        when = datetime.now() - timedelta(days=days_ago)
        ctx.sl.db.run(lambda r: r.update("xAMZHold", {"CreatedAt": when, "UpdatedAt": when}, {"HoldId": hold_id}))
    return hold_id


def test_purge_removes_only_closed_holds_older_than_n_days(ctx, env):
    keep = {"open-old": _hold(ctx, "111-0000000-0000001", days_ago=90),
            "released-recent": _hold(ctx, "111-0000000-0000002", "RELEASED", days_ago=5)}
    gone = {"released-old": _hold(ctx, "111-0000000-0000003", "RELEASED", days_ago=40),
            "discarded-old": _hold(ctx, "111-0000000-0000004", "DISCARDED", days_ago=31)}

    dry = slsync(env, "holds", "purge", "--older-than", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 closed hold(s) older than 30 day(s) would be purged" in dry.stdout
    assert all(ctx.sl.get_hold(h) for h in {**keep, **gone}.values())

    done = slsync(env, "holds", "purge", "--older-than", "30")
    assert done.returncode == 0 and "2 closed hold(s) older than 30 day(s) purged" in done.stdout
    assert [ctx.sl.get_hold(h) for h in gone.values()] == [None, None]
    assert all(ctx.sl.get_hold(h) for h in keep.values())
    assert [e.action for e in ctx.sl.events_for("hold", "purge")] == ["holds_purged"]
    assert "0 closed hold(s)" in slsync(env, "holds", "purge", "--older-than", "30").stdout


def test_purge_needs_an_age(env):
    out = slsync(env, "holds", "purge")
    assert out.returncode != 0 and "--older-than" in out.stderr


def test_show_redacts_buyer_data_unless_asked(ctx, env):
    hold_id = _hold(ctx, "111-0000000-0000005")
    shown = slsync(env, "holds", "show", str(hold_id), "--json")
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)["payload"]["payload"]
    assert payload["orderId"] == "111-0000000-0000005" and payload["recipient"]["deliveryAddress"]["city"] == "Seattle"
    assert not [p for p in ("Jane Roe", "1 Main St", "555 0100", "jane@example.test") if p in shown.stdout]
    text = slsync(env, "holds", "show", str(hold_id)).stdout
    assert "--full" in text and "Jane Roe" not in text
    full = json.loads(slsync(env, "holds", "show", str(hold_id), "--json", "--full").stdout)
    assert full["payload"]["payload"]["recipient"]["deliveryAddress"]["name"] == "Jane Roe"
