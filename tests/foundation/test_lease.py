"""Leases on the real Redis: mutual exclusion across processes, fencing, and expiry detection."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest
import redis

from integration.guard import Lease, LeaseBusy, LeaseLost

KEYS = [f"k{i}" for i in range(5)]


def _contend(url: str, worker: int, rounds: int, out: mp.Queue) -> None:
    r = redis.Redis.from_url(url, decode_responses=True)
    violations, acquired, fences = 0, 0, {}
    i = 0
    while acquired < rounds:
        name = KEYS[(worker + i) % len(KEYS)]
        i += 1
        lease = Lease(r, "test", name, ttl=10)
        if not lease.acquire():
            continue
        acquired += 1
        holders = r.incr(f"slsync:test:holders:{name}")
        if holders != 1:
            violations += 1
        if lease.fence <= fences.get(name, 0):
            violations += 1
        fences[name] = lease.fence
        r.decr(f"slsync:test:holders:{name}")
        lease.release()
    out.put((violations, acquired))


def test_eight_processes_never_hold_one_key_twice(r, redis_url):
    out: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_contend, args=(redis_url, w, 500, out)) for w in range(8)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    assert sum(v for v, _ in results) == 0, "two holders of one key at once, or a fencing number went backwards"
    assert sum(a for _, a in results) == 8 * 500
    # every acquisition got its own fencing number
    assert sum(int(r.get(f"slsync:fence:test:{k}")) for k in KEYS) == 8 * 500


def test_an_expired_holder_cannot_renew_or_release_the_new_holders_lease(r):
    first = Lease(r, "order", "A1", ttl=0.2)
    assert first.acquire()
    time.sleep(0.35)
    second = Lease(r, "order", "A1", ttl=10)
    assert second.acquire(), "an expired lease must be free for the next holder"
    assert second.fence > first.fence
    with pytest.raises(LeaseLost):
        first.renew()
    with pytest.raises(LeaseLost):
        first.release()
    assert second.held(), "the old holder's release must not touch the new lease"
    second.release()
    assert r.get("slsync:lease:order:A1") is None


def test_context_manager_raises_busy_with_a_retry_hint_and_releases_on_exit(r):
    with Lease(r, "order", "B2", ttl=5) as held:
        assert held.held()
        with pytest.raises(LeaseBusy) as busy:
            with Lease(r, "order", "B2", ttl=5):
                pass
        assert 0 < busy.value.retry_after <= 5
    assert r.get("slsync:lease:order:B2") is None


def test_lease_lost_inside_the_block_is_reported_on_exit(r):
    with pytest.raises(LeaseLost):
        with Lease(r, "order", "C3", ttl=0.1):
            time.sleep(0.25)
            Lease(r, "order", "C3", ttl=5).acquire()


def test_keepalive_renews_a_lease_past_its_ttl(r):
    with Lease(r, "order", "D4", ttl=0.3, keepalive=True) as lease:
        time.sleep(0.8)
        assert lease.held()
    assert r.get("slsync:lease:order:D4") is None
