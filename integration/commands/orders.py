"""``slsync orders``: import one order now, sweep a window, backfill a long one."""

from __future__ import annotations

import time
from datetime import datetime

import click

from integration.commands.common import checked_settings, echo_json, enqueue
from integration.timeutil import parse_amazon_time


def _parse_since(text: str) -> datetime:
    try:
        return parse_amazon_time(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 date/time (e.g. 2026-11-01 or 2026-11-01T08:00Z)") from None


@click.group()
def orders() -> None:
    """Amazon orders into SL sales orders."""


@orders.command("import")
@click.argument("amazon_order_id")
@click.option("--enqueue", "queue_it", is_flag=True, help="Queue it for the workers instead of running here.")
@click.option("--json", "as_json", is_flag=True)
def import_(amazon_order_id: str, queue_it: bool, as_json: bool) -> None:
    """Import (or re-apply) one Amazon order now, under the same lease the workers use."""
    if queue_it:
        click.echo(f"queued {enqueue('slsync.orders.import', [amazon_order_id], 'sl')}")
        return
    from integration.sync import orders as flow
    from integration.sync.context import build_context
    from integration.sync.entity import hold_entity

    ctx = build_context(checked_settings())
    try:
        with hold_entity(ctx, "order", amazon_order_id):
            outcome = flow.import_order(amazon_order_id, ctx, fresh=True)
    finally:
        ctx.sl.close()
    data = {"order": amazon_order_id, "outcome": outcome.value, "ord_nbr": outcome.ord_nbr,
            "hold_id": outcome.hold_id, "detail": outcome.detail}
    if as_json:
        echo_json(data)
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in data.items() if v not in (None, "")))


@orders.command("sync")
@click.option("--since", help="Start the window here (ISO 8601) instead of at the saved watermark.")
@click.option("--inline", is_flag=True, help="Import in this process instead of queueing for the workers.")
def sync(since: str | None, inline: bool) -> None:
    """Sweep Amazon for orders changed since the watermark (or --since) and import them."""
    from integration.guard import Lease
    from integration.sync import orders as flow
    from integration.sync.context import build_context
    from integration.sync.entity import hold_entity

    ctx = build_context(checked_settings())
    imported: list[str] = []

    def fan_out(ids: list[str]) -> None:
        if inline:
            for oid in ids:
                with hold_entity(ctx, "order", oid):
                    flow.import_order(oid, ctx)
        else:
            from workers.tasks.orders import enqueue_imports

            enqueue_imports(ids)
        imported.extend(ids)
        click.echo(f"  {len(imported)} orders {'imported' if inline else 'queued'}")

    found = 0
    try:
        if since:   # a new window from here: a window in progress is dropped (its orders are found again)
            ctx.sl.set_cursor(flow.SWEEP_CURSOR, (_parse_since(since) + flow.OVERLAP_DELTA).isoformat())
            ctx.sl.set_progress(flow.SWEEP_PROGRESS, None)
        with Lease(ctx.redis, "sweep", "orders", ttl=ctx.settings.task_time_limit + 30, keepalive=True):
            while True:
                result = flow.sweep(ctx, fan_out)
                found += result.found
                if result.done:
                    break
                click.echo(f"  waiting {result.retry_after:.0f}s for Amazon's searchOrders rate (Ctrl-C stops; "
                           "the next sweep resumes at this page)")
                time.sleep(result.retry_after)
    finally:
        ctx.sl.close()
    click.echo(f"window {result.window_start} .. {result.window_end}: {found} orders")


@orders.command("backfill")
@click.option("--since", required=True, help="Start of the window (ISO 8601).")
@click.option("--until", help="End of the window (default: 2 minutes before Amazon's now).")
def backfill(since: str, until: str | None) -> None:
    """A first start over a long window: one all-orders report instead of hundreds of pages."""
    from rich.progress import Progress

    from integration.sync import backfill as flow
    from integration.sync.context import build_context
    from workers.tasks.orders import pacer_stash, start_pacing

    ctx = build_context(checked_settings())
    try:
        with Progress() as progress:
            task = progress.add_task("requesting the report", total=None)

            def on_progress(stage: str, done: int, total: int | None) -> None:
                progress.update(task, description=stage, completed=done, total=total)

            report_id = flow.start(ctx, _parse_since(since), _parse_since(until) if until else None)
            while (result := flow.resume(ctx, report_id, pacer_stash(report_id), on_progress)).status != "DONE":
                on_progress(f"report {report_id} {result.status.lower().replace('_', ' ')}", 0, None)
                time.sleep(2.0)
    finally:
        ctx.sl.close()
    if result.orders:
        start_pacing(report_id)  # the workers import them at the pace Amazon's getOrder limit allows
    click.echo(f"report {report_id}: {result.orders} orders handed to the workers (paced at the getOrder rate)")
