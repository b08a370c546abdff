"""Intake: notification -> sales order latency (p50, p99) at 20 notifications/s for 60 s with 2 worker processes,
and the HTTP receiver's own throughput (auth, schema check, dedup, coalesce, enqueue) in notifications/s.

Latency: the zero-latency simulator posts each new order's ORDER_CHANGE to a real receiver (`slsync intake serve`);
a worker pool (prefork -c 2) imports; the clock runs from the order's creation to its xAMZOrder binding in SL.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.support.worker import free_port

RATE, SECONDS, P99_GOAL = 20, 60, 2.0
THROUGHPUT_N = 3000


def _receiver(env: dict, port: int):
    import requests

    from tests.support.worker import Proc, child_env

    proc = Proc([sys.executable, "-m", "integration.cli", "intake", "serve", "--port", str(port)], child_env(env),
                "bench-receiver")
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(proc.output()[-2000:])


def _throughput(env: dict) -> float:
    import requests

    from tests.intake.conftest import order_change

    port = free_port()
    proc = _receiver(env, port)
    url = f"http://127.0.0.1:{port}/notifications"
    bodies = [json.dumps(order_change(f"900-0000000-{i % 300:07d}", "2026-01-01T00:00:00Z", nid=str(uuid.uuid4())))
              for i in range(THROUGHPUT_N)]
    local = threading.local()

    def send(body):
        local.s = getattr(local, "s", None) or requests.Session()
        assert local.s.post(url, data=body, headers={"x-api-key": env["INTAKE_API_KEY"]}, timeout=10).ok

    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send, bodies))
        return THROUGHPUT_N / (time.perf_counter() - start)
    finally:
        proc.stop()


def _latency(env: dict, sim, sku: str) -> list[float]:
    """Open loop: a new order every 1/RATE s; its ORDER_CHANGE goes simulator -> its SQS queue -> the SQS poller
    (``slsync intake sqs``) -> worker -> SL, the one way Amazon delivers ORDER_CHANGE [sp-api.md §6.1]."""
    import requests

    from integration.sl import SLGateway
    from tests.intake.conftest import subscribe_in_process
    from tests.support.worker import Proc, child_env, start_worker

    endpoint = sim.outbox.sqs.start().url
    from integration.sandbox.amazon.sqs import amazon_policy

    queue = sim.outbox.sqs.create("q")               # the queue subscribe_in_process's destination names,
    queue.attributes["Policy"] = amazon_policy(queue.arn)   # with the grant without which Amazon sends nothing
    poller_env = {**env, "SQS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                  "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    proc = Proc([sys.executable, "-m", "integration.cli", "intake", "sqs", "--queue-url",
                 f"{endpoint}/000000000000/q", "--wait-seconds", "1"], child_env(poller_env), "bench-sqs-poller")
    worker = start_worker(env, concurrency=2, app="workers.app", name="bench-intake")
    subscribe_in_process(type("S", (), {"sim": sim})())
    created: dict[str, float] = {}
    seen: dict[str, float] = {}
    sl = SLGateway.connect(env["SL_DSN"], "AMZDEMO")

    def poll() -> None:  # one query for every binding, stamped when first seen
        now = time.perf_counter()
        for b in sl.order_bindings():
            seen.setdefault(b.amazon_order_id, now)

    try:
        session, t0 = requests.Session(), time.perf_counter()
        for i in range(RATE * SECONDS):
            while time.perf_counter() - t0 < i / RATE:   # an open-loop 20/s, polling SL meanwhile
                poll()
                time.sleep(0.01)
            resp = session.post(f"{sim.url}/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}]}, timeout=10)
            created[resp.json()["orderId"]] = time.perf_counter()
        deadline = time.perf_counter() + 60
        while len(set(created) & set(seen)) < len(created) and time.perf_counter() < deadline:
            poll()
            time.sleep(0.01)
        return [seen[o] - created[o] if o in seen else float("inf") for o in created]
    finally:
        sl.close()
        worker.stop()
        proc.stop()


def run() -> list[dict]:
    from benchmarks.support import use_bench_redis

    url = use_bench_redis()
    from integration.sandbox import sl_seed
    from integration.sandbox.amazon import Simulator
    from integration.sandbox.amazon.catalog import catalog

    dsn = f"sqlite:///{tempfile.mkdtemp(prefix='bench-intake-')}/sl.db"
    sl_seed.seed(dsn)
    sim = Simulator(seed=11, orders=0, time_scale=60.0, rate_limits=False, validate=False).start()
    env = {**os.environ, "SLSYNC_SANDBOX": "true", "SPAPI_ENDPOINT": sim.url, "LWA_TOKEN_URL": f"{sim.url}/auth/o2/token",
           "SPAPI_TIME_SCALE": "60", "SL_DSN": dsn, "REDIS_URL": url, "BROKER_URL": url,
           "INTAKE_API_KEY": "bench-key", "SLSYNC_ENV_FILE": "/nonexistent/.env"}
    sku = next(i["sku"] for i in catalog(11) if i["fulfillment"] == "MFN" and i["sl_invtid"] and i["sku"] == i["sl_invtid"])
    try:
        throughput = _throughput(env)
        import redis

        redis.Redis.from_url(url).flushdb()
        lat = sorted(_latency(env, sim, sku))
    finally:
        sim.stop()
    p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return [
        {"name": "intake_latency", "metric": f"notification->SO latency p99 (s) at {RATE}/s, {SECONDS} s",
         "value": round(p99, 3), "baseline": None, "ratio": None, "goal": "", "p50": round(p50, 3),
         "p99": round(p99, 3), "p99_goal_s": P99_GOAL, "p99_goal_met": p99 < P99_GOAL, "orders": len(lat),
         "workers": "prefork -c 2", "simulator": "zero latency, no rate limits"},
        {"name": "intake_throughput", "metric": "HTTP receiver notifications/s (dedup+enqueue)",
         "value": round(throughput, 1), "baseline": None, "ratio": None, "goal": "", "notifications": THROUGHPUT_N,
         "client_threads": 8, "receiver": "waitress, 8 threads, one process"},
    ]
