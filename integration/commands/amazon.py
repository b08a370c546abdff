"""``slsync amazon``: check the SP-API credentials, set up notifications."""

from __future__ import annotations

import click

from integration.errors import SyncError


def _patiently(fn, *args, **kwargs):
    """A command is not a worker: it may wait out a short rate-limit pause instead of re-queueing."""
    import time

    from integration.errors import Transient

    for attempt in range(10):
        try:
            return fn(*args, **kwargs)
        except Transient as exc:
            if not exc.details.get("throttled") or attempt == 9 or (exc.retry_after or 0) > 30:
                raise
            time.sleep(max(exc.retry_after or 0.0, 0.2 * (attempt + 1)))


def _client():
    from integration.amazon.client import AmazonClient
    from integration.config import settings

    return AmazonClient.from_settings(settings())


@click.group()
def amazon() -> None:
    """Amazon SP-API: check credentials, subscribe to notifications."""


@amazon.command("check")
def check() -> None:
    """Get an LWA token and list the seller's marketplaces (exit 1 with the reason when it fails)."""
    try:
        markets = _patiently(_client().sellers.marketplaces)
    except SyncError as exc:
        raise click.ClickException(f"SP-API check failed ({exc.kind}): {exc.message}") from None
    click.echo("credentials OK; marketplaces:")
    for m in markets:
        flag = "" if m.participating else "  (not participating)"
        click.echo(f"  {m.id:16} {m.country}  {m.currency}  {m.name}{flag}")


@amazon.command("subscribe")
@click.option("--name", default="slsync", show_default=True, help="Destination name (reused when it exists).")
@click.option("--sqs-arn", help="SQS queue ARN for ORDER_CHANGE, FBA, report and feed notifications.")
@click.option("--eventbridge", metavar="ACCOUNT_ID:REGION", help="EventBridge destination instead of SQS.")
def subscribe(name: str, sqs_arn: str | None, eventbridge: str | None) -> None:
    """Create the destination and the subscriptions the product needs (idempotent)."""
    if bool(sqs_arn) == bool(eventbridge):
        raise click.UsageError("give exactly one of --sqs-arn or --eventbridge ACCOUNT_ID:REGION")
    bridge = tuple(eventbridge.split(":", 1)) if eventbridge else None
    try:
        dest, subs = _patiently(_client().notifications.ensure, name, sqs_arn=sqs_arn, event_bridge=bridge)
    except SyncError as exc:
        raise click.ClickException(f"subscribe failed ({exc.kind}): {exc.message}") from None
    click.echo(f"destination {dest.name} {dest.destination_id}")
    for s in subs:
        click.echo(f"  {s.notification_type:36} {s.subscription_id} (payload {s.payload_version})")
