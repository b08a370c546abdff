"""``slsync sandbox`` / ``make demo``: the whole sync on the embedded sandbox, watched live, ending by itself.

What runs: the SP-API simulator (in this process, on 127.0.0.1) producing orders over a few simulated days and
announcing them as Amazon does: ORDER_CHANGE (and the other SQS-workflow types) into an SQS queue the simulator
serves, LISTINGS_ITEM_* as EventBridge events (the demo changes a few MFN quantities to cause some), at least once:
some duplicated, some out of order [reference sp-api.md §6.1]; the SL sandbox database (``.sandbox/sl.db``, made
anew); a Celery worker, beat, the SQS poller and the HTTP receiver (subprocesses, the same commands a deployment
runs; the polling sweep stays on as the net); and the sandbox
warehouse, which ships the SL orders that are open (some in two
parcels) so their shipments flow back to Amazon. When nothing has changed for a while after the simulated
days are over, everything is stopped and a report is written beside the database.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import requests

from integration.errors import NeedsReview


@dataclass
class DemoConfig:
    orders: int = 200
    seed: int = 7
    days: float = 3.0            # simulated days of trading
    minutes: float = 2.0         # real minutes those days take
    directory: str = ".sandbox"
    settle_checks: int = 6       # unchanged summaries in a row that mean "settled"
    timeout_minutes: float = 12.0
    partial_share: float = 0.2   # share of shipped orders that go in two parcels

    @property
    def time_scale(self) -> float:
        return self.days * 86400 / (self.minutes * 60)


@dataclass
class Summary:
    sim_now: str = ""
    amazon: Counter = field(default_factory=Counter)
    sl: Counter = field(default_factory=Counter)
    holds: Counter = field(default_factory=Counter)
    confirmations: int = 0
    queued: int = 0
    shippers: int = 0
    unaccounted: list = field(default_factory=list)   # Amazon orders neither in SL, nor held, nor rightly left out
    received: dict = field(default_factory=dict)      # notifications: {"sqs"|"http": {"TYPE:outcome": count}}

    def key(self) -> tuple:
        return (tuple(sorted(self.amazon.items())), tuple(sorted(self.sl.items())), tuple(sorted(self.holds.items())),
                self.confirmations, self.shippers, tuple(self.unaccounted))

    def as_dict(self) -> dict:
        return {"simulated_now": self.sim_now, "orders_at_amazon": dict(self.amazon),
                "sales_orders_in_sl": dict(self.sl), "holds_by_reason": dict(self.holds),
                "shipments_confirmed_at_amazon": self.confirmations, "sl_shippers": self.shippers,
                "tasks_queued": self.queued, "orders_unaccounted": list(self.unaccounted),
                "notifications_received": {"sqs": dict(self.received.get("sqs", {})),
                                           "eventbridge_http": dict(self.received.get("http", {}))}}


class Warehouse:
    """The sandbox plays SL's warehouse: it ships open MFN orders (a share in two parcels)."""

    def __init__(self, sl, mapping, seed: int, partial_share: float):
        self.sl, self.afn_site = sl, mapping.site_for("AFN")
        self.rnd = random.Random(f"warehouse:{seed}")
        self.partial_share = partial_share
        self.first_parcel: set[str] = set()
        self.done: set[str] = set()
        self.shippers = 0

    def work(self) -> None:
        from integration.sandbox import sl_seed

        for binding in self.sl.order_bindings("OPEN"):
            ord_nbr = binding.ord_nbr
            if ord_nbr in self.done:
                continue
            head = self.sl.sales_order(ord_nbr)
            if head is None or head["ShipSiteID"] == self.afn_site or head["Cancelled"]:
                self.done.add(ord_nbr)
                continue
            lines = head["lines"]
            if ord_nbr not in self.first_parcel and self.rnd.random() < self.partial_share and (
                    len(lines) > 1 or lines[0]["QtyOrd"] > 1):
                first = {lines[0]["LineRef"]: Decimal(max(1, int(lines[0]["QtyOrd"]) // 2))}
                self._ship(sl_seed, ord_nbr, first, head)
                self.first_parcel.add(ord_nbr)
                continue
            shipped = Counter()
            for shipper in self.sl.shippers_for_order(ord_nbr):
                for line in shipper.lines:
                    shipped[line.ord_line_ref] += line.qty
            rest = {ln["LineRef"]: Decimal(str(ln["QtyOrd"])) - shipped[ln["LineRef"]] for ln in lines}
            rest = {k: v for k, v in rest.items() if v > 0}
            if rest:
                self._ship(sl_seed, ord_nbr, rest, head)
            self.done.add(ord_nbr)

    def _ship(self, sl_seed, ord_nbr, quantities, head) -> None:

        try:
            sl_seed.ship_order(self.sl, ord_nbr, quantities=quantities, ship_via_id=head["ShipViaID"].strip())
            self.shippers += 1
        except NeedsReview:  # cancelled meanwhile
            self.done.add(ord_nbr)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


QUEUE, DEAD_LETTERS = "slsync-demo-notifications", "slsync-demo-notifications-dlq"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox", "SQS_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}  # never ~/.aws, never AWS


def _queues(endpoint: str) -> tuple[str, str, str]:
    """What a seller does in AWS first: a Standard queue with a dead-letter queue (the simulator's SQS here), and
    the queue policy that lets Amazon write to it (``aws sqs set-queue-attributes``; without it Amazon's
    createDestination refuses the queue [reference sp-api.md §6.1]).

    Returns (queue URL, its ARN, dead-letter queue URL).
    """
    import boto3

    from integration.sandbox.amazon.sqs import amazon_policy

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    dlq = sqs.create_queue(QueueName=DEAD_LETTERS)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=QUEUE, Attributes={
        "VisibilityTimeout": "10", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 10})})[
        "QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": amazon_policy(arn)})
    return url, arn, dlq


def _subscribe(env: dict, sim_url: str, arn: str, target: str, api_key: str) -> None:
    """What `slsync amazon subscribe --sqs-arn ARN --eventbridge ACCOUNT:REGION` does, then point the simulated
    EventBridge API destination at the receiver."""
    from integration.amazon import AmazonClient
    from integration.commands.amazon import _patiently
    from integration.config import load_settings

    s = load_settings(env)
    AmazonClient.from_settings(s).notifications.ensure("slsync-demo", sqs_arn=arn,
                                                       event_bridge=("123456789012", "us-east-1"), call=_patiently)
    requests.post(f"{sim_url}/_sandbox/notifications", json={"target": target, "duplicates": 0.1, "reorder": 0.1,
                                                              "api_key": api_key}, timeout=10).raise_for_status()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the receiver answers once it is up
        try:
            if requests.get(target.rsplit("/", 1)[0] + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("the notification receiver did not come up")


def _restock(env: dict, sim_url: str, seed: int) -> list[str]:
    """The seller changes a few MFN quantities (one to zero): Amazon answers with LISTINGS_ITEM_* events."""
    from integration.amazon import AmazonClient
    from integration.commands.amazon import _patiently
    from integration.config import load_settings

    listings = AmazonClient.from_settings(load_settings(env)).listings
    stock = requests.get(f"{sim_url}/_sandbox/listings", timeout=10).json()["listings"]
    mfn = sorted(sku for sku, x in stock.items() if x["quantity"])   # MFN listings in stock (AFN ones have none)
    chosen = random.Random(f"restock:{seed}").sample(mfn, k=min(3, len(mfn)))
    for n, sku in enumerate(chosen):
        _patiently(listings.set_quantity, sku, 0 if n == 0 else 40 + n)
    return chosen


def _clean_redis(r) -> None:
    """Sandbox only: forget queued work and our keys from an earlier demo run."""
    for pattern in ("slsync:*", "_kombu.*", "unacked*"):
        for k in r.scan_iter(match=pattern, count=500):
            r.delete(k)
    r.delete("default", "amazon", "sl", "celery")


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "integration.cli", *args], env=env, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def summarize(sim_url: str, sl, r, warehouse: Warehouse, mapping, guard=None) -> Summary:
    from integration.guard import keys

    s = Summary()
    for field_name, n in (guard or r).hgetall(keys.intake_received()).items():   # source:TYPE:outcome
        source, _, kind = (field_name.decode() if isinstance(field_name, bytes) else field_name).partition(":")
        s.received.setdefault(source, {})[kind] = int(n)
    s.sim_now = requests.get(f"{sim_url}/_sandbox/clock", timeout=10).json()["now"]
    amazon = requests.get(f"{sim_url}/_sandbox/orders", timeout=10).json()["orders"]
    bound = set()
    for b in sl.order_bindings():
        s.sl[b.sl_status or "OPEN"] += 1
        bound.add(b.amazon_order_id)
    held = set()
    for h in sl.list_holds(status="OPEN"):
        s.holds[h.reason] += 1
        held.add(h.key)
    for order in amazon:
        s.amazon[f"{order['status']} {order['channel']}"] += 1
        if order["orderId"] not in bound | held and not _left_out(mapping, order):
            s.unaccounted.append(order["orderId"])
    s.confirmations = len(requests.get(f"{sim_url}/_sandbox/shipment-confirmations", timeout=10)
                          .json()["confirmations"])
    # queued, or held by a worker (running, or waiting on a retry's countdown): not settled while any remain
    s.queued = sum(r.llen(q) for q in ("default", "amazon", "sl")) + r.hlen("unacked")
    s.shippers = warehouse.shippers
    return s


def _left_out(mapping, order: dict) -> bool:
    """The status table writes nothing for this order as it stands (pending, or cancelled before SL knew it)."""
    try:
        return mapping.action_for(order["status"], order["channel"], sl_state="none") in ("wait", "skip")
    except NeedsReview:
        return False


def _table(s: Summary, cfg: DemoConfig):
    from rich.table import Table

    t = Table(title=f"sl-amazon-sync sandbox — simulated time {s.sim_now}", show_header=True)
    t.add_column("where")
    t.add_column("what")
    t.add_column("count", justify="right")
    for k, v in sorted(s.amazon.items()):
        t.add_row("Amazon", f"orders {k}", str(v))
    for k, v in sorted(s.sl.items()):
        t.add_row("SL", f"sales orders {k}", str(v))
    t.add_row("SL", "shippers (sandbox warehouse)", str(s.shippers))
    for k, v in sorted(s.holds.items()):
        t.add_row("review", f"holds: {k}", str(v))
    t.add_row("Amazon", "shipments confirmed", str(s.confirmations))
    for source, label in (("sqs", "by SQS (poller)"), ("http", "by EventBridge (receiver)")):
        for kind, n in sorted(s.received.get(source, {}).items()):   # TYPE:outcome (enqueued, duplicate, held...)
            t.add_row("intake", f"{label}: {kind}", str(n))
    t.add_row("Redis", "tasks queued", str(s.queued))
    return t


NEXT = """Next:
  .venv/bin/slsync holds list                 what is waiting for a person, and why
  .venv/bin/slsync holds show <id>            one hold with the payload kept with it
  .venv/bin/slsync status                     queues, breakers, rate-limit tokens, last successes
  SL_DSN=sqlite:///{db} .venv/bin/slsync holds list
  make worker / make beat / make flower       run the pieces yourself (Flower: http://127.0.0.1:5555)
  sqlite3 {db} 'select * from xAMZEvent limit 20'"""


def run_demo(cfg: DemoConfig, console=None) -> dict:
    """Run the sandbox end to end; returns the final summary (also written to <directory>/report.json)."""
    from rich.console import Console
    from rich.live import Live

    from integration.config import settings
    from integration.guard import redis_client
    from integration.mapping import load_mapping
    from integration.sandbox import sl_seed
    from integration.sandbox.amazon import Simulator
    from integration.sl import SLGateway, verify

    console = console or Console()
    base = Path(cfg.directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    db = base / "sl.db"
    for stale in (db, base / "report.json", base / "report.txt"):
        stale.unlink(missing_ok=True)
    dsn = f"sqlite:///{db}"
    console.print(f"[bold]SL sandbox database[/bold] {db}: seeding the demo company ...")
    sl_seed.seed(dsn, seed=cfg.seed)
    sim = Simulator(seed=cfg.seed, orders=cfg.orders, time_scale=cfg.time_scale, history_days=0.25,
                    future_days=cfg.days).start()
    sqs_url = sim.outbox.sqs.start().url
    console.print(f"[bold]SP-API simulator[/bold] {sim.url} ({cfg.orders} orders over {cfg.days:g} simulated days, "
                  f"time x{cfg.time_scale:g})")
    s = settings()
    r = redis_client(s.redis_url)
    broker = redis_client(s.broker_url)   # the queues live here (the same database unless BROKER_URL says otherwise)
    for client in {s.redis_url: r, s.broker_url: broker}.values():
        _clean_redis(client)
    env = {**os.environ, "SLSYNC_SANDBOX": "true", "SPAPI_ENDPOINT": sim.url, "LWA_TOKEN_URL": f"{sim.url}/auth/o2/token",
           "SPAPI_TIME_SCALE": repr(cfg.time_scale), "SL_DSN": dsn, "REDIS_URL": s.redis_url, "BROKER_URL": s.broker_url,
           "ORDERS_SWEEP_SECONDS": "15", "FULFILLMENT_SWEEP_SECONDS": "3", "BEAT_HEARTBEAT_SECONDS": "10",
           "SETTLEMENTS_POLL_SECONDS": "20", "SETTLEMENTS_DIR": str(base / "settlements"),
           "SLSYNC_ENV_FILE": os.environ.get("SLSYNC_ENV_FILE", "/nonexistent/.env"), "SQS_ENDPOINT_URL": sqs_url,
           **AWS_ENV}
    api_key = secrets.token_urlsafe(24)
    port = _free_port()
    env["INTAKE_API_KEY"] = api_key
    worker = _start(["worker", "-Q", "default,amazon,sl", "-c", "2", "-l", "INFO"], env, base / "worker.log")
    beat = _start(["beat", "-l", "INFO"], env, base / "beat.log")
    receiver = _start(["intake", "serve", "--host", "127.0.0.1", "--port", str(port)], env, base / "intake.log")
    queue_url, queue_arn, dead_letters = _queues(sqs_url)
    poller = _start(["intake", "sqs", "--queue-url", queue_url, "--wait-seconds", "5", "--dead-letter-url",
                     dead_letters], env, base / "intake-sqs.log")
    _subscribe(env, sim.url, queue_arn, f"http://127.0.0.1:{port}/notifications", api_key)
    restocked = _restock(env, sim.url, cfg.seed)
    console.print(f"[bold]notifications[/bold] ORDER_CHANGE, FBA, reports, feeds -> SQS {queue_url} (slsync intake "
                  f"sqs); LISTINGS_ITEM_* -> EventBridge -> http://127.0.0.1:{port}/notifications (quantities "
                  f"changed for {', '.join(restocked)}); at least once, some duplicated or out of order; the sweep "
                  "is the net")
    sl = SLGateway.connect(dsn, s.sl_cpny_id)
    mapping = load_mapping(s.mapping_file or None)
    warehouse = Warehouse(sl, mapping, cfg.seed, cfg.partial_share)
    end_of_trading = sim.clock.start + timedelta(days=cfg.days + 0.5)
    deadline = time.monotonic() + cfg.timeout_minutes * 60
    unchanged, last, summary = 0, None, Summary()
    try:
        with Live(console=console, refresh_per_second=2) as live:
            while time.monotonic() < deadline:
                time.sleep(1.0)
                if any(p.poll() is not None for p in (worker, beat, receiver, poller)):
                    raise RuntimeError(f"the worker, beat, receiver or SQS poller stopped; see the logs in {base}")
                warehouse.work()
                summary = summarize(sim.url, sl, broker, warehouse, mapping, guard=r)
                live.update(_table(summary, cfg))
                past = sim.clock.now() >= end_of_trading
                unchanged = unchanged + 1 if (past and summary.key() == last and summary.queued == 0) else 0
                last = summary.key()
                if unchanged >= cfg.settle_checks:
                    break
            else:
                console.print("[yellow]stopped at the time limit before everything settled[/yellow]")
        console.print("[bold]settlements[/bold] polling Amazon's settlement reports, posting each to SL's GL ...")
        settled = settle(env)
    finally:
        _stop(poller)
        _stop(receiver)
        _stop(beat)
        _stop(worker)
        sim.stop()
        sl.close()
    report = {**summary.as_dict(), "database": str(db), "orders_requested": cfg.orders,
              "simulated_days": cfg.days, "time_scale": cfg.time_scale,
              "notifications_sent_by_amazon": sim.outbox.counts(),   # delivered / undeliverable per transport:type
              "settlements": settled}
    checked = _verify(dsn, s.sl_cpny_id, mapping)   # what `slsync db verify` says of the sandbox now
    report["verify"] = [r.as_dict() for r in checked]
    (base / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (base / "report.txt").write_text(_text_report(report))
    print(_text_report(report))
    print(NEXT.format(db=db))
    print(f"slsync db verify --dsn sqlite:///{db}")
    print("\n".join(verify.report_lines(checked)))
    return report


def settle(env: dict, timeout: float = 90.0) -> list[dict]:
    """The settlements flow at the end of the demo: every settlement report Amazon lists is imported (beat's poll
    already handed most to the worker; what is left is polled and imported here, the same functions the tasks run)
    and each settlement is reported: its GL batches, whether each balances, whether it reconciles with SL."""
    from integration.amazon.reports import SETTLEMENT
    from integration.config import load_settings
    from integration.errors import SyncError
    from integration.settlements import flow
    from integration.sync.context import build_context

    ctx = build_context(load_settings(env))
    try:
        while not (run := flow.poll(ctx)).done:
            time.sleep(min(run.retry_after, 5.0))
        listed = [rep.report_id for rep in ctx.amazon.reports.list([SETTLEMENT], statuses=["DONE"])]
        deadline = time.monotonic() + timeout
        while (left := [rid for rid in listed if not flow.imported(ctx, rid)]) and time.monotonic() < deadline:
            for rid in left:   # the worker may hold one right now: its lease makes this wait, not post twice
                try:
                    flow.import_report(ctx, rid, attempt=ctx.settings.settlement_attempts)
                except SyncError:
                    time.sleep(0.5)
        return [_settlement_line(ctx, s) for s in flow.known(ctx)]
    finally:
        ctx.sl.close()


def _settlement_line(ctx, known: dict) -> dict:
    sid = known["settlement_id"]
    batches = ctx.sl.settlement_batches(sid) if known["status"] == "POSTED" else []
    return {"settlement_id": sid, "report_id": known.get("report_id", ""), "currency": known.get("currency", ""),
            "total": known.get("total", ""), "start": known.get("start"), "end": known.get("end"),
            "status": known["status"], "holds": [h["reason"] for h in known["holds"]],
            "batches": [{"bat_nbr": b["bat_nbr"], "period": b["period"], "debit": str(b["debit"]),
                         "credit": str(b["credit"])} for b in batches],
            "balanced": bool(batches) and all(b["debit"] == b["credit"] for b in batches),
            "reconciled": _reconciled(ctx, known)}


def _reconciled(ctx, known: dict) -> bool | None:
    """Reconcile a posted settlement with SL's orders, invoices and credit memos (recorded for `slsync status`);
    None when it cannot be (not posted, its file gone)."""
    from integration.settlements.parse import open_settlement
    from integration.settlements.reconcile import reconcile, record

    path = known.get("path") or ""
    if known["status"] != "POSTED" or not Path(path).exists():
        return None
    sf = open_settlement(path, report_id=known.get("report_id", ""))
    result = reconcile(ctx, sf.header, sf.rows)
    record(ctx.sl, result)
    return result.ok


def _verify(dsn: str, cpny_id: str, mapping) -> list:
    """The integrity rules of ``slsync db verify`` on the sandbox database (read-only)."""
    from integration.sl import verify as checks
    from integration.sl.db import Database

    target = Database(dsn, breaker=None)
    try:
        ghost = (mapping.data.get("sku") or {}).get("ghost_item") or ""
        return checks.verify(target, cpny_id, ghost_items=(ghost,) if ghost else ())
    finally:
        target.close()


def _text_report(report: dict) -> str:
    lines = ["sl-amazon-sync sandbox report", f"database: {report['database']}",
             f"simulated until: {report['simulated_now']}", "orders at Amazon:"]
    lines += [f"  {k:24} {v}" for k, v in sorted(report["orders_at_amazon"].items())]
    lines += ["sales orders in SL:"] + [f"  {k:24} {v}" for k, v in sorted(report["sales_orders_in_sl"].items())]
    lines += ["holds by reason:"] + [f"  {k:24} {v}" for k, v in sorted(report["holds_by_reason"].items())]
    lines += [f"SL shippers: {report['sl_shippers']}",
              f"shipments confirmed at Amazon: {report['shipments_confirmed_at_amazon']}",
              f"orders unaccounted for (not in SL, not held): {len(report['orders_unaccounted'])}"]
    lines += [f"  {oid}" for oid in report["orders_unaccounted"]]
    for source, label in (("sqs", "by SQS (slsync intake sqs)"), ("eventbridge_http", "by EventBridge (receiver)")):
        got = report["notifications_received"][source]   # TYPE:outcome -> count
        lines += [f"notifications {label}: {sum(got.values())}"] + [f"  {k:44} {v}" for k, v in sorted(got.items())]
    settlements = report.get("settlements", [])
    lines += [f"settlements: {len(settlements)}, posted {sum(s['status'] == 'POSTED' for s in settlements)}, "
              f"balanced {sum(s['balanced'] for s in settlements)}, "
              f"reconciled {sum(s['reconciled'] is True for s in settlements)}"]
    for s in settlements:
        batches = ", ".join(f"{b['bat_nbr']} ({b['period']}) Dr {b['debit']} = Cr {b['credit']}" for b in s["batches"])
        lines += [f"  {s['settlement_id']:14} {s['total']:>11} {s['currency']:4} {s['status']:9} "
                  f"{'balanced' if s['balanced'] else 'NOT balanced'}, "
                  f"{ {True: 'reconciled', False: 'NOT reconciled', None: 'not reconciled'}[s['reconciled']] }"
                  f"{'; batches ' + batches if batches else ''}{'; held ' + ', '.join(s['holds']) if s['holds'] else ''}"]
    sent = report.get("notifications_sent_by_amazon", {})
    lines += ["notifications Amazon could not deliver: " + str(sum(sent.get("undeliverable", {}).values()))]
    lines += [f"  {k:44} {v}" for k, v in sorted(sent.get("undeliverable", {}).items())]
    return "\n".join(lines) + "\n"
