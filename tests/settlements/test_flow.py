"""Settlements from Amazon into SL: found by polling getReports, downloaded to a kept file, checked and posted.

Against the simulator over HTTP (its settlement reports, fault rules on getReports and on the document download)
and the seeded SL sandbox; the whole run on SQLite and PostgreSQL, and once through a real Celery worker."""

from __future__ import annotations

import dataclasses
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from integration.amazon.reports import SETTLEMENT
from integration.sandbox.amazon.state import iso
from integration.settlements import flow
from tests.orders.conftest import on_both_engines  # noqa: F401  (the end-to-end test runs on both engines)
from tests.support import alerts as recorded_alerts


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "settlements"


@pytest.fixture
def ctx(env, folder, monkeypatch):   # the order-to-cash context, keeping settlement files in the test's folder
    from integration.config import settings
    from integration.sync.context import build_context

    monkeypatch.setenv("SETTLEMENTS_DIR", str(folder))
    settings.cache_clear()
    c = build_context()
    yield c
    c.sl.close()


def _listed(sim) -> dict[str, dict]:
    """Settlement reports the simulator lists now, by report id."""
    state = sim.sim.state
    return {rid: r for rid, r in state.reports.items() if r["reportType"] == SETTLEMENT and r["_created"] <= state.now()}


def _settlement_id(sim, report: dict) -> str:
    doc = sim.sim.state.documents[report["reportDocumentId"]]
    content = gzip.decompress(doc["content"]) if doc["compression"] else doc["content"]
    return content.split(b"\n")[1].split(b"\t")[0].decode()


def _ops(sim) -> dict:
    return sim.requests()["operations"]


sqlite_only = pytest.mark.parametrize("sl_dsn", ["sqlite"], indirect=True)   # SL's side is the same as above


def test_each_settlement_report_is_found_once_downloaded_kept_and_posted_balanced(ctx, sim, folder, r, sl_dsn):
    sim.advance(3600)                                             # the third period closes
    listed = _listed(sim)
    assert len(listed) == 3
    assert sum(sim.sim.state.documents[r["reportDocumentId"]]["compression"] == "GZIP" for r in listed.values()) == 1
    first = flow.poll(ctx)
    assert first.done and sorted(first.report_ids) == sorted(listed)
    # Amazon's report id is not the settlement id: the product never takes one for the other
    assert not {_settlement_id(sim, rep) for rep in listed.values()} & set(listed)
    for rid in first.report_ids:
        result = flow.import_report(ctx, rid)
        assert result.outcome == "posted", result
        assert result.settlement_id == _settlement_id(sim, listed[rid])
        assert Path(result.path).parent == folder and Path(result.path).exists()   # the file is kept
        post = result.post
        assert post["debit"] == post["credit"] and Decimal(post["debit"]) > 0      # the books balance
        assert Decimal(post["deposit"]["amount"]) == Decimal(post["total"])
    # nothing new: not again from SL's record, even with Redis's markers gone
    assert flow.poll(ctx).report_ids == []
    r.flushdb()
    assert flow.poll(ctx).report_ids == []
    again = flow.import_report(ctx, first.report_ids[0])
    assert again.outcome == "already_posted"
    known = flow.known(ctx)
    assert len(known) == 3 and {s["status"] for s in known} == {"POSTED"}
    assert all(s["batches"] and s["currency"] == "USD" for s in known)
    assert ctx.sl.get_cursor(flow.POLL_CURSOR)                     # the watermark moved


@sqlite_only
def test_the_listing_resumes_at_its_page_after_a_fault_and_hands_on_each_report_once(ctx, sim):
    state = sim.sim.state
    now = state.now()
    from datetime import timedelta

    for n in range(22):                                           # more reports than a few pages hold
        created = now - timedelta(days=3 * n + 2)
        rid = str(61000000000 + n)
        state.reports[rid] = {"reportId": rid, "reportType": SETTLEMENT, "marketplaceIds": ["ATVPDKIKX0DER"],
                              "dataStartTime": iso(created - timedelta(days=14)), "dataEndTime": iso(created),
                              "createdTime": iso(created), "processingStatus": "DONE",
                              "reportDocumentId": f"amzn1.spdoc.1.4.na.{rid}", "_created": created}
    listed = _listed(sim)
    handed: list[str] = []
    run = flow.poll(ctx, enqueue=handed.extend, max_pages=2, page_size=5)
    assert not run.done and 5 <= len(handed) < len(listed)
    sim.faults([{"op": "getReports", "kind": "503", "count": 1}])
    with pytest.raises(Exception, match="503"):
        flow.poll(ctx, enqueue=handed.extend, page_size=5)
    for _ in range(20):
        run = flow.poll(ctx, enqueue=handed.extend, page_size=5)
        if run.done:
            break
    assert run.done
    assert sorted(handed) == sorted(listed) and len(handed) == len(set(handed))   # each once, none skipped
    assert ctx.sl.get_progress(flow.POLL_PROGRESS) is None


@sqlite_only
def test_a_download_that_fails_once_is_retried_with_a_fresh_url(ctx, sim, r):
    rid = next(iter(_listed(sim)))
    sim.faults([{"op": "downloadDocument", "kind": "503", "count": 1}])
    with pytest.raises(Exception, match="attempt 1 of"):
        flow.import_report(ctx, rid, attempt=1)
    assert any(a["subject"].endswith("settlement_download_failed") for a in recorded_alerts.recorded(r))
    assert flow.import_report(ctx, rid, attempt=2).outcome == "posted"
    ops = _ops(sim)
    assert ops["getReportDocument"]["count"] == 2                # a new URL for the second attempt
    assert ops["downloadDocument"]["statuses"] == {"503": 1, "200": 1}


@sqlite_only
def test_an_expired_document_url_is_asked_for_again_at_once(ctx, sim):
    rid = next(iter(_listed(sim)))
    sim.faults([{"op": "downloadDocument", "kind": "url_expired", "count": 1}])
    assert flow.import_report(ctx, rid).outcome == "posted"
    ops = _ops(sim)
    assert ops["getReportDocument"]["count"] == 2
    assert ops["downloadDocument"]["statuses"] == {"403": 1, "200": 1}


def test_a_file_that_does_not_parse_is_alerted_retried_then_held_with_the_file_kept(ctx, sim, r):
    rid, report = next((rid, rep) for rid, rep in _listed(sim).items()
                       if not sim.sim.state.documents[rep["reportDocumentId"]]["compression"])
    sim.sim.state.documents[report["reportDocumentId"]]["content"] = b"<html>Service temporarily unavailable</html>\n"
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, settlement_attempts=2))
    rerun = {"task": flow.IMPORT_TASK, "args": [rid], "queue": flow.IMPORT_QUEUE}
    with pytest.raises(Exception, match="attempt 1 of 2"):
        flow.import_report(ctx, rid, attempt=1, rerun=rerun)
    assert any("unreadable_settlement" in a["subject"] for a in recorded_alerts.recorded(r))
    held = flow.import_report(ctx, rid, attempt=2, rerun=rerun)
    assert held.outcome == "held" and held.reason == "unreadable_settlement"
    hold = ctx.sl.get_hold(held.hold_id)
    assert hold.entity == "settlement_report" and hold.key == rid
    assert Path(hold.payload["path"]).read_bytes().startswith(b"<html>")   # the file Amazon sent is kept
    assert hold.payload["task"] == flow.IMPORT_TASK and hold.payload["args"] == [rid]   # holds release re-runs it
    assert _ops(sim)["getReportDocument"]["count"] == 2           # downloaded afresh for the second attempt
    assert rid not in flow.poll(ctx).report_ids                   # a held report is not handed on again


@sqlite_only
def test_beat_poll_fans_out_imports_that_a_worker_posts(env, sim, r, folder, sl_dsn):
    from integration.sync.context import build_context
    from tests.support.worker import start_worker, wait_until
    from workers.app import app

    proc = start_worker({**env, "SETTLEMENTS_DIR": str(folder)}, queues="default,amazon,sl", concurrency=2,
                        name="settle")
    try:
        app.send_task("slsync.settlements.poll", queue="amazon")
        ctx = build_context()
        try:
            wanted = len(_listed(sim))
            posted = wait_until(lambda: [s for s in flow.known(ctx) if s["status"] == "POSTED"]
                                if len([s for s in flow.known(ctx) if s["status"] == "POSTED"]) == wanted else None,
                                timeout=60, what="every settlement posted by the worker")
            assert {s["report_id"] for s in posted} == set(_listed(sim))
            for s in posted:
                batches = ctx.sl.settlement_batches(s["settlement_id"])
                assert batches and all(b["debit"] == b["credit"] for b in batches)
        finally:
            ctx.sl.close()
    finally:
        proc.stop()
    assert r.get("slsync:lastok:settlements.poll")                # the poll recorded its success


@sqlite_only
def test_a_broken_gzip_download_counts_as_a_failed_attempt_not_a_permanent_failure(ctx, sim):
    rid, report = next((rid, rep) for rid, rep in _listed(sim).items()
                       if sim.sim.state.documents[rep["reportDocumentId"]]["compression"])
    doc = sim.sim.state.documents[report["reportDocumentId"]]
    good, doc["content"] = doc["content"], doc["content"][:40]     # cut short in transfer
    with pytest.raises(Exception, match="attempt 1 of .*cut short"):
        flow.import_report(ctx, rid, attempt=1)
    doc["content"] = good
    assert flow.import_report(ctx, rid, attempt=2).outcome == "posted"
