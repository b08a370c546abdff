"""The ``slsync`` command: run, inspect, re-run and release work.

Sub-commands live in ``integration/commands/<name>.py`` (one module per area), each exposing ``command``;
they are imported only when used, so ``slsync --help`` stays fast and a broken area cannot break others.
"""

from __future__ import annotations

import importlib
import sys

import click

# name -> (module, one-line help). Every command is listed here so `slsync --help` shows them all.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("integration.commands.sandbox", "Run the whole sync on the embedded sandbox (make demo)."),
    "config": ("integration.commands.config", "Check the configuration and show it (secrets hidden)."),
    "status": ("integration.commands.status", "Queues, breakers, rate-limit tokens, heartbeat and failures."),
    "worker": ("integration.commands.runners", "Start a Celery worker for the given queues."),
    "beat": ("integration.commands.runners", "Start Celery beat (RedBeat; a second beat stands by)."),
    "flower": ("integration.commands.runners", "Start Flower on the broker, behind basic auth."),
    "amazon": ("integration.commands.amazon", "Amazon SP-API: check credentials, subscribe to notifications."),
    "amazon-sim": ("integration.commands.amazon_sim", "Run the local SP-API simulator (sandbox)."),
    "orders": ("integration.commands.orders", "Import one order, sweep a window, backfill a long one."),
    "holds": ("integration.commands.holds", "The review queue: list, show, release, discard."),
    "db": ("integration.commands.db", "Dynamics SL database: create our tables, or a whole sandbox."),
    "mapping": ("integration.commands.mapping", "Check the mapping file and show its tables."),
    "intake": ("integration.commands.intake", "Receive notifications: HTTP receiver, SQS poller."),
    "settlements": ("integration.commands.settlements", "Settlements to SL's GL: import, list, show, post, poll."),
    "reconcile": ("integration.commands.reconcile", "Reconcile a settlement with SL orders, invoices, credit memos."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(n for n, (module, _) in COMMANDS.items() if importlib.util.find_spec(module) is not None)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, _ = COMMANDS[name]
        if importlib.util.find_spec(module) is None:
            return None
        mod = importlib.import_module(module)
        return getattr(mod, name.replace("-", "_"))

    def format_commands(self, ctx, formatter):
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """sl-amazon-sync: keeps Microsoft Dynamics SL and Amazon Seller Central in step."""
    from integration import logs

    logs.install()


if __name__ == "__main__":
    sys.exit(main())
