"""Tasks per second through our task base (dedup + lease + retry policy around a no-op) versus a bare
Celery no-op task: same broker, same run, 2 prefork worker processes, 5,000 tasks each (goal >= 0.6).

Method (as in reference celery-reliability.md §6.2): pre-enqueue N tasks, start the worker, and time from
the first to the last task completion, stamped by the tasks themselves. Each variant runs twice,
alternating, and the better run counts, to damp the noise of a shared 2-core machine.
"""

from __future__ import annotations

import statistics

from benchmarks.support import noop_rate, use_bench_redis

N = 5000
ROUNDS = 2


def run() -> list[dict]:
    url = use_bench_redis()
    import redis

    from workers.app import app

    app.conf.broker_url = url
    r = redis.Redis.from_url(url, decode_responses=True)
    bare, guarded = [], []
    for k in range(ROUNDS):
        bare.append(noop_rate(app, r, "slsync.system.noop_bare", f"bare{k}", N))
        guarded.append(noop_rate(app, r, "slsync.system.noop_guarded", f"guarded{k}", N))
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
