"""The entity task wrapper: skip finished redeliveries, hold the entity's lease, apply the retry policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

from integration.config import settings
from integration.errors import Permanent
from integration.guard import keys, redis_client
from integration.sync.context import context
from integration.sync.entity import hold_entity
from workers.policy import give_up, retry_policy

T = TypeVar("T")
DONE_TTL = 24 * 3600


def run_for_entity(task, entity: str, key: str, work: Callable[[], T]) -> T | None:
    """Run ``work`` once per delivered message, alone for ``(entity, key)`` across the fleet.

    A message redelivered after its task finished (the ack was lost) is skipped by its task id; one
    redelivered after a crash mid-task runs again, which is safe because ``work`` is idempotent. Every SL
    write for the entity inside ``work`` is fenced (``integration.sync.entity``): a holder whose lease was
    lost or taken is refused in SL and stops (``Superseded``), it is not retried as new work.
    """
    with retry_policy(task, entity, key):
        r = redis_client()
        done, lost = _begin_run(r, task)
        if done:
            _end_run(r, task, finished=False)
            return None
        finished = False
        try:
            if lost >= settings().worker_lost_max:
                give_up(task, Permanent(f"its run was lost {lost} times (a worker killed, out of memory, or the "
                                        "hard time limit)"), "worker_lost", entity, key)
                return None
            with hold_entity(context(), entity, key):
                result = work()
            finished = True
        finally:
            _end_run(r, task, finished=finished)
        return result
    return None


def _begin_run(r, task) -> tuple[bool, int]:
    """(already done by an earlier delivery, earlier runs lost), in one round trip.

    Runs lost with their worker or to the hard time limit never end: the message is put back unchanged
    (``task_reject_on_worker_lost``). Each run counts itself in here and out at any ordinary end (``_end_run``),
    so the count left over is the number of lost runs, apart from ordinary retries, whatever their number."""
    if not task.request.id:
        return False, 0
    starts = keys.key("starts", task.request.id)
    pipe = r.pipeline(transaction=False)
    pipe.exists(keys.dedup("done", task.request.id))
    pipe.incr(starts)
    pipe.expire(starts, DONE_TTL)
    done, count, _ = pipe.execute()
    return bool(done), int(count) - 1


def _end_run(r, task, *, finished: bool) -> None:
    """Count this run out and, when its work finished, mark the task done (a redelivery then skips it)."""
    if not task.request.id:
        return
    try:
        pipe = r.pipeline(transaction=False)
        pipe.decr(keys.key("starts", task.request.id))
        if finished:
            pipe.set(keys.dedup("done", task.request.id), "1", nx=True, ex=DONE_TTL)
        pipe.execute()
    except redis.RedisError:
        # Redis gone: this run may count as lost once (the cap only ends in a hold), and a redelivery of finished
        # work may run it again, which is safe: the work is idempotent
        pass


def continue_later(task_name: str, flow: str, countdown: float, *, queue: str) -> bool:
    """Schedule one continuation of a paused listing (e.g. the orders sweep) ``countdown`` seconds from now.

    At most one is scheduled at a time: the marker lives until the continuation is due, so runs started in
    between (beat's) see it and add none. If Redis loses the marker with the message, beat's next run schedules
    again; the progress itself is in SL. True when this call scheduled it.
    """
    from workers.app import app

    countdown = max(0.0, float(countdown))
    if not redis_client().set(keys.continuation(flow), "1", nx=True, px=max(1, int(countdown * 1000))):
        return False
    app.send_task(task_name, queue=queue, countdown=countdown)
    return True
