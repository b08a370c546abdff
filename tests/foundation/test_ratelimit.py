"""The fleet rate limiter on the real Redis, driven by several processes."""

from __future__ import annotations

import multiprocessing as mp
import time

import redis

from integration.guard import RateLimiter

TABLE = {"testOp": (10.0, 5)}


def _drive(url: str, seconds: float, start_at: float, out: mp.Queue) -> None:
    r = redis.Redis.from_url(url, decode_responses=True)
    limiter = RateLimiter(r, "SELLER", table=TABLE)
    while time.time() < start_at:
        time.sleep(0.001)
    admitted, t0 = 0, time.time()
    while time.time() - start_at < seconds:
        wait = limiter.take("testOp")
        if wait == 0:
            admitted += 1
        else:
            time.sleep(min(wait, 0.02))
    out.put((admitted, t0, time.time()))


def test_four_processes_get_no_more_than_burst_plus_rate_times_time(r, redis_url):
    out: mp.Queue = mp.Queue()
    start_at = time.time() + 1.0
    procs = [mp.Process(target=_drive, args=(redis_url, 5.0, start_at, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join()
    admitted = sum(a for a, _, _ in results)
    elapsed = max(e for _, _, e in results) - min(s for _, s, _ in results)
    ceiling = 5 + 10 * elapsed
    assert admitted <= ceiling * 1.02, (admitted, ceiling)
    assert admitted >= (5 + 10 * 5.0) * 0.9, (admitted, ceiling)


def test_take_answers_wait_without_sleeping(r):
    limiter = RateLimiter(r, "SELLER", table={"slowOp": (0.5, 2)})
    assert limiter.take("slowOp") == 0
    assert limiter.take("slowOp") == 0
    started = time.perf_counter()
    wait = limiter.take("slowOp")
    assert time.perf_counter() - started < 0.1
    assert 1.5 < wait <= 2.0  # one token every 2 s


def test_rate_reported_by_amazon_replaces_the_published_one(r):
    limiter = RateLimiter(r, "SELLER", table={"op": (0.5, 1)})
    limiter.update_from_header("op", "20.0")
    assert limiter.limits("op") == (20.0, 1)
    assert limiter.take("op") == 0
    assert limiter.take("op") <= 0.06  # refills at 20/s now, not 0.5/s
    limiter.update_from_header("op", "not-a-number")
    assert limiter.limits("op") == (20.0, 1)


def test_drain_after_a_429_empties_the_bucket(r):
    limiter = RateLimiter(r, "SELLER", table={"op": (1.0, 10)})
    limiter.drain("op")
    assert limiter.take("op") > 0.5


def test_time_scale_compresses_the_refill(r):
    limiter = RateLimiter(r, "SELLER", time_scale=100, table={"op": (0.5, 1)})
    assert limiter.take("op") == 0
    assert limiter.take("op") <= 0.03  # 0.5/s x 100 = 50/s


def test_each_decision_is_one_round_trip(redis_url):
    class Counting(redis.Redis):
        calls = 0

        def execute_command(self, *args, **kwargs):
            Counting.calls += 1
            return super().execute_command(*args, **kwargs)

    limiter = RateLimiter(Counting.from_url(redis_url, decode_responses=True), "SELLER", table={"op": (100.0, 50)})
    limiter.update("op", 200.0)  # a learned rate, read by the script itself
    limiter.take("op")           # the first call may load the script
    Counting.calls = 0
    for _ in range(10):
        limiter.take("op")
    assert Counting.calls == 10
