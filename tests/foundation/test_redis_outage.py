"""Worker, beat and the notification receiver ride out Redis going away and coming back, and a flush, with no supervisor: they keep running and
the work flows again. Against a redis-server of the test's own (killed, restarted, flushed)."""

from __future__ import annotations

import time

import pytest

from tests.support.redis_server import OwnRedis
from tests.support.worker import start_beat, start_worker, wait_until


@pytest.fixture
def own():
    server = OwnRedis().start()
    yield server
    server.stop()


def _env(own) -> dict:
    return {"BROKER_URL": own.url(0), "REDIS_URL": own.url(1), "BEAT_HEARTBEAT_SECONDS": "1",
            "SLSYNC_TEST_REDIS_URL": own.url(1)}


def _heartbeat_moves(guard) -> str:
    first = wait_until(lambda: guard.get("slsync:heartbeat"), timeout=30, what="a heartbeat")
    return wait_until(lambda: (guard.get("slsync:heartbeat") or first) != first and guard.get("slsync:heartbeat"),
                      timeout=30, what="the next heartbeat")


def _noops(own, counter: str, n: int) -> None:
    from celery import Celery

    sender = Celery(broker=own.url(0))
    with sender.producer_or_acquire() as producer:
        for i in range(n):
            sender.send_task("slsync.system.noop_guarded", args=[counter, i], queue="default", producer=producer)


def test_worker_beat_and_receiver_keep_running_through_a_redis_outage_and_a_flush(own):
    import requests

    from tests.intake.conftest import ReceiverProc

    env = _env(own)
    worker = start_worker(env, concurrency=2, app="workers.app", name="outage")
    beat = start_beat(env, app="workers.app", name="outage-beat")
    receiver = ReceiverProc(env).start()
    health = receiver.url.replace("/notifications", "/health")
    try:
        guard = own.client(1)
        _heartbeat_moves(guard)                                  # beat sends, the worker runs it
        _noops(own, "before", 200)
        time.sleep(0.5)                                          # work in flight when Redis dies
        own.kill()
        time.sleep(8)
        assert requests.get(health, timeout=5).status_code == 503   # the receiver says so, and stays up
        own.start()                                              # empty: nothing kept on disk
        _heartbeat_moves(own.client(1))
        own.client(0).flushall()
        _heartbeat_moves(own.client(1))
        _noops(own, "after", 100)
        wait_until(lambda: int(own.client(1).get("slsync:bench:after:count") or 0) == 100, timeout=60,
                   what="work sent after the outage done")
        assert worker.popen.poll() is None, worker.output()[-3000:]
        assert beat.popen.poll() is None, beat.output()[-3000:]
        assert "leader lock taken again" in beat.output()
        wait_until(lambda: requests.get(health, timeout=5).status_code == 200, timeout=30, what="the receiver ready")
        assert receiver.proc.popen.poll() is None
    finally:
        receiver.stop()
        beat.stop()
        worker.stop()


def test_a_task_whose_redis_is_unreachable_for_20_seconds_is_retried_and_completes(redis_url, r):
    """The guard Redis (leases, dedup, fences) gone for 20 s while the broker stays: the task meets a Redis
    ConnectionError (outside the error taxonomy), is retried with backoff, and completes once Redis is back."""
    from tests.support.app import app

    guard = OwnRedis().start()
    env = {"BROKER_URL": redis_url, "REDIS_URL": guard.url(1), "RETRY_BACKOFF_BASE": "1", "RETRY_BACKOFF_MAX": "4",
           "TASK_MAX_RETRIES": "30"}
    worker = start_worker(env, concurrency=1, app="workers.app", name="guardless")
    try:
        guard.kill()
        app.send_task("slsync.system.noop_guarded", args=["guardless", 1], queue="default")
        wait_until(lambda: "ConnectionError" in worker.output(), timeout=30, what="the task meeting the outage")
        time.sleep(20)
        guard.start()
        wait_until(lambda: guard.client(1).get("slsync:bench:guardless:count") == "1", timeout=60,
                   what="the task completing after Redis came back")
        assert "unexpected ConnectionError" in worker.output() and worker.popen.poll() is None
    finally:
        worker.stop()
        guard.stop()
