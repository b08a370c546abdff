"""``slsync mapping``: check the mapping file (every problem, with its line) and show its tables."""

from __future__ import annotations

from pathlib import Path

import click


def _source(file: str | None) -> tuple[str, str]:
    """(YAML text, where it came from): --file, else SLSYNC_MAPPING_FILE, else the built-in default."""
    from integration.mapping.rules import default_mapping_text

    if file is None:
        from integration.config import settings

        file = settings().mapping_file or None
    if file is None:
        return default_mapping_text(), "built-in default.yaml"
    try:
        return Path(file).read_text(encoding="utf-8"), file
    except OSError as exc:
        raise click.ClickException(f"cannot read mapping file {file}: {exc}") from None


@click.group()
def mapping() -> None:
    """Check the mapping file and show its tables."""


@mapping.command("check")
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Mapping file (default: SLSYNC_MAPPING_FILE).")
def check(file: str | None) -> None:
    """Validate the mapping file; list every problem with its line number; exit 1 if any."""
    from integration.mapping.schema import check_text

    text, source = _source(file)
    _, problems = check_text(text)
    for problem in problems:
        click.echo(f"{source}:{problem.line}: {problem.path or '(top)'}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {source}", err=True)
        raise SystemExit(1)
    click.echo(f"{source}: mapping OK")


@mapping.command("show")
@click.option("--file", "file", type=click.Path(dir_okay=False), help="Mapping file (default: SLSYNC_MAPPING_FILE).")
def show(file: str | None) -> None:
    """Print the status table (Amazon status x channel x SL state -> action) and the lookup tables."""
    from rich.console import Console
    from rich.table import Table

    from integration.mapping.rules import Mapping
    from integration.mapping.schema import SL_STATES, check_text

    text, source = _source(file)
    data, problems = check_text(text)
    if problems:
        raise click.ClickException(f"{source} has problems; run `slsync mapping check`:\n"
                                   + "\n".join(map(str, problems)))
    m = Mapping(data=data, source=source)
    console = Console()
    table = Table(title=f"Order status table ({m.source}, company {m.company})")
    table.add_column("Amazon status")
    table.add_column("channel")
    for state in SL_STATES:
        table.add_column(f"SL: {state}")
    for status, channels in m.data["status_table"].items():
        for channel, actions in channels.items():
            table.add_row(status, channel, *(actions[s] for s in SL_STATES))
    console.print(table)
    for title, rows, heads in (
        ("Customers per marketplace", m.data["customers"].items(), ("marketplace", "SL CustID")),
        ("Ship via per service level", m.data["shipping"]["service_levels"].items(), ("service level", "ShipViaID")),
    ):
        t = Table(title=title)
        for h in heads:
            t.add_column(h)
        for row in rows:
            t.add_row(*map(str, row))
        console.print(t)
    _show_settlements(console, m)


def _show_settlements(console, m) -> None:
    """The settlement map: the fixed accounts, then the rules in file order with what wins a tie."""
    from rich.table import Table

    from integration.settlements.accounts import build_accounts

    accounts = build_accounts(m)
    fixed = Table(title="Settlement accounts (GL)")
    for h in ("role", "Acct", "Sub"):
        fixed.add_column(h)
    for role in ("deposit", "receivable", "suspense", "carry_forward"):
        fixed.add_row(role, *getattr(accounts, role))
    console.print(fixed)
    rules = Table(title="Settlement rules (most specific wins: description, amount type, type; exact > pattern > *)")
    for h in ("#", "transaction type", "amount type", "description", "Acct", "Sub"):
        rules.add_column(h)
    for rule in accounts.rules:
        rules.add_row(str(rule.index + 1), *rule.shown, rule.acct, rule.sub)
    console.print(rules)

