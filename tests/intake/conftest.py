"""Intake fixtures: the order-to-cash fixtures (simulator, SL sandbox, env, worker) plus notification builders,
a receiver subprocess and a local SQS-compatible server (moto, on 127.0.0.1; never AWS)."""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.orders.conftest import ctx, env, sim, sku_known, sl_dsn, sqlite_dsn, wait_until  # noqa: F401
from tests.support.worker import ROOT, Proc, child_env, free_port

API_KEY = "test-intake-key-0123456789"
IMPORTS = "slsync:test:imports"


def order_change(order_id: str, event_time: str, *, nid: str | None = None, status: str = "Unshipped",
                 change_type: str = "OrderStatusChange") -> dict:
    """An ORDER_CHANGE notification as the official schema describes it (SQS body)."""
    return {
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
        "EventTime": event_time,
        "Payload": {"OrderChangeNotification": {
            "NotificationLevel": "OrderLevel", "SellerId": "A2SANDBOXSELLER", "AmazonOrderId": order_id,
            "OrderChangeType": change_type,
            "OrderChangeTrigger": {"TimeOfOrderChange": event_time, "ChangeReason": "Order status changed"},
            "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": status, "PurchaseDate": event_time,
                        "DestinationPostalCode": "98101", "FulfillmentType": "MFN", "OrderType": "StandardOrder",
                        "OrderItems": [{"OrderItemId": "1", "SellerSKU": "SKU", "SupplySourceId": None,
                                        "Quantity": 1}]}}},
        "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.test", "SubscriptionId": "sub-1",
                                 "PublishTime": event_time, "NotificationId": nid or str(uuid.uuid4())},
    }


def event_bridge(note: dict) -> dict:
    """The EventBridge event that carries ``note`` (what an API destination POSTs)."""
    kind = note.get("NotificationType") or note.get("notificationType")
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": kind,
            "source": "aws.partner/sellingpartnerapi.amazon.com/000000000000/amzn1.sellerapps.app.test",
            "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": note}


class Recorder:
    """An ``enqueue`` that records what it was asked to send (and can be made to fail)."""

    def __init__(self):
        self.sent: list[tuple] = []
        self.fail = False

    def __call__(self, task: str, args: list, queue: str) -> None:
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.sent.append((task, tuple(args), queue))


@pytest.fixture
def recorder():
    return Recorder()


def subscribe_in_process(simulator) -> None:
    """Let the simulator build ORDER_CHANGE notifications (kept in ``outbox.sent``) without posting them."""
    state = simulator.sim.state
    state.destinations["dest-test"] = {"name": "test", "destinationId": "dest-test",
                                       "resource": {"sqs": {"arn": "arn:aws:sqs:us-east-1:000000000000:q"}}}
    state.subscriptions["ORDER_CHANGE"] = {"subscriptionId": "sub-test", "payloadVersion": "1.0",
                                           "destinationId": "dest-test"}


@pytest.fixture
def intake_env(env):  # noqa: F811
    env = {**env, "INTAKE_API_KEY": API_KEY}
    os.environ["INTAKE_API_KEY"] = API_KEY
    from integration.config import settings

    settings.cache_clear()
    yield env
    os.environ.pop("INTAKE_API_KEY", None)
    settings.cache_clear()


class ReceiverProc:
    """``slsync intake serve`` in a subprocess on a fixed port (so a restart answers at the same URL)."""

    def __init__(self, env: dict, port: int | None = None):  # noqa: F811
        self.env, self.port = env, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/notifications"
        self.proc: Proc | None = None

    def start(self) -> ReceiverProc:
        self.proc = Proc([sys.executable, "-m", "integration.cli", "intake", "serve", "--port", str(self.port)],
                         child_env(self.env), "receiver")
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or self.proc.popen.poll() is not None:
                raise RuntimeError(self.proc.output()[-3000:])
            time.sleep(0.2)

    def kill(self) -> None:
        self.proc.kill()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@pytest.fixture
def receiver(intake_env):
    rp = ReceiverProc(intake_env).start()
    yield rp
    rp.stop()


@pytest.fixture(scope="session")
def sqs_endpoint():
    """moto's server mode on a free loopback port."""
    local = Path(sys.executable).parent / "moto_server"  # the project's own, not one installed by hand
    binary = str(local) if local.exists() else shutil.which("moto_server")
    if not binary or not Path(binary).exists():
        pytest.fail("moto_server is not installed: it comes with the dev extras (make setup, or "
                    ".venv/bin/pip install -e '.[dev]')", pytrace=False)
    port = free_port()
    proc = Proc([binary, "-H", "127.0.0.1", "-p", str(port)], child_env(), "moto")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(proc.output()[-2000:]) from None
            time.sleep(0.2)
    yield url
    proc.stop()


@pytest.fixture
def sqs(sqs_endpoint, monkeypatch):
    import boto3

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "SQS_ENDPOINT_URL": sqs_endpoint,
                 # never the developer's ~/.aws files (outside the clone: the audit hook would refuse them)
                 "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(k, v)
    return boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs_endpoint)


def new_queue(sqs, visibility: int = 30) -> str:
    name = f"q-{uuid.uuid4().hex[:12]}"
    return sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": str(visibility)})["QueueUrl"]


__all__ = ["ROOT", "wait_until"]
