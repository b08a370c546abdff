"""Tasks per second through our task base (dedup + lease + retry policy around a no-op) versus a bare
Celery no-op task: same broker, same run, 2 prefork worker processes, 5,000 tasks each (goal >= 0.6).

Method (as in reference celery-reliability.md §6.2): pre-enqueue N tasks, start the worker, and time from
the first to the last task completion, stamped by the tasks themselves. Each variant runs twice,
alternating, and the better run counts, to damp the noise of a shared 2-core machine.
"""

from __future__ import annotations

import statistics

from benchmarks.support import use_bench_redis, wait_for_count

N = 5000
ROUNDS = 2


def _one(app, r, task: str, counter: str) -> float:
    from tests.support.worker import start_worker

    with app.producer_or_acquire() as producer:
        for i in range(N):
            app.send_task(task, args=[counter, i], queue="default", producer=producer)
    worker = start_worker(concurrency=2, app="workers.app", name="bench")
    try:
        wait_for_count(r, f"slsync:bench:{counter}:count", N, timeout=300)
    finally:
        worker.stop()
    first = float(r.get(f"slsync:bench:{counter}:first"))
    last = float(r.get(f"slsync:bench:{counter}:last"))
    return N / (last - first)


def run() -> list[dict]:
    url = use_bench_redis()
    import redis

    from workers.app import app

    app.conf.broker_url = url
    r = redis.Redis.from_url(url, decode_responses=True)
    bare, guarded = [], []
    for k in range(ROUNDS):
        bare.append(_one(app, r, "slsync.system.noop_bare", f"bare{k}"))
        guarded.append(_one(app, r, "slsync.system.noop_guarded", f"guarded{k}"))
    b, g = max(bare), max(guarded)
    return [{
        "name": "foundation_task_base",
        "metric": "tasks/s guarded vs bare no-op",
        "value": round(g, 1),
        "baseline": round(b, 1),
        "ratio": round(g / b, 3),
        "goal": ">= 0.6",
        "runs": {"bare": [round(x, 1) for x in bare], "guarded": [round(x, 1) for x in guarded]},
        "median_ratio": round(statistics.median(guarded) / statistics.median(bare), 3),
        "tasks_per_run": N,
        "worker": "prefork -c 2, acks_late, prefetch 1",
    }]
