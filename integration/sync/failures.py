"""When a task gives up, a person finds it in SL: a hold that says what failed and re-runs it when released.

Every way a task can finally stop (retries run out, a ``Permanent`` error, a worker lost once too often, the hard
time limit, a plain bug) ends here. The hold names the entity the task worked on, the reason and the error, and
keeps the task name, arguments and queue, so ``slsync holds release`` runs exactly that work again. An order with
an open hold is settled as far as the sweep is concerned: it is not re-enqueued every sweep and does not pin the
watermark.

SL may be the very thing that failed. Then the record waits in Redis (``slsync:pending:holds``, never trimmed) and
``flush_pending`` writes it into SL once SL answers again (beat runs it every minute; so does every give-up).
"""

from __future__ import annotations

import json
import logging

from integration.errors import SyncError
from integration.guard import keys
from integration.sync.context import Context

log = logging.getLogger("slsync.failures")
PENDING = keys.key("pending", "holds")
REASONS = {"transient": "retries_exhausted", "permanent": "permanent_error", "worker_lost": "worker_lost",
           "error": "unexpected_error"}
OWN_REASONS = {"missing_role"}   # the seller must grant the application a role (integration.amazon.roles)


def give_up(ctx: Context, *, entity: str, key: str, kind: str, message: str, task: str, args: list,
            queue: str, error: dict) -> int | None:
    """Hold ``entity``/``key`` for a person (reason by ``kind``); the hold id, or None while SL is unreachable."""
    # an error that knows better names its own reason (a 403 a fresh token did not cure: ``missing_role``)
    own = (error.get("details") or {}).get("reason") if isinstance(error.get("details"), dict) else None
    reason = own if own in OWN_REASONS else REASONS.get(kind, REASONS["error"])
    record = {"entity": entity, "key": str(key)[:60], "reason": reason,
              "message": f"{task} gave up: {message}"[:2000],
              "payload": {"task": task, "args": list(args), "queue": queue, "error": error, "task_id": ctx.task_id}}
    try:
        hold_id = ctx.sl.create_hold(**record)
    except SyncError as exc:
        log.error("SL unreachable (%s); the failure of %s %s waits in Redis until it answers", exc.message, entity,
                  key)
        ctx.redis.rpush(PENDING, json.dumps(record, default=str))
        return None
    flush_pending(ctx)
    return hold_id


def flush_pending(ctx: Context) -> int:
    """Write the failures that waited for SL into SL (oldest first); the number written. Stops at the first
    that SL still refuses, leaving it and the rest in place."""
    written = 0
    while True:
        raw = ctx.redis.lindex(PENDING, 0)
        if raw is None:
            return written
        try:
            ctx.sl.create_hold(**json.loads(raw))   # an open hold for the same entity and reason is reused
        except ValueError:
            log.error("dropping an unreadable waiting failure record: %.200r", raw)
        except SyncError as exc:
            log.warning("SL still refuses the waiting failures (%s); %d left", exc.message, ctx.redis.llen(PENDING))
            return written
        ctx.redis.lrem(PENDING, 1, raw)             # by value: two flushers never drop each other's record
        written += 1


def pending(ctx: Context) -> int:
    return int(ctx.redis.llen(PENDING))
