"""Order-to-cash fixtures: the SP-API simulator over HTTP, a seeded SL sandbox, an in-process context and
real Celery workers configured to use them."""

from __future__ import annotations

import os

import pytest
import requests

from tests.sl.conftest import pg_database, pg_template, sqlite_dsn  # noqa: F401  (the shared SL databases)
from tests.support.worker import start_worker, wait_until  # noqa: F401  (tests import it from here)

TIME_SCALE = 60.0


class Sim:
    """The simulator plus the few `/_sandbox` calls the tests use."""

    def __init__(self, sim):
        self.sim, self.url = sim, sim.url

    def create_order(self, lines, **spec) -> dict:
        resp = requests.post(f"{self.url}/_sandbox/orders", json={"lines": lines, **spec}, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def change(self, order_id: str, action: str, **spec) -> dict:
        resp = requests.post(f"{self.url}/_sandbox/orders/{order_id}/status", json={"action": action, **spec},
                             timeout=10)
        resp.raise_for_status()
        return resp.json()

    def orders(self) -> dict[str, dict]:
        return {o["orderId"]: o for o in requests.get(f"{self.url}/_sandbox/orders", timeout=10).json()["orders"]}

    def confirmations(self) -> list[dict]:
        return requests.get(f"{self.url}/_sandbox/shipment-confirmations", timeout=10).json()["confirmations"]

    def requests(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/requests", timeout=10).json()

    def advance(self, seconds: float) -> str:
        return requests.post(f"{self.url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=10).json()["now"]

    def faults(self, rules: list[dict]) -> None:
        requests.post(f"{self.url}/_sandbox/faults", json={"rules": rules}, timeout=10).raise_for_status()


@pytest.fixture
def sim():
    from integration.sandbox.amazon import Simulator

    s = Simulator(seed=11, orders=0, time_scale=TIME_SCALE).start()
    yield Sim(s)
    s.stop()


@pytest.fixture
def sl_dsn(sqlite_dsn):  # noqa: F811  (the fixture imported above)
    """The seeded SL sandbox the flow writes into (SQLite; test modules may override it, e.g. with ON_BOTH_ENGINES)."""
    return sqlite_dsn


@pytest.fixture(params=["sqlite", "postgresql"], name="sl_dsn")
def on_both_engines(request):
    """The flow's SL database on SQLite, then on PostgreSQL through psqlODBC. A module runs its tests on both with
    ``from tests.orders.conftest import on_both_engines  # noqa: F401``."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_dsn")
    return request.getfixturevalue("pg_database")[0]


@pytest.fixture
def env(sim, sl_dsn, redis_url, r):
    """The environment a worker (or the in-process context) runs with; Redis is clean."""
    yield from order_env(sim.url, sl_dsn, redis_url, TIME_SCALE)


def order_env(sim_url: str, sl_dsn: str, redis_url: str, time_scale: float):
    """Set (and afterwards restore) the environment of a flow against this simulator and SL database."""
    values = {
        "SLSYNC_SANDBOX": "true", "SPAPI_ENDPOINT": sim_url, "LWA_TOKEN_URL": f"{sim_url}/auth/o2/token",
        "SPAPI_TIME_SCALE": str(time_scale), "SL_DSN": sl_dsn, "REDIS_URL": redis_url, "BROKER_URL": redis_url,
        "RETRY_BACKOFF_BASE": "0.2", "RETRY_BACKOFF_MAX": "2", "ALERT_NOTIFIER": "tests.support.alerts:record",
    }
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    from integration.config import settings

    settings.cache_clear()
    yield values
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    settings.cache_clear()


@pytest.fixture
def ctx(env):
    from integration.sync.context import build_context

    c = build_context()
    yield c
    c.sl.close()


@pytest.fixture
def worker(env):
    proc = start_worker(env, queues="default,amazon,sl", concurrency=2, name="o2c")
    yield proc
    proc.stop()


def sku_known(ctx, fulfillment: str = "MFN", via_xref: bool = False) -> str:
    """A simulator SKU that SL knows (directly, or through an ItemXRef)."""
    from integration.sandbox.amazon.catalog import catalog

    for item in catalog(11):
        if item["fulfillment"] == fulfillment and item["sl_invtid"] and (item["sku"] != item["sl_invtid"]) == via_xref:
            return item["sku"]
    raise LookupError("no such SKU in the catalog")


def sku_unknown() -> str:
    from integration.sandbox.amazon.catalog import catalog

    return next(item["sku"] for item in catalog(11) if not item["sl_invtid"])

