"""The SQS poller against two independent SQS implementations on 127.0.0.1: the simulator's own queue service
(what ``make demo`` uses) and moto's server: delete only after accept, shown again after the visibility timeout when
processing failed, poison set aside with its body, a queue's RedrivePolicy, receipt handles per receive."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from integration.intake.sqs import Poller
from tests.intake.conftest import new_queue, order_change


@pytest.fixture(scope="module")
def sandbox_sqs():
    """The simulator's SQS service alone (integration/sandbox/amazon/sqs.py), on a free loopback port."""
    from integration.sandbox.amazon.sqs import SqsService

    service = SqsService().start()
    yield service.url
    service.close()


@pytest.fixture(params=["simulator", "moto"])
def sqs(request, monkeypatch):
    """A boto3 client for one of the two implementations; every test here runs against both."""
    import boto3

    endpoint = request.getfixturevalue("sandbox_sqs" if request.param == "simulator" else "sqs_endpoint")
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "SQS_ENDPOINT_URL": endpoint,
                 "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(k, v)
    return boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)


def _poller(sqs, url, recorder, ctx, **kw):
    def ingest_fn(raw, *, source, enqueue):
        from integration.ingest import ingest

        return ingest(raw, source=source, enqueue=enqueue, r=ctx.redis, sl=ctx.sl)

    return Poller(sqs, url, enqueue=recorder, wait_seconds=1, ingest_fn=kw.pop("ingest_fn", ingest_fn), sl=ctx.sl,
                  **kw)


def _left(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attrs["Attributes"].values())


def test_accepted_messages_are_deleted_and_enqueued_once(sqs, ctx, recorder):
    url = new_queue(sqs)
    note = order_change("111-0000000-0000020", "2026-01-01T00:00:00Z", nid="n-20")
    for _ in range(3):                                     # at-least-once: the same notification three times
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(note))
    poller = _poller(sqs, url, recorder, ctx)
    while poller.poll_once():
        pass
    assert poller.counts["accepted"] == 3 and _left(sqs, url) == 0
    assert recorder.sent == [("slsync.orders.import", ("111-0000000-0000020",), "sl")]


def test_a_message_whose_ingest_fails_stays_in_the_queue_until_it_is_accepted(sqs, ctx, recorder):
    url = new_queue(sqs, visibility=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order_change("111-0000000-0000021", "2026-01-01T00:00:00Z")))
    recorder.fail = True
    poller = _poller(sqs, url, recorder, ctx)
    poller.poll_once()
    assert poller.counts["failed"] == 1 and _left(sqs, url) == 1
    recorder.fail = False
    import time

    deadline = time.monotonic() + 10                        # shown again after the visibility timeout (1 s)
    while not poller.counts["accepted"] and time.monotonic() < deadline:
        poller.poll_once()
    assert poller.counts["accepted"] == 1 and _left(sqs, url) == 0 and len(recorder.sent) == 1


def _always_failing(raw, *, source, enqueue):
    raise RuntimeError("SL is down")


def _poison_rounds(poller, sqs, url):
    import time

    deadline = time.monotonic() + 30
    while not poller.counts["poison"] and time.monotonic() < deadline:
        poller.poll_once()


def test_a_poison_message_goes_to_the_dead_letter_queue_with_its_body_after_n_tries(sqs, ctx, recorder):
    url, dlq = new_queue(sqs, visibility=1), new_queue(sqs)
    body = json.dumps(order_change("111-0000000-0000022", "2026-01-01T00:00:00Z"))
    sqs.send_message(QueueUrl=url, MessageBody=body)
    poller = _poller(sqs, url, recorder, ctx, ingest_fn=_always_failing, max_receives=2, dead_letter_url=dlq)
    _poison_rounds(poller, sqs, url)
    assert poller.counts == {"accepted": 0, "failed": 2, "poison": 1, "malformed": 0}
    assert _left(sqs, url) == 0
    [moved] = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
    assert moved["Body"] == body


def test_without_a_dead_letter_queue_a_poison_message_becomes_a_hold(sqs, ctx, recorder):
    url = new_queue(sqs, visibility=1)
    body = json.dumps(order_change("111-0000000-0000023", "2026-01-01T00:00:00Z"))
    sqs.send_message(QueueUrl=url, MessageBody=body)
    poller = _poller(sqs, url, recorder, ctx, ingest_fn=_always_failing, max_receives=2)
    _poison_rounds(poller, sqs, url)
    [hold] = ctx.sl.list_holds(reason="poison_message")
    payload = hold.payload if isinstance(hold.payload, dict) else json.loads(hold.payload)
    assert payload["raw"] == body and _left(sqs, url) == 0


def test_a_body_that_is_not_json_is_kept_as_a_hold_and_deleted(sqs, ctx, recorder):
    url = new_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="<xml>not json</xml>")
    poller = _poller(sqs, url, recorder, ctx)
    poller.poll_once()
    [hold] = ctx.sl.list_holds(reason="malformed_notification")
    payload = hold.payload if isinstance(hold.payload, dict) else json.loads(hold.payload)
    assert payload["raw"] == "<xml>not json</xml>" and _left(sqs, url) == 0 and recorder.sent == []


def test_the_cli_polls_once(sqs, intake_env):
    import subprocess
    import sys

    from tests.support.worker import ROOT, child_env

    url = new_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order_change("111-0000000-0000024", "2026-01-01T00:00:00Z")))
    import os

    env = {**intake_env, **{k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                       "SQS_ENDPOINT_URL")}}
    proc = subprocess.run([sys.executable, "-m", "integration.cli", "intake", "sqs", "--queue-url", url,
                           "--wait-seconds", "1", "--once"], cwd=ROOT, env=child_env(env), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "'accepted': 1" in proc.stdout and _left(sqs, url) == 0


def _arn(sqs, url) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_a_message_whose_processing_fails_is_shown_again_and_processed_once(sqs, ctx, recorder):
    """SL unavailable for the first try: the message is not deleted, comes back after the visibility timeout with
    a higher receive count, and its order is enqueued once."""
    url = new_queue(sqs, visibility=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order_change("111-0000000-0000031",
                                                                       "2026-01-01T00:00:00Z")))
    tries = []

    def flaky_ingest(raw, *, source, enqueue):
        from integration.ingest import ingest

        tries.append(raw)
        if len(tries) == 1:
            raise ConnectionError("SL unavailable")
        return ingest(raw, source=source, enqueue=enqueue, r=ctx.redis, sl=ctx.sl)

    poller = _poller(sqs, url, recorder, ctx, ingest_fn=flaky_ingest)
    deadline = time.monotonic() + 15
    while not poller.counts["accepted"] and time.monotonic() < deadline:
        poller.poll_once()
    assert poller.counts == {"accepted": 1, "failed": 1, "poison": 0, "malformed": 0}
    assert tries[0] == tries[1] and _left(sqs, url) == 0
    assert recorder.sent == [("slsync.orders.import", ("111-0000000-0000031",), "sl")]
    poller.poll_once()                                    # nothing comes back once deleted
    assert poller.counts["accepted"] == 1 and len(recorder.sent) == 1


def test_the_queues_redrive_policy_moves_a_message_to_the_dead_letter_queue(sqs):
    """SQS itself: a message received maxReceiveCount times and not deleted goes to the dead-letter queue."""
    dlq = new_queue(sqs)
    url = sqs.create_queue(QueueName=f"r-{os.urandom(4).hex()}", Attributes={
        "VisibilityTimeout": "1", "RedrivePolicy": json.dumps({"deadLetterTargetArn": _arn(sqs, dlq),
                                                               "maxReceiveCount": 2})})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    counts = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, AttributeNames=["ApproximateReceiveCount"])
        if not got.get("Messages") and len(counts) >= 2:
            break
        counts += [m["Attributes"]["ApproximateReceiveCount"] for m in got.get("Messages", [])]
    assert counts == ["1", "2"]
    [moved] = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2)["Messages"]
    assert moved["Body"] == "poison" and _left(sqs, url) == 0


def test_a_stale_receipt_handle_deletes_nothing_and_a_foreign_one_is_invalid(sqs, request):
    """Each receive hands out a new handle; deleting with the one from before a redelivery leaves the message, as the
    SQS Developer Guide says ("the request succeeds, but the message will not be deleted"). moto deletes it anyway,
    so that part is checked on the simulator only."""
    url = new_queue(sqs, visibility=1)
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [first] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    second = []
    while not second:                                     # shown again after the 1 s visibility timeout
        second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
    assert second[0]["MessageId"] == first["MessageId"]
    assert second[0]["ReceiptHandle"] != first["ReceiptHandle"]
    assert second[0]["MD5OfBody"] == "5d41402abc4b2a76b9719d911017c592"    # md5("hello")
    if request.node.callspec.params["sqs"] == "simulator":
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        assert _left(sqs, url) == 1
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second[0]["ReceiptHandle"])
    assert _left(sqs, url) == 0
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")


def test_long_polling_answers_when_a_message_arrives(sqs):
    url = new_queue(sqs)
    later = threading.Timer(0.5, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    later.start()
    try:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    finally:
        later.join()
    assert [m["Body"] for m in got] == ["late"]


def test_a_missing_queue_is_the_error_sqs_gives(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as err:
        sqs.get_queue_url(QueueName="no-such-queue-here")
    assert err.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_the_simulators_order_change_reaches_the_poller_through_its_queue(sim, ctx, recorder, monkeypatch):
    """End to end on the simulator: SQS destination on its queue, ORDER_CHANGE subscribed, an order placed ->
    the real Poller long-polls it, ingest enqueues the import, the message is deleted."""
    import boto3

    from integration.amazon import AmazonClient
    from integration.commands.amazon import _patiently
    from integration.config import settings

    for k, v in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_CONFIG_FILE": os.devnull,
                 "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(k, v)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=sim.sim.outbox.sqs.start().url)
    url = new_queue(sqs, visibility=5)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{   # what the seller
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::437568002678:root"}, "Resource": _arn(sqs, url),  # grants
        "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"]}]})})                                  # Amazon
    AmazonClient.from_settings(settings(), ctx.redis).notifications.ensure(
        "slsync", sqs_arn=_arn(sqs, url), types={"ORDER_CHANGE": "1.0"}, call=_patiently)
    order = sim.create_order([{"sku": "WIDGET-0002", "quantity": 1}])
    poller = _poller(sqs, url, recorder, ctx)
    deadline = time.monotonic() + 15
    while not poller.counts["accepted"] and time.monotonic() < deadline:
        poller.poll_once()
    assert ("slsync.orders.import", (order["orderId"],), "sl") in recorder.sent
    assert poller.counts["failed"] == 0 and _left(sqs, url) == 0
