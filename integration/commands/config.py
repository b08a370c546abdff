"""``slsync config``: validate the configuration and show it."""

from __future__ import annotations

import dataclasses
import json

import click

from integration.config import load_settings
from integration.errors import ConfigError

SECRET_FIELDS = {"lwa_client_secret", "lwa_refresh_token", "intake_api_key", "flower_basic_auth"}


@click.group()
def config() -> None:
    """Check the configuration and show it (secrets hidden)."""


@config.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def check(as_json: bool) -> None:
    """Validate every setting; exit 2 naming the first bad variable."""
    try:
        s = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None
    shown = {
        k: ("***" if k in SECRET_FIELDS and v else v)
        for k, v in dataclasses.asdict(s).items()
    }
    if as_json:
        click.echo(json.dumps(shown, indent=2, default=str))
    else:
        for k, v in shown.items():
            click.echo(f"{k:24} {v}")
        from integration.guard.health import eviction_problem
        from integration.guard.store import redis_client

        for url in sorted({s.broker_url, s.redis_url}):
            problem = eviction_problem(redis_client(url))
            if problem:
                click.echo(f"warning: {problem} ({url.rsplit('@', 1)[-1]})")
        click.echo("configuration OK")
