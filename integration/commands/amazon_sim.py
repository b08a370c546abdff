"""``slsync amazon-sim``: run the local SP-API simulator in the foreground."""

from __future__ import annotations

import click

from integration.config import LOOPBACK


@click.command("amazon-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same seller and orders.")
@click.option("--orders", default=50, show_default=True, type=int, help="Seeded orders (past 15 days + next day).")
@click.option("--time-scale", default=1.0, show_default=True, type=float,
              help="Simulated seconds per real second; rate limits scale with it (set SPAPI_TIME_SCALE alike).")
@click.option("--seller-id", default="A2SANDBOXSELLER", show_default=True)
@click.option("--marketplace", "marketplaces", multiple=True, help="Marketplace id (repeat); default ATVPDKIKX0DER.")
@click.option("--no-rate-limits", is_flag=True, help="Never answer 429 for rate (benchmarks).")
@click.option("--no-validate", is_flag=True, help="Do not check responses against the official models.")
@click.option("--fault", "faults", multiple=True, metavar="OP:KIND[:RATE]",
              help="Inject faults, e.g. getOrder:503:0.2 or *:latency:1 (kinds: 500 503 429 malformed latency hang; "
                   "forbidden: a 403 a fresh token does not cure; token refusals that expire the token presented: "
                   "expired_token denied denied_empty access_token_expired access_token_invalid "
                   "security_token_expired unauthorized_401).")
@click.option("--roles", "roles_text", metavar="ROLE,ROLE",
              help="Roles the seller granted the application (default: all), e.g. 'inventory,fulfillment,finance' "
                   "leaves out Direct-to-Consumer Delivery: orders come without the ship-to name, street and phone.")
@click.option("--notify-url", help="HTTP target that receives the EventBridge events (LISTINGS_ITEM_*), as an "
                                   "EventBridge API destination would post them.")
@click.option("--sqs-port", default=0, show_default=True, type=int,
              help="Port of the simulator's SQS service (SQS_ENDPOINT_URL), where the SQS-workflow notifications "
                   "(ORDER_CHANGE, ...) go; 0 picks a free one (printed at start), e.g. 9324.")
@click.option("--sqs-queue", "sqs_queues", multiple=True, metavar="NAME",
              help="Create this SQS queue at start (repeat), with the policy that lets Amazon write to it; its ARN "
                   "is arn:aws:sqs:us-east-1:000000000000:NAME.")
@click.option("--notify-duplicates", default=0.0, type=float, help="Share of notifications delivered twice.")
@click.option("--notify-reorder", default=0.0, type=float, help="Share of notifications delivered out of order.")
def amazon_sim(host, port, seed, orders, time_scale, seller_id, marketplaces, no_rate_limits, no_validate, faults,
               roles_text, notify_url, sqs_port, sqs_queues, notify_duplicates, notify_reorder) -> None:
    """Run the local SP-API simulator (sandbox)."""
    from integration.sandbox.amazon.faults import parse_flag
    from integration.sandbox.amazon.server import Simulator

    if host not in LOOPBACK:
        click.echo(f"warning: listening on {host}, not loopback", err=True)
    try:
        rules = [parse_flag(f) for f in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from None
    from integration.sandbox.amazon import roles  # the simulator's own names, never the product's table

    try:
        granted = None if roles_text is None else roles.parse(roles_text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--roles") from None
    sim = Simulator(seed=seed, orders=orders, time_scale=time_scale, seller_id=seller_id,
                    marketplace_ids=tuple(marketplaces) or ("ATVPDKIKX0DER",), rate_limits=not no_rate_limits,
                    validate=False if no_validate else None, faults=rules, notify_url=notify_url,
                    roles=granted)
    sim.outbox.duplicates, sim.outbox.reorder = notify_duplicates, notify_reorder
    sqs = sim.outbox.sqs.start(host, sqs_port)
    from integration.sandbox.amazon.sqs import amazon_policy

    for name in sqs_queues:
        queue = sqs.create(name)
        queue.attributes.setdefault("Policy", amazon_policy(queue.arn))   # what the seller grants Amazon
    click.echo(f"SQS on {sqs.url} (SQS_ENDPOINT_URL; queues {', '.join(sqs_queues) or 'created by CreateQueue'})")
    click.echo(f"amazon-sim listening on http://{host}:{port} (seed {seed}, {len(sim.state.orders)} orders, "
               f"time x{time_scale:g}, validation {'on' if sim.validate else 'off'})", err=False)
    if granted is not None:
        click.echo(f"roles granted: {', '.join(granted) or 'none'}")
    try:
        sim.serve_forever(host, port)
    except KeyboardInterrupt:
        pass
