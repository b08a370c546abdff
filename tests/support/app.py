"""The product's Celery app plus tasks that exist only for tests (to exercise the shared machinery)."""

from __future__ import annotations

from integration.errors import NeedsReview, Permanent, Transient
from integration.guard import keys, redis_client
from workers.app import app
from workers.policy import retry_policy

__all__ = ["app"]


def _attempt(name: str, self) -> None:
    r = redis_client()
    r.rpush(keys.key("test", name, "attempts"), f"{self.request.retries}")


@app.task(name="slsync.test.raise_transient", bind=True, queue="default")
def raise_transient(self, tag: str) -> None:
    _attempt(tag, self)
    with retry_policy(self):
        raise Transient("simulated outage", details={"tag": tag})


@app.task(name="slsync.test.raise_needs_review", bind=True, queue="default")
def raise_needs_review(self, tag: str) -> str:
    _attempt(tag, self)
    with retry_policy(self):
        raise NeedsReview("unknown_sku", "SKU X is unknown", fields=["sku"])
    redis_client().set(keys.key("test", tag, "result"), "succeeded")
    return "held"


@app.task(name="slsync.test.raise_permanent", bind=True, queue="default")
def raise_permanent(self, tag: str) -> None:
    _attempt(tag, self)
    with retry_policy(self):
        raise Permanent("bad credentials")
