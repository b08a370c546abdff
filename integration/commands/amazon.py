"""``slsync amazon``: check the SP-API credentials, set up notifications."""

from __future__ import annotations

import click

from integration.errors import SyncError


def _patiently(fn, *args, **kwargs):
    """A command is not a worker: it may wait out a short rate-limit pause (our fleet's bucket, or Amazon's 429 when
    requests bunched up in transit) instead of re-queueing."""
    import time

    from integration.errors import Transient

    for attempt in range(10):
        try:
            return fn(*args, **kwargs)
        except Transient as exc:
            throttled = exc.details.get("throttled") or exc.details.get("status") == 429
            if not throttled or attempt == 9 or (exc.retry_after or 0) > 30:
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
    """Get an LWA token, list the seller's marketplaces and infer the roles granted (exit 1 when the credentials fail).

    No API lists an application's roles: each is inferred from one call's answer (integration.amazon.role_probe).
    """
    from integration.amazon import role_probe

    client = _client()
    try:
        markets = _patiently(client.sellers.marketplaces)
    except SyncError as exc:
        raise click.ClickException(f"SP-API check failed ({exc.kind}): {exc.message}") from None
    click.echo("credentials OK; marketplaces:")
    for m in markets:
        flag = "" if m.participating else "  (not participating)"
        click.echo(f"  {m.id:16} {m.country}  {m.currency}  {m.name}{flag}")
    click.echo("roles (inferred: no Amazon API lists the roles a seller granted an application; each one is read "
               "from one call's answer or from what an order carries):")
    findings = role_probe.infer(client, call=_patiently)
    for f in findings:
        click.echo(f"  {f.role:42} {f}")
    if any(f.verdict == "missing" for f in findings):
        click.echo("a missing role is granted by the seller in Seller Central (Apps and services > Manage your apps); "
                   "orders held for want of it: slsync holds release --reason missing_field once it is granted")


@amazon.command("subscribe")
@click.option("--name", default="slsync", show_default=True,
              help="SQS destination name (the EventBridge one is NAME-eventbridge); reused when it points at the "
                   "same queue, else re-pointed.")
@click.option("--sqs-arn", metavar="ARN", help="SQS queue (Standard) for ORDER_CHANGE, FBA inventory, report and "
                                              "feed notifications: Amazon delivers these only through SQS.")
@click.option("--eventbridge", metavar="ACCOUNT_ID:REGION",
              help="EventBridge partner source for the LISTINGS_ITEM_* notifications (EventBridge only).")
@click.option("--types", metavar="TYPE,...", help="Notification types (default: the product's SQS types with "
                                                   "--sqs-arn, plus the LISTINGS_ITEM_* types with --eventbridge).")
def subscribe(name: str, sqs_arn: str | None, eventbridge: str | None, types: str | None) -> None:
    """Create the destinations and subscriptions the product needs, each type by Amazon's transport (idempotent).

    Amazon delivers ORDER_CHANGE, FBA_INVENTORY_AVAILABILITY_CHANGES, REPORT_PROCESSING_FINISHED and
    FEED_PROCESSING_FINISHED only to an SQS queue, and LISTINGS_ITEM_* only to EventBridge.
    """
    import re

    from integration.amazon.notifications import (
        FIFO_REFUSED,
        KNOWN,
        LISTINGS_SUBSCRIPTIONS,
        PRODUCT_SUBSCRIPTIONS,
        plan,
        resource_of,
    )

    if not sqs_arn and not eventbridge:
        raise click.UsageError("give --sqs-arn ARN (ORDER_CHANGE and the other SQS types) and/or --eventbridge "
                               "ACCOUNT_ID:REGION (LISTINGS_ITEM_* types)")
    if sqs_arn and sqs_arn.endswith(".fifo"):
        raise click.BadParameter(f"{sqs_arn} is a FIFO queue: {FIFO_REFUSED}", param_hint="--sqs-arn")
    if sqs_arn and not re.match(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$", sqs_arn):
        raise click.BadParameter("an SQS queue ARN is arn:aws:sqs:REGION:ACCOUNT_ID:QUEUE_NAME", param_hint="--sqs-arn")
    bridge = None
    if eventbridge:
        account, _, region = eventbridge.partition(":")
        if not re.match(r"^\d{12}$", account) or not region:
            raise click.BadParameter("ACCOUNT_ID:REGION, e.g. 123456789012:us-east-1", param_hint="--eventbridge")
        bridge = (account, region)
    if types:
        chosen = [t.strip().upper() for t in types.split(",") if t.strip()]
        unknown = [t for t in chosen if t not in KNOWN]
        if unknown:
            raise click.BadParameter(f"unknown {', '.join(unknown)}; the product subscribes to {', '.join(KNOWN)}",
                                     param_hint="--types")
        wanted = {t: KNOWN[t] for t in chosen}
    else:
        wanted = {**PRODUCT_SUBSCRIPTIONS, **(LISTINGS_SUBSCRIPTIONS if bridge else {})}
    try:
        plan(wanted, sqs_arn=sqs_arn, event_bridge=bridge)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if sqs_arn:
        warning = _queue_warning(sqs_arn)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    try:
        dests, subs = _client().notifications.ensure(name, sqs_arn=sqs_arn, event_bridge=bridge, types=wanted,
                                                     call=_patiently, say=lambda text: click.echo(f"changed: {text}"))
    except SyncError as exc:
        raise click.ClickException(f"subscribe failed ({exc.kind}): {exc.message}") from None
    for dest in dests:
        click.echo(f"destination {dest.name} {dest.destination_id} -> {resource_of(dest)}")
        for s in subs:
            if s.destination_id == dest.destination_id:
                click.echo(f"  {s.notification_type:36} {s.subscription_id} (payload {s.payload_version})")


def _queue_warning(arn: str) -> str | None:
    """Read the queue's policy first (GetQueueAttributes with this machine's AWS credentials, SQS_ENDPOINT_URL in
    the sandbox): a queue Amazon may not write to is worth a word before createDestination refuses it."""
    from integration.amazon.notifications import AMAZON_ACTIONS, AMAZON_PRINCIPAL, queue_policy_problem
    from integration.config import settings

    account, name = arn.split(":")[4], arn.split(":")[5]
    grant = (f"grant {AMAZON_PRINCIPAL} {' and '.join(AMAZON_ACTIONS)} in the queue's policy (aws sqs "
             "set-queue-attributes --attributes Policy=...; see the README)")
    try:
        import boto3
        from botocore.config import Config

        s = settings()
        client = boto3.client("sqs", region_name=arn.split(":")[3], endpoint_url=s.sqs_endpoint_url or None,
                              config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1}))
        url = client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        policy = client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    except Exception as exc:  # no credentials here, another account's queue, AWS unreachable: Amazon will say
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return f"queue {name} does not exist (or these AWS credentials cannot see it): create a Standard queue"
        return f"could not read the queue's policy ({type(exc).__name__}); make sure you {grant}"
    problem = queue_policy_problem(policy.get("Policy"), arn)
    return f"queue {name}: {problem}; {grant}" if problem else None
