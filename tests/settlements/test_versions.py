"""Versions of one settlement (issue 14, findings 2 and 7): which file ends in the GL never depends on the order the
files arrive in; a settlement re-issued after its batch was released has a way out once a person reversed it.

Files are written as Seller Central gives them and imported through ``flow`` against the seeded SL sandbox (SQLite);
one report comes from the simulator over HTTP.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

from integration.settlements import flow
from integration.sl import sandbox
from tests.settlements.test_hostile_settlements import a_row, open_holds, summary, write

EARLIER, LATER = "2026-12-02T08:00:00Z", "2026-12-09T08:00:00Z"   # Amazon's createdTime of two reports


def version(tmp_path, sid: str, name: str, total: str) -> str:
    return write(tmp_path / name, [summary(sid, total), a_row(sid, "Order", "ItemPrice", "Principal", total)])


def payout(ctx, sid: str) -> Decimal:
    """What SL's GL holds for the settlement: the debit of its active batches."""
    return sum((b["debit"] for b in ctx.sl.settlement_batches(sid)), Decimal(0))


def batch_states(ctx, sid: str) -> dict[str, tuple[str, str]]:
    """BatNbr -> (xAMZSettlementBatch.Status, SL Batch.Status) of every batch the settlement ever had."""
    found = ctx.sl.db.run(lambda r: r.all(
        'SELECT s."BatNbr", s."Status", b."Status" FROM "xAMZSettlementBatch" s JOIN "Batch" b ON b."Module" = ? '
        'AND b."BatNbr" = s."BatNbr" WHERE s."SettlementId" = ?', ["GL", sid]), write=False)
    return {b.strip(): (s.strip(), bs.strip()) for b, s, bs in found}


@pytest.mark.parametrize("arrival", ["newer first", "older first"])
def test_the_report_amazon_created_last_is_the_one_posted_whatever_the_order_they_arrive_in(ctx, tmp_path, arrival):
    sid = "9720000001" if arrival == "newer first" else "9720000002"
    old = (version(tmp_path, sid, "old.tsv", "10.00"), EARLIER)
    new = (version(tmp_path, sid, "new.tsv", "10.01"), LATER)
    first, second = (new, old) if arrival == "newer first" else (old, new)
    assert flow.import_file(ctx, first[0], "R1", report_created=first[1]).outcome == "posted"
    result = flow.import_file(ctx, second[0], "R2", report_created=second[1])
    assert (result.outcome, result.reason) == (("unchanged", "older_version") if arrival == "newer first"
                                               else ("replaced", ""))
    assert payout(ctx, sid) == Decimal("10.01")
    shown = flow.describe(ctx, sid)
    assert (shown["total"], shown["file"]) == ("10.01", new[0])
    assert open_holds(ctx, sid) == []
    assert ctx.sl.last_reconciliations().get(sid) is not None      # reconciled after the post (finding 14)


def test_a_report_from_amazon_keeps_its_created_time_with_the_file(ctx, sim):
    report_id, report = next((rid, rep) for rid, rep in sim.sim.state.reports.items()
                             if rep["reportType"] == "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
                             and rep["_created"] <= sim.sim.state.now())
    result = flow.import_report(ctx, report_id)
    assert result.outcome == "posted"
    [received] = [flow._detail(e) for e in ctx.sl.events_for("settlement", result.settlement_id)
                  if e.action == "file_received"]
    assert received["report_created"] == report["createdTime"]


def test_another_version_imported_by_hand_is_held_and_the_posted_one_stays_until_a_person_chooses(ctx, tmp_path):
    sid = "9720000003"
    newer = version(tmp_path, sid, "ver_new.tsv", "10.01")
    older = version(tmp_path, sid, "ver_old.tsv", "10.00")
    assert flow.import_file(ctx, newer).outcome == "posted"
    held = flow.import_file(ctx, older)
    assert (held.outcome, held.reason) == ("held", "settlement_version_conflict")
    assert payout(ctx, sid) == Decimal("10.01")                     # nothing replaced
    hold = ctx.sl.get_hold(held.hold_id)
    assert (hold.payload["posted"]["total"], hold.payload["received"]["total"]) == ("10.01", "10.00")
    assert (hold.payload["posted"]["path"], hold.payload["received"]["path"]) == (newer, older)
    assert hold.payload["posted"]["checksum"] != hold.payload["received"]["checksum"]
    shown = flow.describe(ctx, sid)
    assert shown["total"] == "10.01" and shown["received"]["total"] == "10.00"
    assert flow.import_file(ctx, older).outcome == "held"           # again: the same hold, still nothing replaced
    assert [h.hold_id for h in open_holds(ctx, sid)] == [held.hold_id]

    # the person decides the file is the right one: `slsync holds release` runs the post task with the hold's key
    ctx.sl.set_hold_status(hold.hold_id, "RELEASED", "ver_old is the corrected one")
    chosen = flow.repost(ctx, hold.key)
    assert chosen.outcome == "replaced"
    assert payout(ctx, sid) == Decimal("10.00")
    assert flow.describe(ctx, sid)["total"] == "10.00"
    assert flow.repost(ctx, sid).outcome == "already_posted"       # a later repost keeps the chosen version


def test_a_released_settlement_is_replaced_once_a_person_says_they_reversed_it(ctx, tmp_path, monkeypatch):
    from integration.cli import main
    from integration.config import settings

    sid = "9720000004"
    first = flow.import_file(ctx, version(tmp_path, sid, "v1.tsv", "10.00"), "R1", report_created=EARLIER)
    [released] = [b["bat_nbr"] for b in first.post["batches"]]
    sandbox.update_rows(ctx.sl.db, "Batch", {"Status": "P", "Rlsed": 1}, {"Module": "GL", "BatNbr": released})
    reissue = flow.import_file(ctx, version(tmp_path, sid, "v2.tsv", "12.00"), "R2", report_created=LATER)
    assert (reissue.outcome, reissue.reason) == ("held", "settlement_released")
    assert flow.repost(ctx, sid).reason == "settlement_released"   # posting again alone changes nothing
    assert payout(ctx, sid) == Decimal("10.00")

    # the person reversed the released batch in SL, then says so
    monkeypatch.setenv("SETTLEMENTS_DIR", str(tmp_path / "kept"))
    settings.cache_clear()
    out = CliRunner().invoke(main, ["settlements", "post", sid, "--replace-released", "--json"])
    assert out.exit_code == 0, out.output
    states = batch_states(ctx, sid)
    assert states.pop(released) == ("SUPERSEDED", "P")                # left as SL holds it, no longer the settlement's
    [(new_state, _)] = states.values()
    assert new_state == "ACTIVE"
    assert payout(ctx, sid) == Decimal("12.00")
    assert open_holds(ctx, sid) == []                                 # the settlement_released hold is resolved
    [decision] = [flow._detail(e) for e in ctx.sl.events_for("settlement", sid) if e.action == "replace_released"]
    assert decision["batches"] == [released]
    assert flow.repost(ctx, sid).outcome == "already_posted"
