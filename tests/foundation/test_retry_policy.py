"""The shared retry policy, exercised through a real Celery worker on the real Redis."""

from __future__ import annotations

import re
import time

import pytest

from integration.config import load_settings
from tests.support import alerts
from tests.support.worker import start_worker, wait_until

WORKER_ENV = {
    "RETRY_BACKOFF_BASE": "0.1",
    "RETRY_BACKOFF_MAX": "1.0",
    "TASK_MAX_RETRIES": "4",
    "ALERT_NOTIFIER": "tests.support.alerts:record",
}


@pytest.fixture
def worker(r):
    proc = start_worker(WORKER_ENV, concurrency=1, name="policy")
    yield proc
    proc.stop()


def _attempts(r, tag: str) -> list[int]:
    return [int(x) for x in r.lrange(f"slsync:test:{tag}:attempts", 0, -1)]


def test_transient_is_retried_with_growing_backoff_then_recorded_and_alerted(r, worker):
    from tests.support.app import app

    app.send_task("slsync.test.raise_transient", args=["t1"], queue="default")
    wait_until(lambda: r.llen("slsync:failed:slsync.test.raise_transient") == 1)
    assert _attempts(r, "t1") == [0, 1, 2, 3, 4]  # the first run and four retries, then no more
    # each countdown lies under a ceiling that doubles per retry (full jitter), capped by the max
    countdowns = [float(c) for c in re.findall(r"retry \d+ in ([\d.]+)s", worker.output())]
    assert len(countdowns) == 4
    ceilings = [min(1.0, 0.1 * 2**n) for n in range(4)]
    assert all(c <= ceil + 1e-9 for c, ceil in zip(countdowns, ceilings, strict=True)), countdowns
    assert ceilings == sorted(ceilings) and ceilings[-1] > ceilings[0]
    sent = wait_until(lambda: alerts.recorded(r), what="the alert")   # it follows the failure record
    assert [a["subject"] for a in sent] == ["task failed: slsync.test.raise_transient"]
    assert sent[0]["kind"] == "transient" and sent[0]["retries"] == 4


def test_needs_review_is_not_retried_and_the_task_succeeds(r, worker):
    from tests.support.app import app

    app.send_task("slsync.test.raise_needs_review", args=["n1"], queue="default")
    wait_until(lambda: r.get("slsync:test:n1:result") == "succeeded")
    time.sleep(0.5)
    assert _attempts(r, "n1") == [0]
    assert alerts.recorded(r) == []


def test_permanent_fails_at_once_with_an_alert(r, worker):
    from tests.support.app import app

    app.send_task("slsync.test.raise_permanent", args=["p1"], queue="default")
    wait_until(lambda: r.llen("slsync:failed:slsync.test.raise_permanent") == 1)
    time.sleep(0.5)
    assert _attempts(r, "p1") == [0]
    assert [a["kind"] for a in alerts.recorded(r)] == ["permanent"]


def test_every_log_line_of_a_task_carries_its_id_and_name(r, worker):
    from tests.support.app import app

    result = app.send_task("slsync.test.raise_needs_review", args=["n2"], queue="default")
    wait_until(lambda: r.get("slsync:test:n2:result") == "succeeded")
    line = next(ln for ln in worker.output().splitlines() if "held for review" in ln and result.id in ln)
    assert "slsync.test.raise_needs_review" in line


def test_full_jitter_ceiling_grows_and_retry_after_is_honoured(fresh_settings, monkeypatch):
    from workers import policy

    monkeypatch.setenv("RETRY_BACKOFF_BASE", "1")
    monkeypatch.setenv("RETRY_BACKOFF_MAX", "60")
    fresh_settings.cache_clear()
    samples = {n: [policy.countdown_for(n, None) for _ in range(2000)] for n in range(5)}
    maxima = [max(samples[n]) for n in range(5)]
    means = [sum(samples[n]) / 2000 for n in range(5)]
    assert maxima == sorted(maxima) and means == sorted(means)
    assert all(0 <= c <= 2**n for n in range(5) for c in samples[n])
    assert min(policy.countdown_for(0, 7.5) for _ in range(200)) >= 7.5
    assert max(policy.countdown_for(30, None) for _ in range(200)) <= 60
    assert load_settings().retry_backoff_max == 60


def test_the_backoff_of_a_task_that_waits_for_days_stays_finite(monkeypatch):
    """A task waiting for refused credentials retries without limit: retry 1024 and beyond keep the cap (2**1024 as
    a float would overflow and lose the task without a record)."""
    from integration.config import settings
    from workers.policy import backoff_ceiling, countdown_for

    monkeypatch.setenv("RETRY_BACKOFF_MAX", "300")
    settings.cache_clear()
    try:
        assert backoff_ceiling(5000) == 300.0
        assert 0 <= countdown_for(5000, 12.0) <= 300.0
    finally:
        settings.cache_clear()


def test_a_busy_lease_is_tried_again_soon_and_never_later_than_its_expiry(monkeypatch):
    """Five deliveries of one order meet its lease: each waits 0.5 s, 1 s, 2 s ... (a holder usually finishes in a
    second), never past the lease's remaining TTL, instead of each waiting out the whole TTL."""
    from integration.config import settings
    from integration.guard.lease import LeaseBusy
    from workers.policy import countdown_for

    monkeypatch.setenv("ENTITY_LEASE_SECONDS", "30")
    settings.cache_clear()
    try:
        busy = LeaseBusy("order 1 is being worked on elsewhere", retry_after=29.0)
        first = [countdown_for(0, 29.0, exc=busy, waits=1) for _ in range(100)]
        assert all(0.5 < c <= 1.0 for c in first)
        fourth = [countdown_for(0, 29.0, exc=busy, waits=4) for _ in range(100)]
        assert all(4.0 < c <= 4.5 for c in fourth)
        assert all(3.0 < countdown_for(0, 3.0, exc=busy, waits=9) <= 3.5 for _ in range(100))   # the TTL caps it
        assert all(29.0 < countdown_for(0, 29.0, exc=busy, waits=500) <= 29.5 for _ in range(100))
    finally:
        settings.cache_clear()
