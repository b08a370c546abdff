"""``slsync db``: create our tables in a Dynamics SL database, or a whole sandbox database."""

from __future__ import annotations

import click

from integration.errors import SyncError


@click.group()
def db() -> None:
    """Dynamics SL database: create our tables, or a whole sandbox."""


def _dsn(dsn: str | None) -> str:
    if dsn:
        return dsn
    from integration.config import settings

    return settings().sl_dsn


@db.command("init")
@click.option("--dsn", help="sqlite:///path/sl.db, or an ODBC connection string (default: SL_DSN).")
@click.option("--sandbox", is_flag=True,
              help="Create SL's tables and seed the demo company (never on a real SL database).")
@click.option("--seed", default=1, show_default=True, help="Seed of the demo data (with --sandbox).")
def init(dsn: str | None, sandbox: bool, seed: int) -> None:
    """Create the xAMZ* tables in an existing SL database; SL's own tables are never created or altered.

    With --sandbox: create every SL table the product uses, plus ours, and seed a demo company.
    Running it again changes nothing.
    """
    from integration.sl import sandbox as sl_sandbox
    from integration.sl.db import Database

    target = Database(_dsn(dsn))
    try:
        if sandbox:
            from integration.sandbox import sl_seed

            created = sl_sandbox.create_tables(target, sl=True)
            seeded = sl_seed.seed(target, seed=seed)
            click.echo(f"created {len(created)} tables" + (f": {', '.join(created)}" if created else ""))
            if seeded:
                click.echo("seeded demo company " + sl_seed.CPNY + ": "
                           + ", ".join(f"{t} {n}" for t, n in seeded.items()))
            else:
                click.echo("demo company already seeded; nothing changed")
        else:
            created = sl_sandbox.create_tables(target)
            click.echo(f"created {len(created)} tables" + (f": {', '.join(created)}" if created else
                                                           " (all xAMZ* tables exist already)"))
    except SyncError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        target.close()


@db.command("check")
@click.option("--dsn", help="sqlite:///path/sl.db, or an ODBC connection string (default: SL_DSN).")
def check(dsn: str | None) -> None:
    """Say which SL and xAMZ* tables the database has and which are missing."""
    from integration.sl import sandbox as sl_sandbox
    from integration.sl import schema
    from integration.sl.db import Database

    target = Database(_dsn(dsn))
    try:
        present = sl_sandbox.existing_tables(target)
        outdated = {t.name: [c.name for c in sl_sandbox.missing_columns(target, t)]
                    for t in schema.XAMZ.values() if t.name in present}
    except SyncError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        target.close()
    outdated = {name: cols for name, cols in outdated.items() if cols}
    missing_sl = [t for t in schema.REQUIRED_SL if t not in present]
    missing_ours = [t for t in schema.XAMZ if t not in present]
    click.echo(f"SL tables: {len(schema.REQUIRED_SL) - len(missing_sl)}/{len(schema.REQUIRED_SL)} present"
               + (f"; missing {', '.join(missing_sl)}" if missing_sl else ""))
    click.echo(f"xAMZ* tables: {len(schema.XAMZ) - len(missing_ours)}/{len(schema.XAMZ)} present"
               + (f"; missing {', '.join(missing_ours)} (run: slsync db init)" if missing_ours else ""))
    for name, cols in outdated.items():
        click.echo(f"{name} lacks {', '.join(cols)} (an earlier version made it; run: slsync db init)")
    if missing_sl or missing_ours or outdated:
        raise SystemExit(1)


@db.command("verify")
@click.option("--dsn", help="sqlite:///path/sl.db, or an ODBC connection string (default: SL_DSN).")
@click.option("--cpny", help="The SL company whose orders are checked (default: SL_CPNY_ID).")
@click.option("--examples", default=3, show_default=True, type=click.IntRange(0, 100),
              help="Example keys shown per failing rule.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(dsn: str | None, cpny: str | None, examples: int, as_json: bool) -> None:
    """Check what the product wrote against the invariants SL's own procedures rely on (read-only).

    One line per rule with the rows checked, or how many break it with example keys; only rows the product
    wrote (Crtd_Prog AMZSYNC, or reached from its xAMZ* bindings) are looked at. Exit code 1 on any failure.
    """
    from integration.sl import verify as checks
    from integration.sl.db import Database

    if not cpny:
        from integration.config import settings

        cpny = settings().sl_cpny_id
    target = Database(_dsn(dsn), breaker=None)   # a person's one-off check: answered even while the fleet pauses
    try:
        results = checks.verify(target, cpny, ghost_items=_ghost_items(), examples=examples)
    finally:
        target.close()
    if as_json:
        click.echo(checks.report_json(results))
    else:
        click.echo(f"company {cpny}: {len(results)} rules on what the product wrote")
        for line in checks.report_lines(results):
            click.echo(line)
    if checks.failed(results):
        raise SystemExit(1)


def _ghost_items() -> tuple[str, ...]:
    """The mapping's ghost item (the InvtID an unknown SKU becomes under ``unknown_sku: ghost``)."""
    from integration.errors import ConfigError
    from integration.mapping import load_mapping

    try:
        item = load_mapping().data["sku"].get("ghost_item") or ""
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return (item,) if item.strip() else ()
