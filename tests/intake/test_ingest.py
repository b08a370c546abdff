"""ingest(): unwrap, validate, dedup, coalesce, staleness and recording, in-process against real Redis and SL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integration.config import DEFAULT_MODELS_DIR
from integration.ingest import IngestResult, Malformed, import_started, ingest
from integration.intake import coalesce
from integration.intake.schemas import Schemas
from tests.intake.conftest import event_bridge, order_change

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notifications"
# Our own notification bodies (tests/fixtures/notifications), one per type the intake handles, with the features of
# real ones: PascalCase or camelCase keys by type, explicit nulls, empty lists, millisecond timestamps, short
# NotificationIds, a CANCELLED report that still names a document, FBA stock in two marketplaces, and the listings
# type name the official schema's enum disagrees with.
# fixture -> (status, type, what it routes to: the order id queued, or the (entity, key) recorded in SL)
SAMPLES = {
    "order_change.json": ("accepted", "ORDER_CHANGE", "702-3141592-6535897"),
    "report_processing_finished.json": ("recorded", "REPORT_PROCESSING_FINISHED", ("report", "60218830917")),
    "feed_processing_finished.json": ("recorded", "FEED_PROCESSING_FINISHED", ("feed", "71045529380")),
    "fba_inventory_availability_change.json": ("recorded", "FBA_INVENTORY_AVAILABILITY_CHANGES",
                                               ("fba", "TEAPOT-BLUE-1L")),
    "listings_item_status_change.json": ("recorded", "LISTINGS_ITEM_STATUS_CHANGE", ("listing", "TEAPOT-BLUE-1L")),
}


def _ingest(ctx, recorder, raw, source="test") -> IngestResult:
    return ingest(raw, source=source, enqueue=recorder, r=ctx.redis, sl=ctx.sl)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_amazon_notifications_are_routed_as_sqs_bodies_and_as_eventbridge_events(ctx, recorder, sample):
    raw = (FIXTURES / sample).read_text(encoding="utf-8")
    status, kind, route = SAMPLES[sample]
    first = _ingest(ctx, recorder, raw)
    assert (first.status, first.type) == (status, kind)
    again = _ingest(ctx, recorder, json.dumps(event_bridge(json.loads(raw))))
    assert again.status == "duplicate"                      # same NotificationId inside the envelope
    if kind == "ORDER_CHANGE":
        assert recorder.sent == [("slsync.orders.import", (route,), "sl")]
    else:
        assert recorder.sent == []
        assert [e.action for e in ctx.sl.events_for(*route)] == ["notification_received"]


def test_an_eventbridge_event_as_an_api_destination_posts_it_is_unwrapped(ctx, recorder):
    raw = (FIXTURES / "eventbridge_order_change.json").read_text(encoding="utf-8")
    first = _ingest(ctx, recorder, raw)
    assert (first.status, first.type) == ("accepted", "ORDER_CHANGE")
    assert recorder.sent == [("slsync.orders.import", ("114-2718281-8284590",), "sl")]
    bare = json.dumps(json.loads(raw)["detail"])            # the same notification as an SQS body
    assert _ingest(ctx, recorder, bare).status == "duplicate"


def test_the_shipped_official_schemas_are_used_by_default():
    schemas = Schemas()
    assert schemas.official and schemas.dir == DEFAULT_MODELS_DIR
    note = order_change("111-0000000-0000001", "2026-01-01T00:00:00Z")
    assert schemas.errors("ORDER_CHANGE", note) == []
    note["Payload"]["OrderChangeNotification"]["Summary"]["FulfillmentType"] = "DROPSHIP"
    assert any("FulfillmentType" in p for p in schemas.errors("ORDER_CHANGE", note))


def test_without_the_official_schemas_the_built_in_check_still_holds_what_cannot_be_routed(tmp_path):
    schemas = Schemas(tmp_path)
    assert not schemas.official
    assert schemas.errors("ORDER_CHANGE", order_change("111-0000000-0000001", "2026-01-01T00:00:00Z")) == []
    bad = order_change("111-0000000-0000001", "2026-01-01T00:00:00Z")
    del bad["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    assert schemas.errors("ORDER_CHANGE", bad)


def test_a_notification_failing_its_schema_becomes_a_hold_with_its_raw_body(ctx, recorder):
    note = order_change("111-0000000-0000002", "2026-01-01T00:00:00Z", nid="bad-1")
    note["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = 1234567  # a number: both checks refuse it
    raw = json.dumps(note, indent=1)
    result = _ingest(ctx, recorder, raw)
    assert result.status == "held" and recorder.sent == []
    hold = ctx.sl.get_hold(int(result.key))
    assert (hold.entity, hold.key, hold.reason) == ("notification", "bad-1", "schema_invalid")
    payload = hold.payload if isinstance(hold.payload, dict) else json.loads(hold.payload)
    assert payload["raw"] == raw and payload["errors"]
    assert _ingest(ctx, recorder, raw).status == "duplicate"          # redelivery: still one hold
    assert len(ctx.sl.list_holds(reason="schema_invalid")) == 1


def test_valid_json_that_is_no_notification_is_held_and_not_json_is_refused(ctx, recorder):
    assert _ingest(ctx, recorder, "[1, 2, 3]").status == "held"
    with pytest.raises(Malformed):
        _ingest(ctx, recorder, b"\xff{not json")
    assert recorder.sent == []


def test_later_events_for_a_queued_order_only_raise_the_bar(ctx, recorder):
    oid = "111-0000000-0000003"
    results = [_ingest(ctx, recorder, order_change(oid, f"2026-01-01T00:00:0{i}Z")) for i in range(5)]
    assert [r.status for r in results] == ["accepted"] + ["coalesced"] * 4
    assert len(recorder.sent) == 1
    assert coalesce.bar(ctx.redis, "order", oid) == 1767225604000      # the latest EventTime seen
    import_started(ctx.redis, oid)                                      # the import reads Amazon from now on
    assert _ingest(ctx, recorder, order_change(oid, "2026-01-01T00:00:09Z")).status == "accepted"
    assert len(recorder.sent) == 2


def test_an_enqueue_that_fails_accepts_nothing_so_the_retry_is_processed(ctx, recorder):
    oid, note = "111-0000000-0000004", order_change("111-0000000-0000004", "2026-01-01T00:00:00Z", nid="n-4")
    recorder.fail = True
    with pytest.raises(ConnectionError):
        _ingest(ctx, recorder, note)
    assert not ctx.redis.exists(f"slsync:coalesce:order:{oid}")         # no marker claims a missing import
    recorder.fail = False
    assert _ingest(ctx, recorder, note).status == "accepted"
    assert recorder.sent == [("slsync.orders.import", (oid,), "sl")]


def test_an_intake_that_died_between_claim_and_enqueue_blocks_nothing(ctx, recorder):
    oid = "111-0000000-0000005"
    coalesce.claim(ctx.redis, "order", oid, 0)                          # claimed, then the process died
    assert _ingest(ctx, recorder, order_change(oid, "2026-01-01T00:00:00Z")).status == "accepted"
    assert len(recorder.sent) == 1


def test_an_event_older_than_what_sl_applied_is_recorded_and_skipped(sim, ctx, recorder):
    from integration.sync import orders
    from tests.intake.conftest import sku_known

    order = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    assert orders.import_order(order["orderId"], ctx).value == "created"
    applied = ctx.sl.get_order_binding(order["orderId"]).last_updated
    old = order_change(order["orderId"], "2020-01-01T00:00:00Z")
    assert _ingest(ctx, recorder, old).status == "stale"
    assert recorder.sent == []
    stale = [e for e in ctx.sl.events_for("order", order["orderId"]) if e.action == "stale_notification"]
    assert len(stale) == 1
    assert _ingest(ctx, recorder, order_change(order["orderId"], applied)).status == "accepted"


def test_a_sweep_cached_payload_is_dropped_so_the_import_reads_amazon_after_the_event(ctx, recorder):
    oid = "111-0000000-0000006"
    ctx.redis.set(f"slsync:payload:order:{oid}", "{}")
    _ingest(ctx, recorder, order_change(oid, "2026-01-01T00:00:00Z"))
    assert not ctx.redis.exists(f"slsync:payload:order:{oid}")


def test_each_notification_is_counted_by_intake_type_and_outcome(ctx, recorder):
    """What the demo reads to tell that orders came through SQS: a duplicate or a hold never counts as arrived."""
    from integration.guard import keys

    note = order_change("111-0000000-0000031", "2026-01-01T00:00:00Z", nid="n-count")
    _ingest(ctx, recorder, json.dumps(note), source="sqs")
    _ingest(ctx, recorder, json.dumps(note), source="sqs")                                    # delivered twice
    broken = order_change("111-0000000-0000032", "2026-01-01T00:00:00Z", nid="n-broken")
    del broken["Payload"]["OrderChangeNotification"]["SellerId"]
    _ingest(ctx, recorder, json.dumps(broken), source="sqs")                                  # schema: held
    with pytest.raises(Malformed):
        _ingest(ctx, recorder, b"{not json", source="http")
    listing = (FIXTURES / "listings_item_status_change.json").read_text(encoding="utf-8")
    _ingest(ctx, recorder, json.dumps(event_bridge(json.loads(listing))), source="http")
    counts = {k.decode() if isinstance(k, bytes) else k: int(v)
              for k, v in ctx.redis.hgetall(keys.intake_received()).items()}
    assert counts == {"sqs:ORDER_CHANGE:enqueued": 1, "sqs:ORDER_CHANGE:duplicate": 1, "sqs:ORDER_CHANGE:held": 1,
                      "http:unknown:malformed": 1, "http:LISTINGS_ITEM_STATUS_CHANGE:recorded": 1}
