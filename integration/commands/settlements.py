"""``slsync settlements``: import settlement files, list and show what SL knows, post one again, poll Amazon now.

Exit codes: 0 done; 1 something needs a person (a settlement held, with the reason printed) or failed; 2 a usage
error (a file that does not exist, an unknown option).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import click

from integration.commands.common import checked_settings, echo_json
from integration.errors import SyncError

OK_OUTCOMES = ("posted", "replaced", "already_posted", "unchanged")


@contextmanager
def _context():
    from integration.sync.context import build_context

    try:
        ctx = build_context(checked_settings())
    except SyncError as exc:
        raise click.ClickException(f"cannot reach SL or Redis: {exc.message}") from None
    try:
        yield ctx
    except SyncError as exc:   # SL or Amazon refused: say what, no traceback
        raise click.ClickException(f"{exc.kind}: {exc.message}") from None
    finally:
        ctx.sl.close()


@click.group()
def settlements() -> None:
    """Amazon settlements into SL's general ledger (one balanced GL batch per settlement)."""


def _keep(ctx, source: Path) -> Path:
    """A copy of a seller's file in the settlements folder (the evidence behind the batch stays with the product)."""
    from integration.settlements.flow import settlements_dir

    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    target = settlements_dir(ctx) / f"import-{digest.hexdigest()[:12]}-{source.name}"
    if not target.exists():
        shutil.copyfile(source, target)
    return target


def _line(result) -> str:
    post = result.post or {}
    parts = [f"settlement {result.settlement_id or '?'}: {result.outcome}"]
    if result.reason:
        parts.append(f"reason {result.reason}")
    if result.hold_id:
        parts.append(f"hold {result.hold_id}")
    if post.get("batches"):
        parts.append("batches " + ", ".join(f"{b['bat_nbr']} ({b['period']})" for b in post["batches"]))
        parts.append(f"debit {post['debit']} credit {post['credit']} {post.get('currency', '')}".rstrip())
    return "; ".join(parts)


@settlements.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="The file is the settlement's newer version: post it instead of the "
                                              "version posted (a file imported by hand carries no report time).")
@click.option("--json", "as_json", is_flag=True)
def import_(files: tuple[Path, ...], replace: bool, as_json: bool) -> None:
    """Import settlement files downloaded from Seller Central (V2 flat files, old V1 archives; plain or GZIP).

    Each file is copied into the settlements folder, checked (its rows must add up to its total) and posted.
    A settlement already posted from the same file is left alone; another version of a posted settlement is held
    (settlement_version_conflict) unless --replace says it is the newer one."""
    from integration.settlements import flow

    results, held = [], 0
    with _context() as ctx:
        for source in files:
            result = flow.import_file(ctx, str(_keep(ctx, source)), replace=replace)
            results.append({"file": str(source), **result.as_dict()})
            held += result.outcome not in OK_OUTCOMES
            if not as_json:
                click.echo(f"{source}: {_line(result)}")
    if as_json:
        echo_json(results)
    if held:
        if not as_json:
            click.echo(f"{held} of {len(files)} held for review: see `slsync holds list`", err=True)
        raise SystemExit(1)


@settlements.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """Settlements known: id, dates, currency, total, status in SL, GL batches, open holds."""
    from integration.settlements import flow

    with _context() as ctx:
        rows = flow.known(ctx)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no settlements yet (slsync settlements poll, or slsync settlements import FILE)")
        return
    click.echo(f"{'settlement':14} {'start':10} {'end':10} {'cur':4} {'total':>12} {'status':10} batches / holds")
    for s in rows:
        holds = ", ".join(f"#{h['hold_id']} {h['reason']}" for h in s["holds"])
        click.echo(f"{s['settlement_id']:14} {(s.get('start') or '')[:10]:10} {(s.get('end') or '')[:10]:10} "
                   f"{s.get('currency', ''):4} {s.get('total', ''):>12} {s['status']:10} "
                   f"{' '.join(s['batches'])}{' / ' + holds if holds else ''}")


@settlements.command("show")
@click.argument("settlement_id")
@click.option("--json", "as_json", is_flag=True, help="For scripts and auditors: exact amounts as strings.")
def show(settlement_id: str, as_json: bool) -> None:
    """One settlement: total, GL batch debit and credit totals, the deposit line, amounts per type."""
    from integration.settlements import flow

    with _context() as ctx:
        try:
            data = flow.describe(ctx, settlement_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(data)
        return
    click.echo(f"settlement {data['settlement_id']} ({data['status']}) report {data['report_id'] or '-'}")
    click.echo(f"  period {data['start']} .. {data['end']}, deposit {data['deposit_date']}")
    click.echo(f"  total {data['total']} {data['currency']}; file {data['file']}")
    if data.get("received"):
        r = data["received"]
        click.echo(f"  a later file, not posted: {r['path']} (total {r['total']}, checksum {r['checksum'][:12]})")
    for b in data["batches"]:
        click.echo(f"  GL batch {b['bat_nbr']} period {b['period']}: debit {b['debit']} credit {b['credit']}"
                   f"{' (released in SL)' if b.get('released') else ''}")
    click.echo(f"  batches: debit {data['debit']} credit {data['credit']}")
    if data["deposit"]:
        d = data["deposit"]
        click.echo(f"  deposit: {d.get('side')} {d.get('acct')} {d.get('sub')} {d.get('amount')}")
    for t in data["by_type"]:
        click.echo(f"  {t['transaction_type']:22} {t['amount_type']:22} {t['amount_description']:36} "
                   f"{t['amount']:>12}")
    for h in data["holds"]:
        click.echo(f"  hold #{h['hold_id']} {h['reason']} ({h['key']})")
    if data.get("warning"):
        click.echo(f"  warning: {data['warning']}", err=True)


@settlements.command("post")
@click.argument("settlement_id")
@click.option("--replace-released", is_flag=True,
              help="You reversed the settlement's released GL batches in SL: post its new version, the released "
                   "batches left as they are (marked SUPERSEDED). Recorded as your decision.")
@click.option("--json", "as_json", is_flag=True)
def post(settlement_id: str, replace_released: bool, as_json: bool) -> None:
    """Post a settlement again from its kept file (after a hold was fixed: a mapping added, a period opened).

    A settlement held settlement_released (re-issued after its batches were released in SL): reverse the released
    batches in SL (a reversing entry), then run this with --replace-released."""
    from integration.settlements import flow

    with _context() as ctx:
        try:
            result = flow.repost(ctx, settlement_id, replace_released=replace_released)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(_line(result))
    if result.outcome not in OK_OUTCOMES:
        raise SystemExit(1)


@settlements.command("poll")
@click.option("--inline", is_flag=True, help="Download and post here instead of queueing for the workers.")
def poll(inline: bool) -> None:
    """Look for new settlement reports at Amazon now (beat does it every SETTLEMENTS_POLL_SECONDS)."""
    from integration.guard import Lease
    from integration.settlements import flow

    done: list = []
    with _context() as ctx:
        def fan_out(ids: list[str]) -> None:
            if inline:
                for rid in ids:
                    try:
                        done.append(flow.import_report(ctx, rid))
                    except SyncError as exc:
                        click.echo(f"  report {rid}: {exc.message}", err=True)
            else:
                from workers.tasks.settlements import enqueue_imports

                enqueue_imports(ids)

        with Lease(ctx.redis, "sweep", "settlements", ttl=ctx.settings.task_time_limit + 30, keepalive=True):
            found = 0
            while True:
                result = flow.poll(ctx, enqueue=fan_out)
                found += len(result.report_ids)
                if result.done:
                    break
                click.echo(f"  waiting {result.retry_after:.0f}s for Amazon's getReports rate (Ctrl-C stops; the "
                           "next poll resumes at this page)")
                time.sleep(result.retry_after)
    click.echo(f"reports created {result.window_start} .. {result.window_end}: {found} new settlement report(s) "
               f"{'imported' if inline else 'queued'}")
    for r in done:
        click.echo(f"  report {r.report_id}: {_line(r)}")
    if any(r.outcome not in OK_OUTCOMES for r in done):
        raise SystemExit(1)
