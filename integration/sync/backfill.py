"""Backfill: a first start over a long window, from one all-orders report instead of hundreds of pages.

``start`` requests ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` for the window; ``resume`` looks
at the report and, once it is DONE, downloads it (streamed, constant memory), reads the distinct order ids
and hands them to ``enqueue`` in pages of 100. Each import then reads its order with getOrder under the
fleet rate limiter. The report id is kept as a cursor, so a restarted backfill picks the same report up.
A window without orders ends with the report CANCELLED by Amazon (its "no data"): zero orders, not an error.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from integration.amazon.reports import ALL_ORDERS
from integration.errors import Permanent
from integration.sl.models import Event
from integration.sync.context import Context

log = logging.getLogger("slsync.sync")
CURSOR = "orders.backfill.report"
PAGE = 100


@dataclass(frozen=True)
class BackfillResult:
    report_id: str
    orders: int
    status: str


def start(ctx: Context, since: datetime, until: datetime | None = None) -> str:
    """Request the report; returns its id (also kept as the backfill cursor)."""
    until = until or ctx.amazon.server_now(fresh=True) - timedelta(minutes=2)
    report_id = ctx.amazon.reports.create(ALL_ORDERS, start=since, end=until)
    ctx.sl.set_cursor(CURSOR, report_id)
    ctx.sl.record_event(Event("backfill", report_id, "report_requested", ctx.task_id,
                              {"since": since.isoformat(), "until": until.isoformat()}))
    return report_id


def order_ids(lines) -> list[str]:
    """Distinct amazon-order-id values of an all-orders flat file, in file order (header by name)."""
    reader = csv.DictReader(lines, delimiter="\t")
    if not reader.fieldnames or "amazon-order-id" not in reader.fieldnames:
        raise Permanent("the all-orders report has no amazon-order-id column",
                        details={"columns": reader.fieldnames})
    seen: dict[str, None] = {}
    for row in reader:
        oid = (row.get("amazon-order-id") or "").strip()
        if oid:
            seen.setdefault(oid)
    return list(seen)


def resume(ctx: Context, report_id: str, enqueue: Callable[[list[str]], None],
           progress: Callable[[str, int, int | None], None] | None = None) -> BackfillResult:
    """Fan out the report's orders if it is ready; ``status`` says IN_QUEUE/IN_PROGRESS when it is not."""
    report = ctx.amazon.reports.get(report_id, report_type=ALL_ORDERS)
    if not report.finished:
        return BackfillResult(report_id, 0, report.status)
    if report.no_data:
        log.info("backfill: all-orders report %s has no data (cancelled by Amazon): no orders in the window", report_id)
        ctx.sl.record_event(Event("backfill", report_id, "orders_queued", ctx.task_id, {"orders": 0, "no_data": True}))
        return BackfillResult(report_id, 0, "DONE")
    if report.status != "DONE" or not report.document_id:
        raise Permanent(f"all-orders report {report_id} ended {report.status}", details={"report_id": report_id})
    doc = ctx.amazon.reports.download(report.document_id, report_type=ALL_ORDERS)
    try:
        with doc.open() as fh:
            ids = order_ids(fh)
    finally:
        doc.remove()
    for i in range(0, len(ids), PAGE):
        enqueue(ids[i:i + PAGE])
        if progress:
            progress("queueing imports", min(i + PAGE, len(ids)), len(ids))
    ctx.sl.record_event(Event("backfill", report_id, "orders_queued", ctx.task_id, {"orders": len(ids)}))
    return BackfillResult(report_id, len(ids), "DONE")


def import_interval(ctx: Context, operation: str = "getOrder") -> tuple[float, int]:
    """(real seconds between two imports the fleet's bucket can serve, its burst): the pace of a fan-out.

    Released faster, imports only find the bucket empty and re-queue themselves (each retry a new message
    and one more towards the retry limit); at this pace nearly every import finds its token waiting.
    """
    limiter = ctx.amazon.transport.limiter
    rate, burst = limiter.limits(operation)
    return 1.0 / (rate * limiter.time_scale), int(burst)
