"""1,000 ORDER_CHANGE notifications for 100 orders, each delivered 1-3 times, shuffled, through HTTP and SQS, with a
real worker: exactly 100 sales orders in their final states, and few import runs per order. And the receiver
SIGKILLed under load loses no accepted notification."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from integration.guard import keys
from tests.intake.conftest import (
    API_KEY,
    IMPORTS,
    ReceiverProc,
    event_bridge,
    new_queue,
    sku_known,
    wait_until,
)
from tests.intake.load import N_ORDERS, PER_ORDER, Scenario, unsettled
from tests.support.worker import start_worker


@pytest.fixture
def intake_worker(intake_env):
    proc = start_worker(intake_env, queues="default,amazon,sl", concurrency=2, app="tests.intake.app", name="intake")
    yield proc
    proc.stop()


def _post_until_accepted(session, url: str, body: str, deadline: float) -> int:
    """Deliver like EventBridge: retry until a 2xx (connection refused, reset or 5xx are retried)."""
    while True:
        try:
            resp = session.post(url, data=body, headers={"x-api-key": API_KEY, "Content-Type": "application/json"},
                                timeout=10)
            if resp.status_code < 300:
                return resp.status_code
            assert resp.status_code >= 500, resp.text
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("a notification was never accepted")
        time.sleep(0.05)


def _deliver_http(url: str, notes: list[dict], threads: int = 6) -> None:
    deadline = time.monotonic() + 240
    local = threading.local()

    def send(note):
        local.s = getattr(local, "s", None) or requests.Session()
        _post_until_accepted(local.s, url, json.dumps(event_bridge(note)), deadline)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, notes))


def _imported(ctx, scenario) -> None:
    wait_until(lambda: not unsettled(ctx, scenario.final()), timeout=150, interval=1.0)


def _assert_final(ctx, scenario, r) -> dict:
    final = scenario.final()
    assert len(final) == N_ORDERS and scenario.notifications == N_ORDERS * PER_ORDER   # the scenario, as built
    # every notification delivered is accepted by the product in the end (its dedup marker is set on acceptance;
    # over SQS the poller may still be working through late duplicates when the orders have settled)
    def missing() -> list[str]:
        return [nid for nid in scenario.sent_ids if not r.exists(keys.notification(nid))]
    wait_until(lambda: not missing(), timeout=120, interval=1.0, what="every notification accepted")
    assert len(scenario.sent_ids) > N_ORDERS
    try:
        wait_until(lambda: not unsettled(ctx, final), timeout=150, interval=1.0)
    except AssertionError:
        raise AssertionError(f"not in their final state: {unsettled(ctx, final)[:5]}") from None
    bindings = {oid: ctx.sl.get_order_binding(oid) for oid in final}
    assert len({b.ord_nbr for b in bindings.values()}) == N_ORDERS          # exactly 100 sales orders
    for oid, order in final.items():
        assert (bindings[oid].sl_status == "CANCELLED") == (order["status"] == "CANCELLED"), oid
    figures = {}
    for label, key in (("runs", IMPORTS), ("enqueued", IMPORTS + ":enqueued")):
        runs = {oid: int(n) for oid, n in r.hgetall(key).items()}
        assert set(runs) == set(final)
        figures[label] = {"max": max(runs.values()), "mean": round(sum(runs.values()) / len(runs), 2),
                          "total": sum(runs.values())}
    print(f"\nimport task per order (runs include rate-limit and lease retries): {figures}")
    assert figures["enqueued"]["max"] <= 6 and figures["enqueued"]["mean"] <= 3, figures
    return figures


def test_a_thousand_notifications_over_http_give_exactly_one_sales_order_per_order(sim, ctx, r, receiver,
                                                                                    intake_worker):
    scenario = Scenario(sim, sku_known(ctx))
    _deliver_http(receiver.url, scenario.first_wave())
    _imported(ctx, scenario)                    # orders reach SL before they ship (else: a status conflict hold)
    _deliver_http(receiver.url, scenario.second_wave())
    _assert_final(ctx, scenario, r)


@pytest.fixture
def sim_sqs(monkeypatch):
    """The simulator's SQS (integration/sandbox/amazon/sqs.py; tests/intake/test_sqs.py holds it to moto's
    behaviour, test by test). The load runs on it: moto answers each send in up to 2 s while a long poll waits,
    which made this test three minutes of waiting on moto rather than on the product."""
    import boto3

    from integration.sandbox.amazon.sqs import SqsService

    service = SqsService().start()
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "SQS_ENDPOINT_URL": service.url, "AWS_CONFIG_FILE": os.devnull,
                 "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(k, v)
    yield boto3.client("sqs", region_name="us-east-1", endpoint_url=service.url)
    service.close()


def test_a_thousand_notifications_through_sqs_give_exactly_one_sales_order_per_order(sim, ctx, r, sim_sqs,
                                                                                     intake_env, intake_worker):
    sqs = sim_sqs
    import sys

    from tests.support.worker import Proc, child_env

    url = new_queue(sqs, visibility=30)
    scenario = Scenario(sim, sku_known(ctx))

    def send(notes):
        for i in range(0, len(notes), 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": json.dumps(n)}
                                                          for k, n in enumerate(notes[i:i + 10])])

    env = {**intake_env, **{k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                       "SQS_ENDPOINT_URL")}}
    poller = Proc([sys.executable, "-m", "integration.cli", "intake", "sqs", "--queue-url", url,
                   "--wait-seconds", "1"], child_env(env), "sqs-poller")
    try:
        send(scenario.first_wave())
        _imported(ctx, scenario)
        send(scenario.second_wave())
        _assert_final(ctx, scenario, r)
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        wait_until(lambda: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"][
            "ApproximateNumberOfMessages"]) == 0, timeout=60)
        assert left is not None
    finally:
        poller.stop()


def test_the_receiver_killed_and_restarted_under_load_loses_no_accepted_notification(sim, ctx, r, intake_env,
                                                                                      intake_worker):
    from tests.intake.conftest import order_change

    sku = sku_known(ctx)
    orders = [sim.create_order([{"sku": sku, "quantity": 1}]) for _ in range(40)]
    notes = [order_change(o["orderId"], o["lastUpdatedTime"]) for o in orders for _ in range(2)]
    rp = ReceiverProc(intake_env).start()
    accepted: list[str] = []
    errors: list[BaseException] = []

    def sender():
        session, deadline = requests.Session(), time.monotonic() + 120
        try:
            for note in notes:
                _post_until_accepted(session, rp.url, json.dumps(note), deadline)
                accepted.append(note["Payload"]["OrderChangeNotification"]["AmazonOrderId"])
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        wait_until(lambda: len(accepted) >= len(notes) // 3, timeout=60, interval=0.01)
        rp.kill()                                   # SIGKILL mid-stream
        killed_at = len(accepted)
        time.sleep(1.0)                             # the sender meets refused connections meanwhile
        rp.start()
        thread.join(timeout=150)
        assert not errors and len(accepted) == len(notes) and killed_at < len(notes)
        expected = {o["orderId"] for o in orders}
        wait_until(lambda: all(ctx.sl.get_order_binding(oid) is not None for oid in expected), timeout=120)
    finally:
        rp.stop()
