"""`make demo`'s command, run small: orders flow into SL, shipments flow back, holds explain the rest."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.worker import ROOT, child_env


def test_the_sandbox_runs_end_to_end_and_leaves_a_report(tmp_path, redis_url, r):
    out = subprocess.run(
        [sys.executable, "-m", "integration.cli", "sandbox", "--orders", "30", "--days", "2", "--minutes", "0.5",
         "--dir", str(tmp_path)], cwd=ROOT, env=child_env({"REDIS_URL": redis_url, "BROKER_URL": redis_url}),
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    at_amazon = report["orders_at_amazon"]
    in_sl = report["sales_orders_in_sl"]
    assert sum(at_amazon.values()) >= 25
    # every order at Amazon is in SL, held for a person, or one the status table rightly leaves out (pending,
    # cancelled before SL knew it): none missing
    assert report["orders_unaccounted"] == [], report
    assert sum(in_sl.values()) + sum(report["holds_by_reason"].values()) >= 0.6 * sum(at_amazon.values())
    # every MFN order the warehouse shipped was confirmed at Amazon, and Amazon says so
    assert report["shipments_confirmed_at_amazon"] == report["sl_shippers"] > 0
    assert at_amazon.get("UNSHIPPED MFN", 0) <= sum(report["holds_by_reason"].values())
    # notifications came by the transport Amazon uses: ORDER_CHANGE through the real SQS poller, none through the
    # HTTP receiver, which got the EventBridge-only LISTINGS_ITEM_* events the demo's quantity changes caused
    # (counted per TYPE:outcome, so a duplicate or a hold does not pass for an order that came in)
    got = report["notifications_received"]
    by_sqs, by_http = got["sqs"], got["eventbridge_http"]
    assert by_sqs.get("ORDER_CHANGE:enqueued", 0) > 0, got
    assert sum(n for k, n in by_sqs.items() if k.startswith("ORDER_CHANGE:")) >= sum(at_amazon.values()) // 2, got
    assert not [k for k in by_http if k.startswith("ORDER_CHANGE:")], got
    assert by_http.get("LISTINGS_ITEM_MFN_QUANTITY_CHANGE:recorded", 0) >= 1, got
    assert by_http.get("LISTINGS_ITEM_STATUS_CHANGE:recorded", 0) >= 1, got   # one SKU went to zero
    assert {k.split(":")[0] for k in by_sqs} <= {"ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES",
                                                "REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED"}, got
    # no notification was refused: none held for its schema or id, none malformed, none set aside as poison,
    # and Amazon could write every SQS one into the queue (the demo granted it in the queue's policy)
    assert not [k for k in {**by_sqs, **by_http} if k.endswith((":held", ":malformed"))], got
    assert not {"schema_invalid", "invalid_id", "malformed_notification", "poison_message"} & set(
        report["holds_by_reason"]), report["holds_by_reason"]
    assert not [k for k in report["notifications_sent_by_amazon"]["undeliverable"] if k.startswith("sqs:")], report
    assert "notifications by SQS" in out.stdout
    assert "slsync holds list" in out.stdout
    assert (tmp_path / "sl.db").exists() and (tmp_path / "report.txt").exists()
    # the demo ends with `slsync db verify`: what the product wrote is what SL's own processes accept
    assert report["verify"] and all(rule["status"] == "OK" for rule in report["verify"]), report["verify"]
    assert not report["holds_by_reason"].get("total_mismatch"), report["holds_by_reason"]   # every total is Amazon's
    # the settlements flow: every settlement Amazon listed was posted to SL's GL, each batch balanced, reconciled
    settlements = report["settlements"]
    assert settlements and all(s["status"] == "POSTED" and s["balanced"] for s in settlements), settlements
    assert all(s["reconciled"] is True for s in settlements), settlements
    assert "settlements:" in out.stdout
