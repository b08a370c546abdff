"""The circuit breakers shared by every process through Redis: a failure rate over a window, one trial across
processes, successes counted without a round trip, an alert when one opens and a "resolved" when it closes."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest
import redis

from integration import alerts
from integration.errors import NeedsReview, Transient
from integration.guard import Breaker, CircuitOpen
from integration.guard.breaker import Breakers, all_states, family_of


def _breaker(r) -> Breaker:
    return Breaker(r, "amazon", min_calls=3, failure_rate=0.5, window=10, reset_timeout=0.5)


def _fail(b: Breaker) -> None:
    with pytest.raises(Transient):
        with b.guard():
            raise Transient("500 from upstream", details={"status": 500})


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
    b = Breaker(r, "sl", min_calls=3, window=1, reset_timeout=5)
    for _ in range(2):
        b.record_failure()
    time.sleep(1.1)
    b.record_failure()
    assert b.state() == "closed"


def test_a_ten_percent_failure_rate_never_opens_it(r):
    b = Breaker(r, "amazon.orders", min_calls=20, failure_rate=0.5, window=60, reset_timeout=30)
    for n in range(400):
        if n % 10 == 3:
            _fail(b)
        else:
            with b.guard():
                pass
    assert b.state() == "closed"
    assert b.snapshot()["failures"] == 40


def test_it_opens_on_the_rate_once_the_minimum_of_calls_is_reached(r):
    b = Breaker(r, "amazon.orders", min_calls=20, failure_rate=0.5, window=60, reset_timeout=30)
    for _ in range(19):
        _fail(b)
    assert b.state() == "closed", "19 calls are under the minimum, whatever their failure rate"
    _fail(b)
    assert b.state() == "open"
    b.reset()
    for _ in range(30):            # 30 successes, then failures: opens when failures reach half of all calls
        with b.guard():
            pass
    failures = 0
    while b.state() == "closed":
        _fail(b)
        failures += 1
    assert failures == 30


def test_successes_while_closed_cost_no_round_trip_and_reach_the_window_with_the_next_check(r):
    b = Breaker(r, "amazon.orders", min_calls=20, window=60, recheck=60)
    with b.guard():
        pass                       # the first call reads the state (closed), then it is kept for 60 s
    sent, real = [], r.execute_command

    def counted(*args, **kwargs):
        sent.append(args[0])
        return real(*args, **kwargs)

    r.execute_command = counted
    try:
        for _ in range(50):
            with b.guard():
                pass
        assert sent == []
        _fail(b)                   # a failure carries the 51 successes along in the same script call
        assert len(sent) == 1
    finally:
        del r.execute_command
    assert b.snapshot() == {"state": "closed", "calls": 52, "failures": 1}


def test_families_are_separate_breakers(r):
    breakers = Breakers(r, min_calls=3, window=10, reset_timeout=30)
    assert family_of("getOrder") == family_of("searchOrders") == "orders"
    assert family_of("confirmShipment") == "shipments" and family_of("getReportDocument") == "reports"
    assert family_of("createFeed") == "feeds" and family_of("getInventorySummaries") == "fba"
    for _ in range(3):
        _fail(breakers.for_op("getOrder"))
    assert breakers.for_op("searchOrders").state() == "open"
    with breakers.for_op("confirmShipment").guard():
        pass
    states = all_states(r)
    assert states["amazon"] == "open" and states["amazon.orders"] == "open"
    assert states["amazon.shipments"] == "closed" and states["sl"] == "closed" and states["amazon.lwa"] == "closed"


def test_opening_alerts_once_and_the_closing_trial_resolves_it(r):
    sent = []
    alerts.register(sent.append)
    try:
        b = _breaker(r)
        _trip(b)
        for _ in range(10):        # more failures (calls already under way) and rejected calls: no more alerts
            b.record_failure()
            with pytest.raises(CircuitOpen):
                b.before_call()
        assert [a["alert"] for a in sent] == ["firing"] and sent[0]["alert_key"] == "breaker:amazon"
        time.sleep(0.6)
        with b.guard() as probe:
            assert probe
        assert b.state() == "closed"
        assert [a["alert"] for a in sent] == ["firing", "resolved"]
        assert sent[1]["subject"] == "resolved: circuit open: amazon"
    finally:
        alerts.unregister(sent.append)
