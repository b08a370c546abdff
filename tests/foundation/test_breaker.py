"""The circuit breaker shared by every process through Redis."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest
import redis

from integration.errors import NeedsReview, Transient
from integration.guard import Breaker, CircuitOpen


def _breaker(r) -> Breaker:
    return Breaker(r, "amazon", fail_max=3, window=10, reset_timeout=0.5)


def _trip(b: Breaker) -> None:
    for _ in range(3):
        with pytest.raises(Transient):
            with b.guard():
                raise Transient("503 from upstream", details={"status": 503})


def _try_trial(url: str, barrier, out: mp.Queue) -> None:
    r = redis.Redis.from_url(url, decode_responses=True)
    b = _breaker(r)
    barrier.wait()
    try:
        out.put("trial" if b.before_call() else "go")
    except CircuitOpen:
        out.put("rejected")


def test_opens_rejects_half_opens_with_one_trial_across_processes_and_closes(r, redis_url):
    b = _breaker(r)
    _trip(b)
    assert b.state() == "open"
    with pytest.raises(CircuitOpen) as rejected:
        with b.guard():
            pytest.fail("a call went through an open circuit")
    assert 0 < rejected.value.retry_after <= 0.5
    time.sleep(0.6)
    barrier, out = mp.Barrier(6), mp.Queue()
    procs = [mp.Process(target=_try_trial, args=(redis_url, barrier, out)) for _ in range(6)]
    for p in procs:
        p.start()
    verdicts = sorted(out.get(timeout=20) for _ in procs)
    for p in procs:
        p.join()
    assert verdicts == ["rejected"] * 5 + ["trial"], verdicts
    assert b.state() == "half_open"
    probe = r.get("slsync:breaker:amazon:probe")
    b.record_success(probe)
    assert b.state() == "closed"
    with b.guard():
        pass


def test_a_failed_trial_opens_the_circuit_again(r):
    b = _breaker(r)
    _trip(b)
    time.sleep(0.6)
    with pytest.raises(Transient):
        with b.guard() as probe:
            assert probe, "the first call after the cool-down is the trial"
            raise Transient("still down", details={"status": 500})
    assert b.state() == "open"
    with pytest.raises(CircuitOpen):
        b.before_call()


def test_throttling_and_business_errors_do_not_open_the_circuit(r):
    b = _breaker(r)
    for _ in range(5):
        with pytest.raises(Transient):
            with b.guard():
                raise Transient("429", details={"status": 429})
        with pytest.raises(NeedsReview):
            with b.guard():
                raise NeedsReview("unknown_sku", "no such SKU")
    assert b.state() == "closed"


def test_failures_outside_the_window_do_not_count(r):
    b = Breaker(r, "sl", fail_max=3, window=1, reset_timeout=5)
    for _ in range(2):
        b.record_failure()
    time.sleep(1.1)
    b.record_failure()
    assert b.state() == "closed"
