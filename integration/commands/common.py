"""Small helpers the CLI commands share."""

from __future__ import annotations

import json
from contextlib import contextmanager

import click

from integration.config import load_settings
from integration.errors import ConfigError


def checked_settings():
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


@contextmanager
def gateway(dsn: str | None = None):
    from integration.sl import SLGateway

    s = checked_settings()
    sl = SLGateway.connect(dsn or s.sl_dsn, s.sl_cpny_id)
    try:
        yield sl
    finally:
        sl.close()


def enqueue(task: str, args: list, queue: str) -> str:
    """Send a task by name (the CLI is a face: it may talk to Celery)."""
    from workers.app import app

    return app.send_task(task, args=list(args), queue=queue).id


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
