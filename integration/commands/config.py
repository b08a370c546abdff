"""``slsync config``: validate the configuration and show it."""

from __future__ import annotations

import dataclasses
import json

import click

from integration.config import load_settings
from integration.errors import ConfigError

SECRET_FIELDS = {"lwa_client_secret", "lwa_refresh_token", "intake_api_key", "flower_basic_auth",
                 "alert_smtp_password", "token_encryption_key"}


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
        if not s.token_encryption_key and not s.sandbox:
            click.echo("warning: TOKEN_ENCRYPTION_KEY is not set: the LWA access token is kept in Redis as issued "
                       "(see the README, Deployment)")
        from integration.amazon.auth import SECRET_WARN_DAYS, secret_days_left

        left = secret_days_left(s)
        if left is None and not s.sandbox:
            click.echo("warning: LWA_CLIENT_SECRET_EXPIRES is not set: nothing warns before the client secret expires")
        elif left is not None and left <= SECRET_WARN_DAYS:
            click.echo(f"warning: the LWA client secret {'expired' if left < 0 else 'expires'} on "
                       f"{s.lwa_client_secret_expires.isoformat()} ({left} days left): rotate LWA_CLIENT_SECRET")
        click.echo("configuration OK")
