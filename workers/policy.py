"""The shared retry policy: the error taxonomy turned into Celery behaviour, in one place.

- ``Transient`` -> retry with exponential backoff and full jitter (AWS "Exponential Backoff and Jitter"),
  never earlier than the error's ``retry_after``, bounded by ``TASK_MAX_RETRIES``; when retries run out
  the failure is recorded and an alert is raised, and the task fails.
- ``NeedsReview`` -> no retry; the sync code has already held the work; the task succeeds.
- ``Permanent`` -> recorded, alerted, the task fails at once.
- ``Superseded`` -> a newer holder of the entity wrote in SL (or our lease was lost): this run stops, the task
  succeeds; SL's event trail has the refusal.
"""

from __future__ import annotations

import json
import logging
import random
from contextlib import contextmanager
from datetime import UTC, datetime

from celery.exceptions import Ignore, Reject, Retry

from integration import alerts
from integration.config import settings
from integration.errors import NeedsReview, Permanent, Superseded, Transient
from integration.guard import LeaseBusy, keys, redis_client
from integration.pii import redact

log = logging.getLogger("slsync.tasks")
FAILURES_KEPT = 200
# The failure list is for `slsync status` and a person looking now; the durable record is the hold in SL.
FAILURES_TTL = 7 * 24 * 3600
# Waiting for another worker to finish the same entity, or for a token of the fleet's own rate limiter, is not
# a failure of ours: it gets more patience (TASK_PATIENT_RETRIES, 100 by default).
CELERY_CONTROL = (Retry, Ignore, Reject)   # Celery's own flow control passes through untouched


def backoff_ceiling(retries: int) -> float:
    s = settings()
    return min(s.retry_backoff_max, s.retry_backoff_base * (2**retries))


def countdown_for(retries: int, retry_after: float | None, *, exc: Exception | None = None) -> float:
    """Full jitter under a growing ceiling; never before ``retry_after``; never over the max.

    A busy lease is retried just after it can have expired (its remaining TTL plus a little jitter), since
    backing off further only delays the order behind a holder that is already gone.
    """
    s = settings()
    if isinstance(exc, LeaseBusy):
        return round(min(retry_after or 0.0, s.lease_seconds) + random.uniform(0.05, 0.5), 3)
    delay = random.uniform(0, backoff_ceiling(retries))
    if retry_after:
        delay = max(delay, retry_after)
    return round(min(delay, s.retry_backoff_max), 3)


def record_failure(task, exc: Exception) -> dict:
    """Keep the failure where `slsync status` and a person can see it, then alert.

    The entry is stored without buyer data (``integration.pii``: an error may carry an order's JSON) and the list
    lives ``FAILURES_TTL`` after its last entry.
    """
    entry = {
        "task": task.name,
        "task_id": task.request.id,
        "args": list(task.request.args or []),
        "retries": task.request.retries,
        "error": exc.to_dict() if hasattr(exc, "to_dict") else {"message": str(exc)},
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        r = redis_client()
        k = keys.failed(task.name)
        pipe = r.pipeline(transaction=False)
        pipe.lpush(k, json.dumps(redact(entry), default=str))
        pipe.ltrim(k, 0, FAILURES_KEPT - 1)
        pipe.expire(k, FAILURES_TTL)
        pipe.execute()
    except Exception:
        log.exception("could not record the failure in Redis")
    alerts.alert(f"task failed: {task.name}", task_id=task.request.id, kind=entry["error"].get("kind", "error"),
                 message=entry["error"].get("message"), retries=task.request.retries)
    return entry


def give_up(task, exc: Exception, kind: str, entity: str | None, key: str | None, message: str = "") -> None:
    """The task stops for good: recorded for `slsync status`, alerted, and held in SL for a person (or kept in
    Redis until SL answers), with what it takes to run it again (``integration.sync.failures``)."""
    from integration.sync import failures
    from integration.sync.context import context

    record_failure(task, exc)
    error = exc.to_dict() if hasattr(exc, "to_dict") else {"kind": "error", "type": type(exc).__name__,
                                                           "message": str(exc)}
    queue = (task.request.delivery_info or {}).get("routing_key") or getattr(task, "queue", None) or "default"
    try:
        failures.give_up(context().for_task(task.request.id or ""), entity=entity or "task",
                         key=key or str(task.request.id), kind=kind, message=message or error.get("message", ""),
                         task=task.name, args=list(task.request.args or []), queue=queue, error=error)
    except Exception:   # Redis and SL both gone: the log line is what is left
        log.exception("could not keep the failure of %s %s anywhere: %s", entity, key, error)


def _retry_or_give_up(task, exc: Transient, kind: str, entity: str | None, key: str | None):
    retries, max_retries = task.request.retries, settings().task_max_retries
    if isinstance(exc, LeaseBusy) or exc.details.get("throttled"):
        # waiting for another worker's lease or for our own fleet's rate-limit token is not a failure
        max_retries = max(max_retries, settings().task_patient_retries)
    if exc.details.get("credentials_refused"):
        # LWA refused the credentials: one alert went out and nothing is sent until a person fixes the setting.
        # Every task waits for that, however long it takes; giving up would hold every order in flight.
        # (Celery reads max_retries=None as "the task's default", so the limit is kept one retry ahead.)
        max_retries = retries + 1
    elif retries >= max_retries:
        log.error("giving up after %d retries: %s", retries, exc.message)
        give_up(task, exc, kind, entity, key)
        return exc
    countdown = countdown_for(retries, exc.retry_after, exc=exc)
    log.warning("transient failure (retry %d in %.2fs): %s", retries + 1, countdown, exc.message)
    return task.retry(exc=exc, countdown=countdown, max_retries=max_retries)


@contextmanager
def retry_policy(task, entity: str | None = None, key: str | None = None):
    """``with retry_policy(self, "order", order_id): ...`` inside a bound task body.

    Nothing leaves without a record: an exception outside the taxonomy (a bug, Redis gone mid-task, the soft time
    limit) is retried like a transient one, and every final stop holds the entity in SL (``give_up``).
    """
    try:
        yield
    except Transient as exc:
        raise _retry_or_give_up(task, exc, "transient", entity, key) from exc
    except NeedsReview as exc:
        log.info("held for review (%s): %s", exc.reason, exc.message)
    except Superseded as exc:
        log.warning("superseded, stopping: %s", exc.message)
    except Permanent as exc:
        log.error("permanent failure: %s", exc.message)
        give_up(task, exc, "permanent", entity, key)
        raise
    except CELERY_CONTROL:
        raise
    except Exception as exc:   # noqa: BLE001 - outside the taxonomy: transient up to the cap, then held
        log.exception("unexpected %s: %s", type(exc).__name__, exc)
        wrapped = Transient(f"{type(exc).__name__}: {exc}", details={"unexpected": type(exc).__name__})
        raise _retry_or_give_up(task, wrapped, "error", entity, key) from exc
