"""``slsync sandbox``: the embedded default — the whole sync against the simulator and the SL sandbox."""

from __future__ import annotations

import click

from integration.commands.common import checked_settings


@click.command()
@click.option("--orders", default=200, show_default=True, type=int, help="Orders the simulator produces.")
@click.option("--days", default=3.0, show_default=True, type=float, help="Simulated days of trading.")
@click.option("--minutes", default=2.0, show_default=True, type=float, help="Real minutes those days take.")
@click.option("--seed", default=7, show_default=True, type=int, help="Same seed, same orders.")
@click.option("--dir", "directory", default=".sandbox", show_default=True, help="Where the SL database and report go.")
def sandbox(orders: int, days: float, minutes: float, seed: int, directory: str) -> None:
    """Run the sync on the embedded sandbox and report (what `make demo` runs)."""
    s = checked_settings()
    if not s.sandbox:
        raise click.ClickException("slsync sandbox runs only with SLSYNC_SANDBOX=true (it resets its own data)")
    from integration.sandbox.demo import DemoConfig, run_demo

    run_demo(DemoConfig(orders=orders, seed=seed, days=days, minutes=minutes, directory=directory))
