"""``slsync worker`` / ``slsync beat`` / ``slsync flower``: the long-running processes.

They exec Celery's own commands on ``workers.app`` so signals, soft shutdown and logging behave exactly as
Celery documents. Flower refuses to start without basic auth unless it is a sandbox bound to loopback.
"""

from __future__ import annotations

import os
import sys

import click

from integration.config import LOOPBACK, load_settings
from integration.errors import ConfigError


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _exec(args: list[str], env: dict[str, str] | None = None) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", *args]
    os.execvpe(argv[0], argv, env or dict(os.environ))


@click.command()
@click.option("-Q", "--queues", default="default,amazon,sl", show_default=True, help="Queues to consume.")
@click.option("-c", "--concurrency", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("-l", "--loglevel", default=None, help="Log level (default LOG_LEVEL).")
def worker(queues: str, concurrency: int, loglevel: str | None) -> None:
    """Start a Celery worker for the given queues."""
    s = _settings()
    _exec(["worker", "-Q", queues, "-c", str(concurrency), "-l", (loglevel or s.log_level).upper()])


@click.command()
@click.option("-l", "--loglevel", default=None, help="Log level (default LOG_LEVEL).")
def beat(loglevel: str | None) -> None:
    """Start Celery beat (RedBeat; a second beat stands by)."""
    s = _settings()
    _exec(["beat", "-l", (loglevel or s.log_level).upper(), "--max-interval", "5"])


def flower_refusal(basic_auth: str, address: str, sandbox: bool) -> str | None:
    """Why Flower must not start with these settings, or None."""
    if basic_auth:
        return None
    if sandbox and address in LOOPBACK:
        return None
    return (
        "Flower shows task arguments and can revoke tasks: set FLOWER_BASIC_AUTH=user:password "
        f"(or run the sandbox on 127.0.0.1); refusing to listen on {address} without authentication"
    )


@click.command()
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5555, show_default=True, type=int)
def flower(address: str, port: int) -> None:
    """Start Flower on the broker, behind basic auth."""
    s = _settings()
    why = flower_refusal(s.flower_basic_auth, address, s.sandbox)
    if why:
        raise click.ClickException(why)
    env = dict(os.environ)
    if s.flower_basic_auth:
        env["FLOWER_BASIC_AUTH"] = s.flower_basic_auth  # read by Flower itself; never on the command line
    _exec(["flower", f"--address={address}", f"--port={port}", "--purge_offline_workers=60"], env)
