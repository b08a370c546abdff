"""Hostile notifications: an order id that would walk getOrder's path is held and nothing is called; a body nested
deep enough to break a parser is refused (HTTP 400, an SQS hold), never answered "retry"."""

from __future__ import annotations

import json

import pytest
import requests

from integration.intake.receiver import Receiver, serve_in_thread
from integration.intake.sqs import Poller
from tests.intake.conftest import API_KEY, event_bridge, new_queue, order_change, sku_known, wait_until
from tests.orders.conftest import worker  # noqa: F401  (a real Celery worker against this test's SL and simulator)

AT = "2026-01-01T00:00:00Z"
# What a reviewer sent through the receiver with a valid key (issue 11): the first made a worker call
# getMarketplaceParticipations with the seller's token, the second added a query string to getOrder.
REVIEWER_IDS = ["../../../sellers/v1/marketplaceParticipations", "123-1234567-1234567?includedData=BUYER#"]
DEEP_LISTS = "[" * 100_000 + "]" * 100_000


def _post(url: str, body) -> requests.Response:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return requests.post(url, data=data, headers={"x-api-key": API_KEY, "Content-Type": "application/json"},
                         timeout=30)


def test_the_reviewers_order_ids_are_held_and_no_request_reaches_amazon(receiver, worker, sim, ctx):  # noqa: F811
    good = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    for n, bad in enumerate(REVIEWER_IDS):
        resp = _post(receiver.url, event_bridge(order_change(bad, AT, nid=f"hostile-{n}")))
        assert resp.status_code == 200 and resp.json()["status"] == "held"   # accepted as poison, not retried
    assert _post(receiver.url, event_bridge(order_change(good["orderId"], AT, nid="good")))\
        .json()["status"] == "accepted"
    wait_until(lambda: ctx.sl.get_order_binding(good["orderId"]), timeout=90, what="the good order imported")

    operations = sim.requests()["operations"]
    assert "getMarketplaceParticipations" not in operations
    assert operations["getOrder"]["count"] == 1   # the good order's; none for the hostile ids
    holds = {h.key: h for h in ctx.sl.list_holds(reason="invalid_id")}
    assert sorted(holds) == ["hostile-0", "hostile-1"]
    assert "is not an Amazon order id" in holds["hostile-0"].message
    assert holds["hostile-1"].payload["raw"].count("includedData=BUYER#") == 1   # the body is kept as it came


@pytest.fixture
def http(intake_env, recorder, r):
    """The receiver with its default body limit (256 KiB), in this process."""
    server = serve_in_thread("127.0.0.1", 0, app=Receiver(api_key=API_KEY, enqueue=recorder))
    yield f"http://127.0.0.1:{server.effective_port}/notifications"
    server.close()


def _nested(depth: int) -> dict:
    doc: dict = {}
    for _ in range(depth):
        doc = {"a": doc}
    return doc


@pytest.mark.parametrize("body", [DEEP_LISTS, "{\"a\":" * 40_000 + "1" + "}" * 40_000,
                                  {**order_change("111-0000000-0000031", AT), "Extra": _nested(40)},
                                  {**order_change("111-0000000-0000032", AT), "Extra": _nested(900)}],
                         ids=["100k-lists", "40k-objects", "40-deep-inside-a-notification", "900-deep"])
def test_deeply_nested_json_is_refused_with_400_not_retried(http, recorder, r, ctx, body):
    resp = _post(http, body)
    assert resp.status_code == 400 and "nested deeper" in resp.json()["error"]
    assert recorder.sent == [] and ctx.sl.list_holds() == []
    assert not r.keys("slsync:dedup:notification:*")


def test_a_ten_megabyte_body_is_refused_with_413(http, recorder):
    assert _post(http, b"[" * (10 * 1024 * 1024)).status_code == 413
    assert recorder.sent == []


def _poller(sqs, url, recorder, ctx):
    def ingest_fn(raw, *, source, enqueue):
        from integration.ingest import ingest

        return ingest(raw, source=source, enqueue=enqueue, r=ctx.redis, sl=ctx.sl)

    return Poller(sqs, url, enqueue=recorder, wait_seconds=1, ingest_fn=ingest_fn, sl=ctx.sl)


def test_over_sqs_deep_json_and_hostile_ids_become_holds_and_leave_the_queue(sqs, ctx, recorder):
    url = new_queue(sqs)
    deep = "[" * 100_000 + "]" * 100_000
    sqs.send_message(QueueUrl=url, MessageBody=deep)
    for n, bad in enumerate(REVIEWER_IDS):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order_change(bad, AT, nid=f"sqs-hostile-{n}")))
    poller = _poller(sqs, url, recorder, ctx)
    for _ in range(5):
        poller.poll_once()
        if poller.counts["malformed"] + poller.counts["accepted"] == 3:
            break
    assert poller.counts["malformed"] == 1 and poller.counts["accepted"] == 2 and poller.counts["failed"] == 0
    [malformed] = ctx.sl.list_holds(reason="malformed_notification")
    assert "nested deeper" in malformed.message and malformed.payload["raw"] == deep
    assert sorted(h.key for h in ctx.sl.list_holds(reason="invalid_id")) == ["sqs-hostile-0", "sqs-hostile-1"]
    assert recorder.sent == []
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                  "ApproximateNumberOfMessagesNotVisible"])
    assert sum(int(v) for v in left["Attributes"].values()) == 0
