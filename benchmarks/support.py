"""Shared benchmark plumbing: a dedicated Redis database, real workers, timing from task stamps."""

from __future__ import annotations

import os
import time

BENCH_REDIS_URL = os.environ.get("SLSYNC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def use_bench_redis(db: int | None = None) -> str:
    """Point this process (and the workers it starts) at the benchmark database, and clean it.

    ``db`` picks another database on the same server, for a benchmark whose workers must not meet another
    benchmark's tasks when both run at once (each flushes its database).
    """
    url = BENCH_REDIS_URL if db is None else BENCH_REDIS_URL.rsplit("/", 1)[0] + f"/{db}"
    os.environ["REDIS_URL"] = url
    os.environ["BROKER_URL"] = url
    os.environ.setdefault("SLSYNC_ENV_FILE", "/nonexistent/.env")
    from integration.config import settings

    settings.cache_clear()
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


def wait_for_count(r, key: str, target: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = int(r.get(key) or 0)
        if n >= target:
            return n
        time.sleep(0.05)
    raise TimeoutError(f"{key} reached {r.get(key)} of {target} in {timeout}s")


def noop_rate(app, r, task: str, counter: str, n: int, timeout: float = 300) -> float:
    """Tasks/s of ``n`` pre-enqueued ``task`` runs through 2 prefork processes, timed first -> last completion
    by the tasks' own stamps (reference celery-reliability.md §6.2)."""
    from tests.support.worker import start_worker

    with app.producer_or_acquire() as producer:
        for i in range(n):
            app.send_task(task, args=[counter, i], queue="default", producer=producer)
    worker = start_worker(concurrency=2, app="workers.app", name="bench")
    try:
        wait_for_count(r, f"slsync:bench:{counter}:count", n, timeout=timeout)
    finally:
        worker.stop()
    first = float(r.get(f"slsync:bench:{counter}:first"))
    last = float(r.get(f"slsync:bench:{counter}:last"))
    return n / (last - first)


def tear_down(worker, sim, saved_env: dict) -> None:
    """Stop a benchmark's worker and simulator and give the process its environment (and settings) back."""
    if worker is not None:
        worker.stop()
    sim.stop()
    os.environ.clear()
    os.environ.update(saved_env)
    from integration.config import settings

    settings.cache_clear()
