"""The SQS poller against moto's server on 127.0.0.1: delete only after accept, poison set aside with its body."""

from __future__ import annotations

import json

from integration.intake.sqs import Poller
from tests.intake.conftest import new_queue, order_change


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
