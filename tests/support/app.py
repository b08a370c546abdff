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


@app.task(name="slsync.test.retried_then_killed", bind=True, queue="default")
def retried_then_killed(self, tag: str, transient_runs: int, kill_runs: int) -> str | None:
    """Transient for the first ``transient_runs`` retries; then its pool child dies ``kill_runs`` times (SIGKILL of
    itself, as the OOM killer would); then it completes. Each start is listed under ``attempts``."""
    import os
    import signal

    from workers.base import run_for_entity

    def work():
        r = redis_client()
        _attempt(tag, self)
        if self.request.retries < transient_runs:
            raise Transient("not yet", retry_after=0.05)
        if r.incr(keys.key("test", tag, "kills")) <= kill_runs:
            os.kill(os.getpid(), signal.SIGKILL)
        r.set(keys.key("test", tag, "result"), "completed")
        return "completed"

    return run_for_entity(self, "test", tag, work)


@app.task(name="slsync.test.raise_bug", bind=True, queue="default")
def raise_bug(self, tag: str, times: int) -> str | None:
    """A plain bug (outside the error taxonomy) for the first ``times`` runs, then success."""
    from workers.base import run_for_entity

    def work():
        _attempt(tag, self)
        if self.request.retries < times:
            raise KeyError("a bug")
        redis_client().set(keys.key("test", tag, "result"), "completed")
        return "completed"

    return run_for_entity(self, "test", tag, work)
