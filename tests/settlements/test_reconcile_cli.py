"""``slsync reconcile`` and ``slsync status`` on a settlement file (SQLite; the engines are covered by
test_reconcile): exit codes, the CSV, --fix, and the result kept for status."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from integration.cli import main
from integration.sl.models import Event
from integration.sync import orders
from tests.orders.conftest import sku_known
from tests.settlements.settlement_builders import order_rows, refund_rows, write_v2


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _memos(ctx):
    return ctx.sl.db.run(lambda r: r.all('SELECT "EventKey" FROM "xAMZDocument" WHERE "DocType" = ?', ["CM"]),
                         write=False)


def _unreconciled():
    return json.loads(_run("status", "--json").output)["unreconciled_settlements"]


def test_reconcile_reports_in_a_csv_exits_1_and_fix_credits_the_refund_and_queues_the_missing_import(
        ctx, sim, r, tmp_path):
    from integration.settlements import flow

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    stranger = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    path = write_v2(tmp_path / "s.tsv", "23456789012",
                    order_rows(made) + order_rows(stranger) + refund_rows(made, 0, "AMZ-ADJ-CLI"))
    # posted while the order was not invoiced yet: its refund could not be credited then (held), it is now
    imported = flow.import_file(ctx, path)
    assert imported.outcome == "posted" and imported.post["refunds"] == {"held": 1}
    ctx.sl.create_invoice(ord_nbr)
    out = tmp_path / "recon.csv"

    result = _run("reconcile", "--settlement", "23456789012", "--file", path, "--csv", str(out))
    assert result.exit_code == 1, result.output
    assert "NOT reconciled" in result.output and stranger["orderId"] in result.output
    with open(out, newline="", encoding="utf-8") as fh:
        lines = {(x["kind"], x["order_id"]): x for x in csv.DictReader(fh)}
    assert {k: v["status"] for k, v in lines.items()} == {
        ("order", made["orderId"]): "ok", ("order", stranger["orderId"]): "missing_in_sl",
        ("refund", made["orderId"]): "credit_memo_missing"}
    assert lines[("refund", made["orderId"])]["adjustment_id"] == "AMZ-ADJ-CLI"
    assert _memos(ctx) == [] and r.llen("sl") == 0          # read-only without --fix
    assert _unreconciled() == ["23456789012"]

    fixed = _run("reconcile", "--settlement", "23456789012", "--file", path, "--fix", "--json")
    assert fixed.exit_code == 1                              # the missing order is only queued for import
    data = json.loads(fixed.output)
    assert data["fixed"] == {"imports_queued": 1, "credit_memos": 1, "refunds_held": 0}
    assert data["counts"] == {"ok": 2, "missing_in_sl": 1}
    assert [k.strip() for (k,) in _memos(ctx)] == ["AMZ-ADJ-CLI"]
    [message] = [json.loads(m) for m in r.lrange("sl", 0, -1)]
    assert message["headers"]["task"] == "slsync.orders.import" and stranger["orderId"] in message["headers"]["argsrepr"]


def test_a_clean_settlement_exits_0_from_the_kept_file_and_leaves_status_clean(ctx, sim, r, tmp_path):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ctx.sl.create_invoice(orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr)
    path = write_v2(tmp_path / "clean.tsv", "34567890123", order_rows(made))
    assert _run("reconcile", "--settlement", "34567890123").exit_code != 0     # no file kept yet: says so
    ctx.sl.record_event(Event("settlement", "34567890123", "downloaded", detail={"path": path}))

    result = _run("reconcile", "--settlement", "34567890123", "--csv", str(tmp_path / "c.csv"))
    assert result.exit_code == 0, result.output
    assert "reconciled" in result.output and "wrote 1 lines" in result.output
    assert _unreconciled() == []
