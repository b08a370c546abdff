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
    return min(s.retry_backoff_max, s.retry_backoff_base * (2 ** min(retries, 40)))   # 2**1024 would overflow


def countdown_for(retries: int, retry_after: float | None, *, exc: Exception | None = None, waits: int = 1) -> float:
    """Full jitter under a growing ceiling; never before ``retry_after``; never over the max.

    A busy lease (the ``waits``-th wait of this task) is retried after 0.5 s, 1 s, 2 s ... and never later than
    just after the lease can have expired (its remaining TTL): a holder usually finishes in a second or two, and
    waiting out its whole TTL only delays the order (five deliveries of one order each waited 30 s, and met again).
    """
    s = settings()
    if isinstance(exc, LeaseBusy):
        soon = 0.5 * (2 ** min(max(waits, 1) - 1, 20))
        return round(min(retry_after or s.lease_seconds, s.lease_seconds, soon) + random.uniform(0.05, 0.5), 3)
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


# Retries spent waiting, per task id (slsync:waits:<task id>): kept apart so that a long wait does not use up the
# retries an ordinary failure gets afterwards.
WAITS_TTL = 7 * 24 * 3600
# While LWA refuses the credentials, one task per entity waits (slsync:waiting:...); its duplicates end at once.
WAITER_TTL = 900


def _retry_or_give_up(task, exc: Transient, kind: str, entity: str | None, key: str | None):
    """Retry, or give up into a hold. Three budgets: an ordinary failure gets TASK_MAX_RETRIES; a wait for another
    worker's lease or the fleet's own rate limit gets TASK_PATIENT_RETRIES; a wait for a person to fix refused LWA
    credentials (one alert went out, nothing is sent meanwhile) has no limit. Waits are counted apart, so an order
    that waited out a long credentials outage still has all its ordinary retries when Amazon answers 429."""
    s, retries = settings(), task.request.retries
    waiting = isinstance(exc, LeaseBusy) or bool(exc.details.get("throttled"))
    waits = _waits(task, counting=waiting)
    refused = bool(exc.details.get("credentials_refused"))
    if refused:
        twin = _waiter(task, entity, key)
        if twin:
            log.info("credentials refused; %s %s already waits in task %s: this duplicate ends", entity or task.name,
                     key or "", twin)
            return Ignore()
        give_up_now = False
    elif waiting:
        give_up_now = waits > s.task_patient_retries
    else:
        give_up_now = retries - waits >= s.task_max_retries
    if give_up_now:
        log.error("giving up after %d retries (%d of them waiting): %s", retries, waits, exc.message)
        give_up(task, exc, kind, entity, key)
        return exc
    countdown = countdown_for(retries - waits, exc.retry_after, exc=exc, waits=waits)
    if refused:
        countdown += random.uniform(0, min(30.0, countdown))   # spread the wake-ups when the re-check comes
    log.warning("transient failure (retry %d in %.2fs): %s", retries + 1, countdown, exc.message)
    # Celery reads max_retries=None as "the task's default": the limit is decided above, Celery's kept one ahead
    return task.retry(exc=exc, countdown=countdown, max_retries=retries + 1)


def _waits(task, *, counting: bool) -> int:
    """This task's retries spent waiting so far (this one included when ``counting``); 0 when Redis cannot say."""
    if not task.request.id:
        return 0
    k = keys.key("waits", task.request.id)
    try:
        r = redis_client()
        if counting:
            pipe = r.pipeline(transaction=False)
            pipe.incr(k)
            pipe.expire(k, WAITS_TTL)
            return int(pipe.execute()[0])
        return int(r.get(k) or 0)
    except Exception:   # noqa: BLE001 - Redis gone: every retry counts as ordinary (the old, stricter rule)
        return 0


def _waiter(task, entity: str | None, key: str | None) -> str | None:
    """The id of another task that already waits for the credentials with the same work, or None (this one waits,
    and its marker is renewed). Sweeps re-send unsettled work during an outage; without this each copy would wait
    for ever beside the first."""
    what = f"{entity}:{key}" if entity else json.dumps(list(task.request.args or []), default=str)[:200]
    k = keys.key("waiting", task.name, what)
    me = task.request.id or ""
    try:
        r = redis_client()
        if r.set(k, me, nx=True, ex=WAITER_TTL):
            return None
        holder = r.get(k)
        if holder in (None, me) or r.exists(keys.dedup("done", holder)):   # absent, ours, or its waiter finished
            r.set(k, me, ex=WAITER_TTL)
            return None
        return holder
    except Exception:   # noqa: BLE001 - Redis gone: wait (a duplicate costs a little, losing work costs more)
        return None


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
