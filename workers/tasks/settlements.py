"""Settlement tasks: poll for new settlement reports (beat), import one report.

The import downloads the file and posts it in one task on the ``amazon`` queue: the file lands in the settlements
folder of the worker that downloaded it, so the posting runs where the file is (a second task on the ``sl`` queue
could run on another machine, without the file). Its SL writes are still fenced per settlement id.
"""

from __future__ import annotations

from integration.errors import Permanent
from integration.guard import keys, redis_client
from integration.settlements import flow
from workers.app import app
from workers.base import continue_later, run_for_entity
from workers.context import task_context

POLL, IMPORT = "slsync.settlements.poll", flow.IMPORT_TASK


def enqueue_imports(report_ids: list[str]) -> None:
    """One import task per settlement report, by name."""
    with app.producer_or_acquire() as producer:
        for rid in report_ids:
            app.send_task(IMPORT, args=[rid], queue=flow.IMPORT_QUEUE, producer=producer)


@app.task(name=POLL, bind=True, queue="amazon")
def poll(self) -> int | None:
    """From beat: one poll at a time fleet-wide (the lease); a paused listing continues when Amazon's rate allows."""
    result = run_for_entity(self, "sweep", "settlements",
                            lambda: flow.poll(task_context(self), enqueue=enqueue_imports))
    if result is None:
        return None
    if not result.done:
        continue_later(POLL, "settlements.poll", result.retry_after, queue="amazon")
    else:
        redis_client().set(keys.last_success("settlements.poll"), result.window_end, ex=keys.LAST_OK_TTL)
    return len(result.report_ids)


@app.task(name=IMPORT, bind=True, queue=flow.IMPORT_QUEUE)
def import_report(self, report_id: str) -> str | None:
    """Download one settlement report and post it (idempotent: a settlement posted from the same file is left
    alone); a failed download or unreadable file is retried with backoff, then held with the file kept."""
    rerun = {"task": IMPORT, "args": [report_id], "queue": flow.IMPORT_QUEUE}

    def work():
        return flow.import_report(task_context(self), report_id, attempt=self.request.retries + 1, rerun=rerun)

    result = run_for_entity(self, "settlement_report", report_id, work)
    return result.outcome if result else None


@app.task(name=flow.POST_TASK, bind=True, queue=flow.IMPORT_QUEUE)
def post(self, settlement_id: str) -> str | None:
    """Post a held settlement again from its kept file (``slsync holds release`` of a settlement hold)."""
    def work():
        try:
            return flow.repost(task_context(self), settlement_id)
        except LookupError as exc:
            raise Permanent(str(exc)) from None

    result = run_for_entity(self, "settlement_post", settlement_id.split(":", 1)[0], work)
    return result.outcome if result else None
