"""``slsync holds``: the review queue (xAMZHold) — list, show, release after fixing, discard with a reason, purge
closed ones (a hold keeps its payload, buyer data included, until it is purged)."""

from __future__ import annotations

import json

import click

from integration.commands.common import echo_json, enqueue, gateway

RETRY_TASKS = {"order": ("slsync.orders.import", "sl"), "shipment": ("slsync.fulfillment.confirm", "amazon"),
               "shipper": ("slsync.fulfillment.confirm", "amazon"),
               "settlement": ("slsync.settlements.post", "amazon")}   # posted again from its kept file


def _row(h) -> dict:
    return {"id": h.hold_id, "entity": h.entity, "key": h.key, "reason": h.reason, "status": h.status,
            "message": h.message, "created": h.created_at.isoformat(sep=" ", timespec="seconds"),
            "updated": h.updated_at.isoformat(sep=" ", timespec="seconds"), "note": h.note}


def _open_hold(sl, hold_id: int):
    h = sl.get_hold(hold_id)
    if h is None:
        raise click.ClickException(f"no hold {hold_id}")
    if h.status != "OPEN":
        raise click.ClickException(f"hold {hold_id} is {h.status}, not OPEN")
    return h


@click.group()
def holds() -> None:
    """The review queue: what was held, why, and what to do with it."""


@holds.command("list")
@click.option("--reason", help="Only this reason (unknown_sku, missing_field, status_conflict, ...).")
@click.option("--status", default="OPEN", show_default=True, help="OPEN, RELEASED, DISCARDED or ALL.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def list_(reason: str | None, status: str, as_json: bool) -> None:
    """List holds."""
    with gateway() as sl:
        rows = [_row(h) for h in sl.list_holds(reason=reason, status=None if status.upper() == "ALL" else status.upper())]
    if as_json:
        echo_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"holds ({status.lower()})")
    for col in ("id", "entity", "key", "reason", "status", "created", "message"):
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(str(row["id"]), row["entity"], row["key"], row["reason"], row["status"], row["created"],
                  row["message"][:80])
    Console().print(t)


@holds.command("show")
@click.argument("hold_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.option("--full", is_flag=True, help="Include the buyer's name, address and phone kept in the payload "
                                           "(shown as [redacted] otherwise).")
def show(hold_id: int, as_json: bool, full: bool) -> None:
    """Everything about one hold, including the payload kept with it (buyer data only with --full)."""
    from integration.pii import redact

    with gateway() as sl:
        h = sl.get_hold(hold_id)
    if h is None:
        raise click.ClickException(f"no hold {hold_id}")
    data = {**_row(h), "payload": h.payload if full else redact(h.payload)}
    if as_json:
        echo_json(data)
        return
    for k, v in data.items():
        if k != "payload":
            click.echo(f"{k:8} {v}")
    click.echo("payload:" if full else "payload (buyer data redacted; --full shows it):")
    click.echo(json.dumps(data["payload"], indent=2, default=str, ensure_ascii=False))


def _rerun(h) -> tuple[str, str, list]:
    """The task that does a hold's work again: (task, queue, args)."""
    kept = h.payload if isinstance(h.payload, dict) else {}
    if kept.get("task"):   # a task that gave up kept what it takes to run it again
        return kept["task"], kept.get("queue") or "default", list(kept.get("args", []))
    if h.entity in RETRY_TASKS:
        task, queue = RETRY_TASKS[h.entity]
        return task, queue, h.key.split(":", 1) if h.entity in ("shipment", "shipper") else [h.key]
    raise click.ClickException(f"holds on {h.entity} cannot be re-run from here; discard it when handled")


@holds.command("release")
@click.argument("hold_id", type=int, required=False)
@click.option("--reason", help="Release every open hold with this reason instead (e.g. missing_field once the "
                               "missing Amazon role was granted); holds that cannot be re-run are left open.")
@click.option("--note", default="", help="What was fixed.")
def release(hold_id: int | None, reason: str | None, note: str) -> None:
    """Re-run the held work after the cause was fixed (e.g. an ItemXRef was added)."""
    if (hold_id is None) == (reason is None):
        raise click.UsageError("give a HOLD_ID, or --reason REASON for every open hold with that reason")
    queued, left = [], []
    with gateway() as sl:
        for h in [_open_hold(sl, hold_id)] if hold_id is not None else sl.list_holds(reason=reason, status="OPEN"):
            try:
                task, queue, args = _rerun(h)
            except click.ClickException:
                if hold_id is not None:
                    raise
                left.append(h.hold_id)
                continue
            sl.set_hold_status(h.hold_id, "RELEASED", note or "released for a new attempt")
            queued.append((h.hold_id, task, queue, args))
    for hid, task, queue, args in queued:
        task_id = enqueue(task, args, queue)
        click.echo(f"hold {hid} released; {task}({', '.join(map(str, args))}) queued as {task_id}")
    if reason is not None:
        click.echo(f"{len(queued)} hold(s) with reason {reason} released" +
                   (f"; left open (not re-runnable here): {', '.join(map(str, left))}" if left else ""))


@holds.command("discard")
@click.argument("hold_id", type=int)
@click.option("--why", required=True, help="Why nothing more will be done (kept in the audit trail).")
def discard(hold_id: int, why: str) -> None:
    """Close a hold without re-running it."""
    with gateway() as sl:
        _open_hold(sl, hold_id)
        sl.set_hold_status(hold_id, "DISCARDED", why)
    click.echo(f"hold {hold_id} discarded: {why}")


@holds.command("purge")
@click.option("--older-than", "days", type=click.FloatRange(min=0), required=True, metavar="DAYS",
              help="Closed holds (released, resolved, discarded, dismissed) last changed more than DAYS days ago.")
@click.option("--dry-run", is_flag=True, help="Count them, delete nothing.")
def purge(days: float, dry_run: bool) -> None:
    """Delete closed holds older than DAYS with the payloads (buyer data) they keep; open holds are never deleted."""
    with gateway() as sl:
        count = sl.purge_holds(days, dry_run=dry_run)
    verb = "would be purged (dry run)" if dry_run else "purged"
    click.echo(f"{count} closed hold(s) older than {days:g} day(s) {verb}")
