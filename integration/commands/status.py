"""``slsync status``: what the integration is doing, from Redis (and, as flows arrive, from SL)."""

from __future__ import annotations

import json

import click

from integration.config import settings
from integration.guard import RateLimiter, keys, redis_client
from integration.guard.breaker import all_states

QUEUES = ("default", "amazon", "sl")
WATCHED_OPERATIONS = ("searchOrders", "getOrder", "confirmShipment", "createFeed", "getInventorySummaries",
                      "createReport", "getReportDocument")


CURSORS = ("orders.lastUpdated", "fulfillment.shippers", "orders.backfill.report")


def _from_sl(s) -> dict:
    """Holds by reason, Amazon orders per binding status (HISTORY: shipped or cancelled before go-live, nothing
    written) and the watermarks, from SL's database (durable state lives there)."""
    from collections import Counter

    from integration.sl import SLGateway

    try:
        sl = SLGateway.connect(s.sl_dsn, s.sl_cpny_id)
        try:
            holds = Counter(h.reason for h in sl.list_holds(status="OPEN"))
            cursors = {name: sl.get_cursor(name) for name in CURSORS}
            bound = sl.order_counts()
            unreconciled = sorted(k for k, v in sl.last_reconciliations().items() if v == "unreconciled")
        finally:
            sl.close()
    except Exception as exc:  # SL unreachable is itself worth showing
        return {"sl_error": f"{type(exc).__name__}: {exc}"[:200], "holds_by_reason": {}, "watermarks": {},
                "orders_by_status": {}, "unreconciled_settlements": []}
    return {"holds_by_reason": dict(holds), "watermarks": cursors, "orders_by_status": bound,
            "unreconciled_settlements": unreconciled}


def collect() -> dict:
    """Gather the status as plain data (the table and ``--json`` both print this)."""
    s = settings()
    r = redis_client()
    limiter = RateLimiter(r, s.seller_id)
    failed = {}
    for k in r.scan_iter(match=keys.failed("*"), count=100):
        failed[k.split(":", 2)[2]] = [json.loads(x) for x in r.lrange(k, 0, 4)]
    return {
        **_from_sl(s),
        "go_live": s.go_live.isoformat() if s.go_live else None,
        "queues": {q: r.llen(q) for q in QUEUES},
        # "amazon" is the worst of its families; then each family (amazon.orders, amazon.shipments ...) and "sl"
        "breakers": all_states(r),
        "rate_tokens": {op: round(limiter.tokens(op), 2) for op in WATCHED_OPERATIONS},
        "heartbeat": r.get(keys.HEARTBEAT),
        "last_success": {k.rsplit(":", 1)[1]: r.get(k) for k in r.scan_iter(match=keys.last_success("*"))},
        "recent_failures": failed,
        "client_secret": _client_secret(s),
    }


def _client_secret(s) -> dict:
    """Days until the LWA client secret expires (LWA_CLIENT_SECRET_EXPIRES; secrets last 180 days)."""
    from integration.amazon.auth import SECRET_WARN_DAYS, secret_days_left

    left = secret_days_left(s)
    if left is None:
        return {"expires": None, "days_left": None, "note": "LWA_CLIENT_SECRET_EXPIRES not set"}
    note = "expired: calls to Amazon fail" if left < 0 else ("rotate it now" if left <= SECRET_WARN_DAYS else "ok")
    return {"expires": s.lwa_client_secret_expires.isoformat(), "days_left": left, "note": note}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def status(as_json: bool) -> None:
    """Holds, Amazon orders per SL state (history included), queues, breakers, rate-limit tokens, heartbeat,
    failures and the days the LWA client secret has left."""
    data = collect()
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title="slsync status", show_header=True)
    t.add_column("area")
    t.add_column("name")
    t.add_column("value", justify="right")
    if data.get("sl_error"):
        t.add_row("SL", "unreachable", data["sl_error"])
    for reason, n in sorted(data["holds_by_reason"].items()):
        t.add_row("holds", reason, str(n))
    t.add_row("go-live", "GO_LIVE", data["go_live"] or "not set")
    for name, n in sorted(data["orders_by_status"].items()):
        t.add_row("orders", name or "-", str(n))
    unreconciled = data.get("unreconciled_settlements", [])
    t.add_row("settlements", "unreconciled", f"{len(unreconciled)}" + (f" ({', '.join(unreconciled[:5])})"
                                                                        if unreconciled else ""))
    for name, value in data["watermarks"].items():
        t.add_row("watermark", name, value or "-")
    for q, n in data["queues"].items():
        t.add_row("queue", q, str(n))
    for name, state in data["breakers"].items():
        t.add_row("breaker", name, state)
    for op, tokens in data["rate_tokens"].items():
        t.add_row("rate tokens", op, f"{tokens:g}")
    t.add_row("beat", "last heartbeat", data["heartbeat"] or "never")
    secret = data["client_secret"]
    t.add_row("LWA client secret", f"expires {secret['expires']}" if secret["expires"] else "expiry",
              f"{secret['days_left']} days left ({secret['note']})" if secret["expires"] else secret["note"])
    for flow, at in sorted(data["last_success"].items()):
        t.add_row("last success", flow, at or "-")
    for task, entries in data["recent_failures"].items():
        t.add_row("failed", task, f"{len(entries)} recent; last: {entries[0]['error'].get('message', '')}"[:60])
    console.print(t)
