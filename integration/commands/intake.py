"""``slsync intake serve`` (HTTP receiver for EventBridge API destinations) and ``slsync intake sqs`` (SQS poller)."""

from __future__ import annotations

import logging
import signal
import threading

import click

from integration.commands.common import checked_settings
from integration.config import LOOPBACK

log = logging.getLogger("slsync.intake")


@click.group()
def intake() -> None:
    """Receive notifications: HTTP receiver, SQS poller."""


def refusal(api_key: str, host: str, sandbox: bool) -> str | None:
    """Why the receiver must not start with these settings, or None."""
    if api_key or (sandbox and host in LOOPBACK):
        return None
    return (f"the receiver enqueues work for anyone who can reach it: set INTAKE_API_KEY (EventBridge sends it in "
            f"the {checked_settings().intake_api_key_header} header); refusing to listen on {host} without it")


def _exit(*_):
    raise SystemExit(0)


@intake.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=None, type=int, help="Worker threads (default INTAKE_THREADS).")
def serve(host: str, port: int, threads: int | None) -> None:
    """HTTP receiver (waitress): POST /notifications with the API key header, GET /health."""
    from integration.intake.receiver import create_server, from_settings

    s = checked_settings()
    reason = refusal(s.intake_api_key, host, s.sandbox)
    if reason:
        raise click.ClickException(reason)
    server = create_server(host, port, from_settings(s), threads or s.intake_threads)
    click.echo(f"intake receiver listening on http://{host}:{server.effective_port}/notifications", err=True)
    signal.signal(signal.SIGTERM, _exit)  # waitress then finishes running requests (up to 5 s) and stops
    server.run()


@intake.command()
@click.option("--queue-url", required=True, help="The SQS queue Amazon's destination writes to.")
@click.option("--wait-seconds", default=None, type=click.IntRange(0, 20), help="Long-poll wait (default SQS_WAIT_SECONDS).")
@click.option("--max-receives", default=None, type=int, help="Tries before a message is set aside (default SQS_MAX_RECEIVES).")
@click.option("--dead-letter-url", default=None, help="Queue for poison messages (default SQS_DEAD_LETTER_URL; else a hold).")
@click.option("--once", is_flag=True, help="One receive, then exit (scripts, tests).")
def sqs(queue_url: str, wait_seconds: int | None, max_receives: int | None, dead_letter_url: str | None,
        once: bool) -> None:
    """SQS poller: long polling; a message is deleted only after it was accepted."""
    from integration.intake.receiver import celery_enqueue
    from integration.intake.sqs import Poller, sqs_client

    s = checked_settings()
    poller = Poller(sqs_client(s), queue_url, enqueue=celery_enqueue,
                    wait_seconds=s.sqs_wait_seconds if wait_seconds is None else wait_seconds,
                    max_receives=max_receives or s.sqs_max_receives,
                    dead_letter_url=s.sqs_dead_letter_url if dead_letter_url is None else dead_letter_url)
    if once:
        click.echo(f"received {poller.poll_once()} message(s): {poller.counts}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"intake SQS poller on {queue_url}", err=True)
    try:
        poller.run(stop)
    except KeyboardInterrupt:
        pass
    log.info("SQS poller stopped: %s", poller.counts)
