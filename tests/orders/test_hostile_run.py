"""A hostile run: two sellers at once, one of them without the Direct-to-Consumer Delivery role, every wording in
which Amazon says an access token is no longer good, and 20% faults (500, 503, 429, latency, malformed) on every
orders operation. When the faults stop and the sweeps have run, every order is in SL once or held with a reason.

Each seller is a deployment of its own, as a seller's IT team would run two: its own simulator (Amazon, with its
SQS queue), SQLite SL database, Redis (the test's database for the first, a redis-server of the test's own for the
second), real Celery worker and real `slsync intake sqs` poller. Amazon's ORDER_CHANGE notifications (10% sent
twice, 10% out of order) arrive through the poller; the sweeps are sent as a scheduler would send them, by task
name, to each deployment's broker; and every few seconds each order is also queued again by id, as duplicate
deliveries and an operator's re-runs would, which keeps getOrder busy while the token refusals come round.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from celery import Celery

from integration.amazon import roles
from integration.sandbox import sl_seed
from integration.sandbox.amazon.faults import TOKEN_REFUSALS
from tests.orders.conftest import TIME_SCALE, Sim, sku_known, sku_unknown
from tests.support import alerts
from tests.support.redis_server import OwnRedis
from tests.support.worker import Proc, child_env, start_worker, wait_until

ROLE = roles.DIRECT_TO_CONSUMER_DELIVERY
# every wording of a refused token the orders operations can meet (their models declare no 401: the 401 variant
# is tested on the operations that declare it, in tests/amazon/test_auth.py)
REFUSALS = [kind for kind in TOKEN_REFUSALS if kind != "unauthorized_401"]
ORDER_OPS = ("searchOrders", "getOrder")
# 20% of orders calls fail, 4% of each kind; latency only slows a call down
FAULTS = [{"op": op, "kind": kind, "rate": 0.04} for op in ORDER_OPS for kind in ("500", "503", "429", "malformed")]
FAULTS += [{"op": op, "kind": "latency", "rate": 0.04, "latency_ms": [200, 800]} for op in ORDER_OPS]


class Deployment:
    """One seller's simulator, SL database, Redis and worker."""

    def __init__(self, name: str, sim, sl_dsn: str, redis_url: str):
        self.name, self.sim, self.sl_dsn, self.redis_url = name, Sim(sim), sl_dsn, redis_url
        self.env = {
            "SLSYNC_SANDBOX": "true", "SPAPI_ENDPOINT": sim.url, "LWA_TOKEN_URL": f"{sim.url}/auth/o2/token",
            "SPAPI_SELLER_ID": sim.state.seller_id, "SPAPI_TIME_SCALE": str(TIME_SCALE), "SL_DSN": sl_dsn,
            "REDIS_URL": redis_url, "BROKER_URL": redis_url, "RETRY_BACKOFF_BASE": "0.2", "RETRY_BACKOFF_MAX": "2",
            "ALERT_NOTIFIER": "tests.support.alerts:record",
        }
        self.app = Celery(f"hostile-{name}", broker=redis_url)
        self.worker = self.poller = None

    def start(self):
        import requests

        from integration.amazon import AmazonClient
        from integration.config import load_settings
        from integration.sandbox.demo import AWS_ENV, _queues

        sqs_url = self.sim.sim.outbox.sqs.start().url
        queue_url, arn, dead_letters = _queues(sqs_url)      # a Standard queue whose policy lets Amazon write
        self.queues = (sqs_url, queue_url, dead_letters)
        self.env.update(AWS_ENV, SQS_ENDPOINT_URL=sqs_url)
        AmazonClient.from_settings(load_settings(self.env)).notifications.ensure(f"hostile-{self.name}", sqs_arn=arn)
        requests.post(f"{self.sim.url}/_sandbox/notifications", json={"duplicates": 0.1, "reorder": 0.1},
                      timeout=10).raise_for_status()
        self.worker = start_worker(self.env, queues="default,amazon,sl", concurrency=2, name=f"hostile-{self.name}")
        self.poller = Proc([sys.executable, "-m", "integration.cli", "intake", "sqs", "--queue-url", queue_url,
                            "--wait-seconds", "2", "--dead-letter-url", dead_letters], child_env(self.env),
                           f"hostile-{self.name}-sqs")
        return self

    def announced(self) -> int:
        """ORDER_CHANGE messages the simulator put into the queue (duplicates included); none may be undeliverable."""
        outbox = self.sim.sim.outbox
        assert not outbox.undeliverable, outbox.counts()
        return outbox.delivered[("sqs", "ORDER_CHANGE")]

    def left_in_queues(self) -> int:
        """Messages still in the notification queue (visible or in flight) and in its dead-letter queue."""
        import boto3

        endpoint, *urls = self.queues
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="sandbox",
                           aws_secret_access_key="sandbox")
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        return sum(int(v) for url in urls
                   for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())

    def received(self, r) -> dict[str, int]:
        """The poller's notifications by type and outcome (``ORDER_CHANGE:enqueued`` ...)."""
        from integration.guard import keys

        return {k.split(":", 1)[1]: int(v) for k, v in r.hgetall(keys.intake_received()).items()
                if k.startswith("sqs:")}

    def sweep(self) -> None:
        self.app.send_task("slsync.orders.sweep", queue="amazon")

    def notify(self, ids) -> None:
        """What an ORDER_CHANGE does: an import by id, which reads the order with getOrder (duplicates included)."""
        for oid in ids:
            self.app.send_task("slsync.orders.import", args=[oid], queue="sl")

    def refusals(self) -> int:
        statuses = self.sim.requests()["operations"].get("getOrder", {}).get("statuses", {})
        return int(statuses.get("401", 0)) + int(statuses.get("403", 0))

    def rows(self, sql: str, args=()) -> list[tuple]:
        con = sqlite3.connect(self.sl_dsn[len("sqlite:///"):], timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def bound(self) -> set[str]:
        return {oid.strip() for (oid,) in self.rows('SELECT "AmazonOrderId" FROM "xAMZOrder"')}   # SL pads char

    def holds(self) -> dict[str, tuple[str, str]]:
        return {key.strip(): (reason.strip(), message) for key, reason, message in self.rows(
            'SELECT "EntityKey", "Reason", "Message" FROM "xAMZHold" WHERE "Entity" = ? AND "Status" = ?',
            ["order", "OPEN"])}

    def other_holds(self) -> list[tuple]:
        """Holds on anything but an order (a notification, the sweep, a task): none is expected."""
        return self.rows('SELECT "Entity", "EntityKey", "Reason", "Message" FROM "xAMZHold" WHERE "Entity" <> ?',
                         ["order"])

    def unsettled(self, ids) -> list[str]:
        done = self.bound() | set(self.holds())
        return [oid for oid in ids if oid not in done]

    def settled(self, ids) -> bool:
        return not self.unsettled(ids)

    def explain(self, ids) -> str:
        """For a failure: the orders not settled and what the worker said of them."""
        missing = self.unsettled(ids)
        said = [line for line in self.worker.output().splitlines() if any(oid in line for oid in missing[:3])]
        events = self.rows('SELECT "EntityKey", "Action", "Detail" FROM "xAMZEvent" ORDER BY "EventId" DESC LIMIT 15')
        return f"{self.name}: {len(missing)} not settled {missing[:5]}\n" + "\n".join(said[-30:]) + f"\n{events}"

    def stop(self) -> None:
        for proc in (self.poller, self.worker):
            if proc is not None:
                proc.stop()
        self.app.close()
        self.sim.sim.stop()


def _orders(dep: Deployment, known_mfn: str, known_afn: str, unknown: str) -> dict[str, str]:
    """A seller's day: merchant orders, Amazon-fulfilled ones shipped, and orders for an SKU SL does not know."""
    made = {}
    for n in range(12):
        made[dep.sim.create_order([{"sku": known_mfn, "quantity": 1 + n % 3}])["orderId"]] = "mfn"
    for _ in range(6):
        oid = dep.sim.create_order([{"sku": known_afn, "quantity": 1}], fulfillment="AFN")["orderId"]
        dep.sim.change(oid, "ship")
        made[oid] = "afn"
    for _ in range(3):
        made[dep.sim.create_order([{"sku": unknown, "quantity": 1}])["orderId"]] = "unknown"
    dep.sim.advance(180)                      # older than the sweep's 2-minute margin
    return made


@pytest.fixture
def sellers(tmp_path, sqlite_dsn, redis_url, r):
    from integration.sandbox.amazon import Simulator

    own = OwnRedis().start()
    second_dsn = f"sqlite:///{tmp_path / 'second-seller.db'}"
    sl_seed.seed(second_dsn)
    first = Deployment("first", Simulator(seed=11, orders=0, time_scale=TIME_SCALE).start(), sqlite_dsn, redis_url)
    second = Deployment("second", Simulator(seed=11, orders=0, time_scale=TIME_SCALE, seller_id="A3SECONDSELLER",
                                            roles=[x for x in roles.ALL if x != ROLE]).start(),
                        second_dsn, own.url())
    try:
        yield first.start(), second.start(), r, own.client()
    finally:
        for dep in (first, second):
            dep.stop()
        own.stop()


def test_two_sellers_token_refusals_and_faults_every_order_in_sl_once_or_held(sellers, sqlite_dsn):
    first, second, r_first, r_second = sellers
    # the SKUs are the simulator's catalog (seed 11), which both sandboxes' SL seed knows
    known_mfn, known_afn, unknown = _skus(first)
    made = {dep.name: _orders(dep, known_mfn, known_afn, unknown) for dep in (first, second)}
    for dep in (first, second):
        # 20% faults on every orders call, and each token-refusal wording once on getOrder (a refusal expires the
        # token it was given; the simulator spares the replacement for 5 simulated minutes)
        dep.sim.faults(FAULTS + [{"op": "getOrder", "kind": kind, "count": 1} for kind in REFUSALS])

    def hostile_enough(dep) -> bool:
        return dep.settled(list(made[dep.name])) and dep.refusals() >= len(REFUSALS)

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not all(hostile_enough(dep) for dep in (first, second)):
        for dep in (first, second):     # notifications (duplicates and all) and the sweep as the safety net
            dep.notify(made[dep.name])
            dep.sweep()
        time.sleep(3.0)
    for dep in (first, second):
        assert dep.refusals() >= len(REFUSALS), f"{dep.name}: not every token refusal fired"
        dep.sim.faults([])
    for dep in (first, second):                 # the faults are over: what is left settles
        try:
            wait_until(lambda d=dep: d.settled(made[d.name]) or d.sweep(), timeout=120, interval=3.0,
                       what=f"{dep.name} seller's orders in SL or held")
        except TimeoutError:
            pytest.fail(dep.explain(made[dep.name]))
    time.sleep(2.0)                             # in-flight runs end: nothing may appear twice after settling

    for dep, r in ((first, r_first), (second, r_second)):
        kinds, bound, held = made[dep.name], dep.bound(), dep.holds()
        per_order = Counter(oid.strip() for (oid,) in dep.rows('SELECT "CustOrdNbr" FROM "SOHeader" WHERE "CustOrdNbr" <> ?',
                                                       [""]))
        twice = {oid: n for oid, n in per_order.items() if oid in kinds and n > 1}
        assert twice == {}, f"{dep.name}: sales orders created twice: {twice}"
        invoices = Counter(oid.strip() for (oid,) in dep.rows(
            'SELECT "AmazonOrderId" FROM "xAMZDocument" WHERE "DocType" = ?', ["IN"]))
        assert all(n == 1 for n in invoices.values()), f"{dep.name}: invoices twice: {invoices}"
        for oid, kind in kinds.items():
            assert (oid in bound) != (oid in held), f"{dep.name} {oid} ({kind}): bound and held, or neither"
        reasons = Counter(held[oid][0] for oid in held if oid in kinds)
        sent = alerts.recorded(r)
        if dep is first:
            # every known order imported; only the unknown SKU waits for a person
            assert {oid for oid, k in kinds.items() if k != "unknown"} <= bound
            assert reasons == Counter({"unknown_sku": 3}), f"first seller holds: {reasons}"
            assert not [a for a in sent if a["subject"].startswith("Amazon role missing")]
        else:
            # no merchant order created without an address: each held, naming the role; Amazon's orders imported
            # (the unknown SKU's orders are merchant orders too: the missing address is what they wait for first)
            mfn = {oid for oid, k in kinds.items() if k != "afn"}
            assert not (mfn & bound)
            assert all(held[oid][0] == "missing_field" and ROLE in held[oid][1] for oid in mfn)
            assert {oid for oid, k in kinds.items() if k == "afn"} <= bound
            assert reasons == Counter({"missing_field": 15}), f"second seller holds: {reasons}"
            role_alerts = [a for a in sent if a["subject"] == f"Amazon role missing: {ROLE}"]
            assert len(role_alerts) == 1, [a["subject"] for a in sent]
        assert dep.other_holds() == [], f"{dep.name}: {dep.other_holds()}"
        # every ORDER_CHANGE Amazon put into the queue was taken in by the poller (none lost, none left)
        wait_until(lambda d=dep, rr=r: sum(n for k, n in d.received(rr).items() if k.startswith("ORDER_CHANGE:"))
                   >= d.announced(), timeout=30, what=f"{dep.name}: the poller took in every ORDER_CHANGE")
        wait_until(lambda d=dep: d.left_in_queues() == 0, timeout=30, what=f"{dep.name}: the queues drained")
        got = dep.received(r)
        assert dep.announced() >= len(kinds) and got.get("ORDER_CHANGE:enqueued", 0) > 0, got
        assert not [k for k in got if k.endswith((":held", ":malformed"))], got
        stats = dep.sim.requests()["operations"]
        faulted = sum(int(stats.get(op, {}).get("statuses", {}).get(code, 0)) for op in ORDER_OPS
                      for code in ("500", "503", "429"))
        assert faulted > 0
        # and what reached SL is what SL's own processes accept (FBA sales closed, issued and invoiced once ...)
        check = subprocess.run([sys.executable, "-m", "integration.cli", "db", "verify"], env=child_env(dep.env),
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, f"{dep.name}: slsync db verify\n{check.stdout}{check.stderr}"


def _skus(dep: Deployment) -> tuple[str, str, str]:
    class _Ctx:        # sku_known reads the catalog only
        pass

    return sku_known(_Ctx()), sku_known(_Ctx(), "AFN"), sku_unknown()
