"""The operator's commands: import one order, list/show/release/discard holds, status — as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.orders.conftest import sku_known, sku_unknown
from tests.support.worker import ROOT, child_env


def slsync(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "integration.cli", *args], cwd=ROOT, env=child_env(env),
                          capture_output=True, text=True, timeout=120)


def test_import_then_holds_release_and_discard(ctx, sim, env, r):
    good = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    bad = sim.create_order([{"sku": sku_unknown(), "quantity": 1}])
    out = slsync(env, "orders", "import", good["orderId"], "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["outcome"] == "created"
    held = json.loads(slsync(env, "orders", "import", bad["orderId"], "--json").stdout)
    assert held["outcome"] == "held" and held["detail"] == "unknown_sku"

    listed = json.loads(slsync(env, "holds", "list", "--reason", "unknown_sku", "--json").stdout)
    assert [h["key"] for h in listed] == [bad["orderId"]]
    shown = json.loads(slsync(env, "holds", "show", str(held["hold_id"]), "--json").stdout)
    assert shown["payload"]["payload"]["orderId"] == bad["orderId"]

    released = slsync(env, "holds", "release", str(held["hold_id"]), "--note", "xref added")
    assert released.returncode == 0, released.stderr
    assert r.llen("sl") == 1  # the import is queued for the workers
    assert json.loads(slsync(env, "holds", "list", "--json").stdout) == []
    again = slsync(env, "holds", "release", str(held["hold_id"]))
    assert again.returncode != 0 and "RELEASED" in again.stderr

    second = json.loads(slsync(env, "orders", "import", bad["orderId"], "--json").stdout)
    discarded = slsync(env, "holds", "discard", str(second["hold_id"]), "--why", "test listing, never sold")
    assert discarded.returncode == 0
    closed = json.loads(slsync(env, "holds", "list", "--status", "DISCARDED", "--json").stdout)
    assert closed[0]["note"] == "test listing, never sold"

    status = json.loads(slsync(env, "status", "--json").stdout)
    assert status["queues"]["sl"] == 1 and status["breakers"]["amazon"] == "closed"


def test_help_lists_every_command_with_one_line():
    out = subprocess.run([sys.executable, "-m", "integration.cli", "--help"], cwd=ROOT, env=child_env(),
                         capture_output=True, text=True, timeout=60)
    from integration.cli import COMMANDS

    for name in COMMANDS:
        assert name in out.stdout, name
