"""``slsync reconcile``: a settlement against SL's sales orders, invoices and credit memos."""

from __future__ import annotations

import json
import os

import click

from integration.commands.common import checked_settings, echo_json, enqueue

PATH_KEYS = ("path", "file", "kept_file", "kept_path")   # where a settlement event may name the file it kept


def _kept_file(sl, settlement_id: str) -> str | None:
    """The settlement's file as the import kept it: the newest settlement event naming an existing file (the
    import's ``file_received``, ``integration.settlements.flow``)."""
    for event in reversed(sl.events_for("settlement", settlement_id)):
        detail = event.detail
        if isinstance(detail, str):
            try:
                detail = json.loads(detail or "{}")
            except ValueError:
                continue
        if not isinstance(detail, dict):
            continue
        for key in PATH_KEYS:
            path = detail.get(key)
            if isinstance(path, str) and os.path.isfile(path):
                return path
    return None


def _print_table(result, show_all: bool) -> None:
    """The problems (or every line) in a table narrow enough for a terminal; the CSV has every column."""
    from rich.console import Console
    from rich.table import Table

    lines = result.rows() if show_all else [x.as_row() for x in result.problems]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts().items())) or "nothing to match"
    verdict = "reconciled" if result.ok else "NOT reconciled"
    t = Table(title=f"settlement {result.settlement_id} ({result.currency}): {verdict} ({counts})")
    t.add_column("Amazon order / refund", no_wrap=True)
    t.add_column("SL order / document")
    t.add_column("Amazon", justify="right")
    t.add_column("SL", justify="right")
    t.add_column("difference", justify="right")
    t.add_column("status")
    for row in lines:
        amazon = row["order_id"] + (f" {row['adjustment_id']}" if row["adjustment_id"] else "")
        t.add_row(amazon, " ".join(x for x in (row["ord_nbr"], row["ref_nbr"]) if x), row["amazon_amount"],
                  row["sl_amount"], row["difference"], row["status"])
    Console().print(t)


@click.command()
@click.option("--settlement", "settlement_id", required=True, help="The settlement id.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="The settlement file (default: the file the import kept for this settlement).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write every line to this CSV.")
@click.option("--fix", is_flag=True, help="Create the missing credit memos and queue imports of orders missing in SL.")
@click.option("--all", "show_all", is_flag=True, help="Print every line, not only the problems.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def reconcile(settlement_id: str, path: str | None, csv_path: str | None, fix: bool, show_all: bool,
              as_json: bool) -> None:
    """Match a settlement's orders with SL sales orders and invoices and its refunds with credit memos; report
    orders missing on either side and amount differences. Read-only unless --fix (the result is kept in the event
    trail for `slsync status`). Exits 1 when the settlement is not reconciled."""
    from integration.settlements import reconcile as recon
    from integration.settlements.model import SettlementProblem
    from integration.settlements.parse import open_settlement
    from integration.settlements.refunds import apply_refunds
    from integration.sync.context import build_context

    ctx = build_context(checked_settings())
    try:
        path = path or _kept_file(ctx.sl, settlement_id)
        if path is None:
            raise click.ClickException(f"no kept file for settlement {settlement_id}: give it with --file PATH")
        try:
            settlement = open_settlement(path)
            header = settlement.header
            if header.settlement_id.strip() != settlement_id.strip():
                raise click.ClickException(f"{path} is settlement {header.settlement_id}, not {settlement_id}")
            result = recon.reconcile(ctx, header, settlement.rows)
        except SettlementProblem as exc:   # a file no one can read is a message, never a traceback
            raise click.ClickException(f"settlement {settlement_id} cannot be reconciled: {exc.reason}: "
                                       f"{exc.message}") from None
        fixed = {}
        bound = ctx.sl.get_settlement_binding(settlement_id)
        if fix and not result.ok and (bound is None or (bound.status or "").strip() != "POSTED"):
            # credit memos come from a settlement SL has booked: never from one held (its file refused, its total
            # wrong) or not imported; fix that first, then reconcile again
            raise click.ClickException(f"settlement {settlement_id} is not posted in SL (see `slsync settlements "
                                       f"show {settlement_id}`): nothing fixed")
        if fix and not result.ok:
            missing = [x.order_id for x in result.lines if x.status == "missing_in_sl"]
            queued = [enqueue("slsync.orders.import", [oid], "sl") for oid in missing]
            memos = apply_refunds(ctx, header, settlement.rows)
            fixed = {"imports_queued": len(queued), "credit_memos": sum(o.value == "credited" for o in memos),
                     "refunds_held": sum(o.value == "held" for o in memos)}
            result = recon.reconcile(ctx, header, settlement.rows)
        recon.record(ctx.sl, result)
    finally:
        ctx.sl.close()
    if csv_path:
        result.write_csv(csv_path)
    if as_json:
        echo_json({**result.as_dict(), "fixed": fixed})
    else:
        _print_table(result, show_all)
        if fixed:
            click.echo("fixed: " + ", ".join(f"{k} {v}" for k, v in fixed.items()))
        if csv_path:
            click.echo(f"wrote {len(result.lines)} lines to {csv_path}")
    if not result.ok:
        raise SystemExit(1)
