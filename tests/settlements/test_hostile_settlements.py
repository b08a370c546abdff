"""Hostile review of the settlements flow (issue 14): poison files, stale holds, what a person is shown.

Each test is a defect the review found, kept as a test now that it is fixed.
Files are written as Seller Central would give them (V2 flat file, tab-separated, summary row first) and imported
through ``flow.import_file`` against the seeded SL sandbox (SQLite) and the simulator over HTTP.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from integration.settlements import flow
from integration.settlements.parse import open_settlement
from integration.settlements.refunds import apply_refunds
from integration.sync import orders
from tests.orders.conftest import sku_known
from tests.settlements.settlement_builders import COLUMNS, a_header, refund_parts

POSTED = "2026-11-20 10:00:00 UTC"        # in the sandbox's open periods (202601 .. 202612)


def summary(sid: str, total: str) -> dict:
    return {"settlement-id": sid, "settlement-start-date": "2026-11-16 00:00:00 UTC",
            "settlement-end-date": "2026-11-30 00:00:00 UTC", "deposit-date": "2026-12-01 00:00:00 UTC",
            "total-amount": total, "currency": "USD"}


def a_row(sid: str, ttype: str, atype: str, desc: str, amount: str, posted: str = POSTED, **cells) -> dict:
    return {"settlement-id": sid, "currency": "USD", "transaction-type": ttype, "amount-type": atype,
            "amount-description": desc, "amount": amount, "posted-date-time": posted,
            "marketplace-name": "Amazon.com", **{k.replace("_", "-"): v for k, v in cells.items()}}


def write(path: Path, rows: list[dict]) -> str:
    lines = ["\t".join(COLUMNS)] + ["\t".join(r.get(c, "") for c in COLUMNS) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def open_holds(ctx, sid: str) -> list:
    return [h for h in ctx.sl.list_holds(status="OPEN", entity="settlement")
            if h.key == sid or h.key.startswith(sid + ":")]


def active_batches(ctx) -> dict[str, str]:
    """BatNbr -> SL Batch.Status of every settlement batch SL holds (voided ones included)."""
    found = ctx.sl.db.run(lambda r: r.all('SELECT "BatNbr", "Status" FROM "Batch" WHERE "Module" = ?', ["GL"]),
                          write=False)
    return {b.strip(): s.strip() for b, s in found}


# -- money ---------------------------------------------------------------------------------------------------------
def test_a_file_without_a_settlement_id_is_held_and_never_replaces_another(ctx, tmp_path):
    first = flow.import_file(ctx, write(tmp_path / "a.tsv", [
        summary("", "10.00"), a_row("", "Order", "ItemPrice", "Principal", "10.00")]))
    second = flow.import_file(ctx, write(tmp_path / "b.tsv", [
        summary("", "25.00"), a_row("", "Order", "ItemPrice", "Principal", "25.00")]))
    assert ctx.sl.get_settlement_binding("") is None           # nothing bound to a settlement without an id
    assert (first.outcome, second.outcome) == ("held", "held")
    assert "V" not in active_batches(ctx).values()             # no payout voided by an unrelated file


def test_a_refund_larger_than_the_invoice_is_held_not_credited(ctx, sim):
    from tests.settlements.settlement_builders import _row

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    ctx.sl.create_invoice(ord_nbr)
    item = made["orderItems"][0]
    ten_times = -refund_parts(made, 0)["ITEM"] * 10
    rows = [_row("Refund", made["orderId"], item["orderItemId"], "ItemPrice", "Principal", ten_times, "ADJ-10X")]
    [outcome] = apply_refunds(ctx, a_header(), lambda: iter(rows))
    memos = ctx.sl.db.run(lambda r: r.all('SELECT "OrigDocAmt" FROM "ARDoc" WHERE "DocType" = ? AND "OrdNbr" = ?',
                                          ["CM", ord_nbr]), write=False)
    assert outcome.value == "held"
    assert memos == []


def test_an_unmapped_hold_is_closed_when_the_repost_maps_the_type(ctx, tmp_path):
    from integration.mapping import rules as mapping_rules
    from integration.mapping.rules import load_mapping

    sid = "9710000001"
    flow.import_file(ctx, write(tmp_path / "s.tsv", [
        summary(sid, "10.00"), a_row(sid, "Weird", "Thing", "X", "10.00")]))
    assert [h.reason for h in open_holds(ctx, sid)] == ["unmapped_settlement_type"]
    fixed = tmp_path / "mapping.yaml"
    fixed.write_text(mapping_rules.default_mapping_text().replace(
        "  rules:\n", '  rules:\n    - {type: Weird, acct: "4030"}\n', 1), encoding="utf-8")
    again = flow.repost(dataclasses.replace(ctx, mapping=load_mapping(str(fixed))), sid)
    assert again.outcome == "replaced" and again.post["unmapped"] == []
    assert open_holds(ctx, sid) == []


def test_a_corrected_file_closes_the_hold_of_the_broken_one(ctx, tmp_path):
    sid = "9710000002"
    broken = flow.import_file(ctx, write(tmp_path / "broken.tsv", [
        summary(sid, "-10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00")]))
    assert (broken.outcome, broken.reason) == ("held", "total_mismatch")
    fixed = flow.import_file(ctx, write(tmp_path / "fixed.tsv", [
        summary(sid, "10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00")]))
    assert fixed.outcome == "posted"
    assert open_holds(ctx, sid) == []


def test_rows_of_another_settlement_in_a_file_are_held(ctx, tmp_path):
    sid = "9710000003"
    result = flow.import_file(ctx, write(tmp_path / "s.tsv", [
        summary(sid, "10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "4.00"),
        a_row("9710000099", "Order", "ItemPrice", "Principal", "6.00")]))
    assert result.outcome == "held"


# -- settlements SL refuses though nothing is wrong ------------------------------------------------------------------
def test_a_zero_settlement_is_not_held_as_unbalanced(ctx, tmp_path):
    sid = "9710000004"
    result = flow.import_file(ctx, write(tmp_path / "s.tsv", [
        summary(sid, "0.00"),
        a_row(sid, "other-transaction", "other-transaction", "Previous Reserve Amount Balance", "50.00"),
        a_row(sid, "other-transaction", "other-transaction", "Current Reserve Amount", "-50.00")]))
    assert result.outcome != "held", result.reason


def test_a_period_of_zero_rows_does_not_hold_the_settlement(ctx, tmp_path):
    sid = "9710000005"
    result = flow.import_file(ctx, write(tmp_path / "s.tsv", [
        summary(sid, "10.00"),
        a_row(sid, "Order", "ItemPrice", "Tax", "0.00", posted="2026-10-30 10:00:00 UTC"),
        a_row(sid, "Order", "ItemPrice", "Principal", "10.00")]))
    assert result.outcome == "posted", result.reason


# -- poison input ----------------------------------------------------------------------------------------------------
def test_a_quantity_in_scientific_notation_is_not_expanded(tmp_path):
    path = write(tmp_path / "s.tsv", [summary("9710000006", "10.00"), a_row(
        "9710000006", "Order", "ItemPrice", "Principal", "10.00", quantity_purchased="1e400")])
    [row] = open_settlement(path).rows()
    assert row.quantity < 10 ** 9


# -- what a person is shown ------------------------------------------------------------------------------------------
def test_show_reports_the_posted_file_not_a_held_reissue(ctx, tmp_path):
    sid = "9710000007"
    posted = flow.import_file(ctx, write(tmp_path / "good.tsv", [
        summary(sid, "10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00")]))
    assert posted.outcome == "posted"
    reissue = flow.import_file(ctx, write(tmp_path / "broken.tsv", [
        summary(sid, "99.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00")]))
    assert (reissue.outcome, reissue.reason) == ("held", "total_mismatch")
    shown = flow.describe(ctx, sid)
    assert Decimal(shown["debit"]) == Decimal("10.00")
    assert Decimal(shown["total"]) == Decimal("10.00")
    assert [Decimal(t["amount"]) for t in shown["by_type"]] == [Decimal("10.00")]


def test_releasing_a_refund_hold_keeps_the_refund_in_the_queue_when_the_repost_is_held(ctx, tmp_path):
    sid = "9710000008"
    refund = a_row(sid, "Refund", "ItemPrice", "Principal", "-4.00", order_id="111-9999999-0000001",
                   adjustment_id="ADJ-LOST", order_item_code="A1")
    first = flow.import_file(ctx, write(tmp_path / "good.tsv", [
        summary(sid, "6.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00"), refund]))
    assert first.outcome == "posted"
    [held] = [h for h in open_holds(ctx, sid) if h.reason == "refund_unmatched"]   # SL does not know the order
    flow.import_file(ctx, write(tmp_path / "broken.tsv", [       # a re-issue whose rows do not add up: held
        summary(sid, "7.00"), a_row(sid, "Order", "ItemPrice", "Principal", "10.00"), refund]))
    ctx.sl.set_hold_status(held.hold_id, "RELEASED", "order imported")   # what `slsync holds release` does ...
    flow.repost(ctx, held.key)                                           # ... and the task it queues
    assert [h.reason for h in open_holds(ctx, sid) if h.key.endswith(":ADJ-LOST")] == ["refund_unmatched"]


def test_reconcile_of_an_unreadable_settlement_gives_a_message_not_a_traceback(env, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from integration.cli import main
    from integration.config import settings

    monkeypatch.setenv("SETTLEMENTS_DIR", str(tmp_path / "kept"))
    settings.cache_clear()
    sid = "9710000009"
    path = write(tmp_path / "nan.tsv", [summary(sid, "10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "NaN")])
    out = CliRunner().invoke(main, ["reconcile", "--settlement", sid, "--file", path])
    assert out.exit_code in (1, 2) and (out.exception is None or isinstance(out.exception, SystemExit)), out.exception
    assert "NaN" in out.output


def test_show_of_a_settlement_held_for_an_unreadable_amount_shows_its_hold(ctx, tmp_path):
    sid = "9710000010"
    held = flow.import_file(ctx, write(tmp_path / "s.tsv", [
        summary(sid, "10.00"), a_row(sid, "Order", "ItemPrice", "Principal", "NaN")]))
    assert (held.outcome, held.reason) == ("held", "unreadable_amount")
    shown = flow.describe(ctx, sid)
    assert shown["status"] == "NOT POSTED"
    assert [h["reason"] for h in shown["holds"]] == ["unreadable_amount"]


def test_reconcile_fix_writes_no_credit_memo_from_a_settlement_that_was_not_posted(ctx, sim, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from integration.cli import main
    from integration.config import settings
    from tests.settlements.settlement_builders import order_rows, refund_rows, write_v2

    monkeypatch.setenv("SETTLEMENTS_DIR", str(tmp_path / "kept"))
    settings.cache_clear()
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    ctx.sl.create_invoice(ord_nbr)
    sid = "9710000011"
    path = Path(write_v2(tmp_path / "s.tsv", sid, order_rows(made) + refund_rows(made, 0, "ADJ-UNPOSTED")))
    lines = path.read_text().split("\n")
    cells = lines[1].split("\t")
    cells[4] = "1.23"                                  # the summary's total no longer what the rows add up to
    lines[1] = "\t".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    assert flow.import_file(ctx, str(path)).reason == "total_mismatch"
    out = CliRunner().invoke(main, ["reconcile", "--settlement", sid, "--fix", "--json"])
    memos = ctx.sl.db.run(lambda r: r.all('SELECT "RefNbr" FROM "ARDoc" WHERE "DocType" = ? AND "OrdNbr" = ?',
                                          ["CM", ord_nbr]), write=False)
    assert memos == []
    assert out.exit_code == 1


def test_a_row_without_a_date_in_a_file_without_summary_dates_does_not_crash(ctx, tmp_path):
    from datetime import UTC, datetime

    sid = "9710000012"
    today = datetime.now(UTC).strftime("%Y-%m-%d 00:00:01 UTC")     # SL's current period, as the fallback is
    undated = {**summary(sid, "10.00"), "settlement-start-date": "", "settlement-end-date": "", "deposit-date": ""}
    result = flow.import_file(ctx, write(tmp_path / "s.tsv", [
        undated, a_row(sid, "Order", "ItemPrice", "Principal", "4.00", posted=today),
        a_row(sid, "Order", "ItemPrice", "Shipping", "6.00", posted="")]))
    assert result.outcome in ("posted", "held")
