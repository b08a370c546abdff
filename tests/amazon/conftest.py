"""Fixtures: the simulator over real HTTP on loopback, and a client wired to it through the real Redis."""

from __future__ import annotations

import pytest
import requests

from integration.config import DEFAULT_MODELS_DIR, load_settings
from integration.sandbox.amazon.models import Models

SCALE = 60.0


@pytest.fixture
def models():
    """Amazon's official models, as shipped inside the package."""
    return Models(DEFAULT_MODELS_DIR)


def make_sim(**kw):
    from integration.sandbox.amazon import Simulator

    opts = {"seed": 1, "orders": 40, "time_scale": SCALE}
    opts.update(kw)
    return Simulator(**opts).start()


@pytest.fixture
def sim():
    s = make_sim()
    yield s
    s.stop()
    # every response the simulator sent during the test conformed to the official model of its operation
    assert s.violations == [], s.violations[:5]


def settings_for(sim, redis_url: str, **extra):
    env = {"SLSYNC_SANDBOX": "true", "REDIS_URL": redis_url, "SPAPI_ENDPOINT": sim.url,
           "LWA_TOKEN_URL": sim.url + "/auth/o2/token", "SPAPI_TIME_SCALE": str(sim.clock.scale),
           "SPAPI_HTTP_TIMEOUT": "2", "BREAKER_MIN_CALLS": "50"}
    env.update(extra)
    return load_settings(env=env)


@pytest.fixture
def client(sim, r, redis_url):
    from integration.amazon.client import AmazonClient

    return AmazonClient.from_settings(settings_for(sim, redis_url), r, session=requests.Session())


def granted_queue(sim, name: str, *, policy: str | None = "amazon") -> str:
    """A Standard queue in the simulator's SQS, as a seller makes it before createDestination: by default with the
    policy that lets Amazon write to it (``policy=None``: none; else that policy JSON). Returns its ARN."""
    from integration.sandbox.amazon.sqs import amazon_policy

    queue = sim.outbox.sqs.create(name)
    if policy is not None:
        queue.attributes["Policy"] = amazon_policy(queue.arn) if policy == "amazon" else policy
    return queue.arn


def sandbox(sim, path: str, payload: dict | None = None, method: str | None = None) -> dict:
    """Call a /_sandbox endpoint of the simulator."""
    verb = method or ("POST" if payload is not None else "GET")
    resp = requests.request(verb, sim.url + "/_sandbox/" + path, json=payload, timeout=10)
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def client_for_url(r, redis_url):
    """A client for a simulator at ``url`` running elsewhere (another process), time scale 1."""
    from types import SimpleNamespace

    from integration.amazon.client import AmazonClient

    def make(url: str):
        fake = SimpleNamespace(url=url, clock=SimpleNamespace(scale=1.0))
        return AmazonClient.from_settings(settings_for(fake, redis_url, SPAPI_HTTP_TIMEOUT="60"), r,
                                          session=requests.Session())

    return make


def patiently(fn, *args, tries: int = 20, **kwargs):
    """Call ``fn`` as a worker would over re-queues: a rate pause (our fleet bucket had no token, or Amazon answered
    429, which a busy host can provoke by delaying two granted requests into one burst) waits and retries."""
    import time

    from integration.errors import Transient
    from integration.sync.paging import is_rate_pause

    for attempt in range(tries):
        try:
            return fn(*args, **kwargs)
        except Transient as exc:
            if not is_rate_pause(exc) or attempt == tries - 1:
                raise
            time.sleep(min(max(exc.retry_after or 0.0, 0.1 * (attempt + 1)), 2.0))  # let the bucket refill


class NotificationSink:
    """A loopback HTTP endpoint that keeps every JSON body posted to it (what a notification target sees)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        got = self.got = []

        class Sink(BaseHTTPRequestHandler):
            def do_POST(self):
                import json

                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 5.0) -> list:
        import time

        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got


@pytest.fixture
def sink():
    s = NotificationSink()
    yield s
    s.server.shutdown()
