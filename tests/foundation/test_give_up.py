"""Nothing is dropped without a record: lost workers are counted apart from retries, a bug is retried, and every
final stop holds the entity in SL (or waits in Redis while SL is unreachable)."""

from __future__ import annotations

import pytest

from integration.sl import open_gateway
from tests.sl.conftest import pg_database, pg_template, sqlite_dsn  # noqa: F401  (the shared SL databases)
from tests.support.worker import start_worker, wait_until

WORKER_ENV = {"RETRY_BACKOFF_BASE": "0.05", "RETRY_BACKOFF_MAX": "1", "TASK_MAX_RETRIES": "3",
              "WORKER_LOST_MAX": "3", "ALERT_NOTIFIER": "tests.support.alerts:record",
              "ENTITY_LEASE_SECONDS": "3"}   # a killed holder's lease is free again soon


@pytest.fixture
def sl(sqlite_dsn):  # noqa: F811
    gw = open_gateway(sqlite_dsn, "AMZDEMO")
    yield gw
    gw.close()


@pytest.fixture
def worker(r, sqlite_dsn):  # noqa: F811
    proc = start_worker({**WORKER_ENV, "SL_DSN": sqlite_dsn}, concurrency=1, name="giveup")
    yield proc
    proc.stop()


def _attempts(r, tag: str) -> list[int]:
    return [int(x) for x in r.lrange(f"slsync:test:{tag}:attempts", 0, -1)]


def test_a_task_retried_three_times_then_killed_still_completes(r, worker):
    from tests.support.app import app

    app.send_task("slsync.test.retried_then_killed", args=["k1", 3, 1], queue="default")
    wait_until(lambda: r.get("slsync:test:k1:result"), timeout=60, what="the task completing")
    # runs 0, 1, 2 transient; retry 3 started and its child was killed; the same delivery came back, found the dead
    # holder's lease until it expired, and completed
    assert _attempts(r, "k1")[:4] == [0, 1, 2, 3] and len(_attempts(r, "k1")) == 5
    assert "Worker exited prematurely: signal 9 (SIGKILL)" in worker.output()


def test_a_task_that_kills_its_worker_every_time_ends_as_a_hold_not_a_loop(r, worker, sl):
    from tests.support.app import app

    app.send_task("slsync.test.retried_then_killed", args=["k2", 0, 99], queue="default")
    hold = wait_until(lambda: sl.list_holds(reason="worker_lost"), timeout=90, what="a worker_lost hold")[0]
    assert (hold.entity, hold.key) == ("test", "k2")
    assert hold.payload["task"] == "slsync.test.retried_then_killed" and hold.payload["args"] == ["k2", 0, 99]
    assert len(_attempts(r, "k2")) == 3       # WORKER_LOST_MAX runs lost, then no more
    assert r.get("slsync:test:k2:result") is None


def test_a_bug_is_retried_like_a_transient_failure_and_completes(r, worker):
    from tests.support.app import app

    app.send_task("slsync.test.raise_bug", args=["b1", 2], queue="default")
    wait_until(lambda: r.get("slsync:test:b1:result"), timeout=30, what="the task completing")
    assert _attempts(r, "b1") == [0, 1, 2]


def test_a_bug_that_persists_ends_as_a_hold_with_what_it_takes_to_rerun(r, worker, sl):
    from tests.support.app import app

    app.send_task("slsync.test.raise_bug", args=["b2", 99], queue="default")
    hold = wait_until(lambda: sl.list_holds(reason="unexpected_error"), timeout=30, what="a hold")[0]
    assert hold.key == "b2" and "KeyError" in hold.message
    assert hold.payload["queue"] == "default" and hold.payload["args"] == ["b2", 99]
    assert _attempts(r, "b2") == [0, 1, 2, 3]


def test_a_failure_while_sl_is_unreachable_waits_in_redis_and_lands_when_sl_returns(r, sl, pg_database):  # noqa: F811
    """The SL database gone (a PostgreSQL database that is not there): the record is kept in Redis, never lost;
    once SL answers, it becomes the hold."""
    from integration.sync import failures
    from integration.sync.context import Context

    down = open_gateway(pg_database[0].replace(pg_database[1], pg_database[1] + "_gone"), "AMZDEMO")
    ctx = Context(settings=None, redis=r, amazon=None, sl=down, mapping=None, task_id="t-1")
    assert failures.give_up(ctx, entity="order", key="111-0000001-0000001", kind="transient", message="timeout",
                            task="slsync.orders.import", args=["111-0000001-0000001"], queue="sl",
                            error={"kind": "transient"}) is None
    assert failures.pending(ctx) == 1
    assert failures.flush_pending(ctx) == 0 and failures.pending(ctx) == 1     # still down: kept
    down.close()
    back = Context(settings=None, redis=r, amazon=None, sl=sl, mapping=None, task_id="t-2")
    assert failures.flush_pending(back) == 1 and failures.pending(back) == 0
    hold = sl.list_holds(entity="order")[0]
    assert (hold.key, hold.reason, hold.payload["task"]) == ("111-0000001-0000001", "retries_exhausted",
                                                              "slsync.orders.import")
