"""The simulator's HTTP server: routing, authentication, rate limits, faults and response validation.

``Simulator(seed=1, orders=50, time_scale=60).start(port=0)`` runs it in a thread (``sim.url``, ``sim.stop()``);
``slsync amazon-sim`` runs it in the foreground.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from integration.config import DEFAULT_MODELS_DIR
from integration.sandbox.amazon import (
    documents,
    fba,
    feeds,
    listings,
    lwa,
    notifications,
    orders_api,
    reports,
    sandbox_api,
    sellers,
)
from integration.sandbox.amazon import orders as orders_mod
from integration.sandbox.amazon.faults import FORBIDDEN, TOKEN_REFUSALS, Faults
from integration.sandbox.amazon.limits import QUOTA_EXCEEDED, Buckets, simulator_plans
from integration.sandbox.amazon.models import Models
from integration.sandbox.amazon.state import SellerState, SimClock
from integration.sandbox.amazon.wire import ApiError, Reply, Req, error_body

log = logging.getLogger("slsync.sandbox.amazon")


P = r"(?P<%s>[^/]+)"
ROUTES = [(m, re.compile("^" + (path % tuple(P % n for n in re.findall(r"\{(\w+)\}", raw))) + "$"), op, fn)
          for m, raw, op, fn in [
    ("GET", "/orders/2026-01-01/orders", "searchOrders", orders_api.search_orders),
    ("GET", "/orders/2026-01-01/orders/{orderId}", "getOrder", orders_api.get_order),
    ("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation", "confirmShipment", orders_api.confirm_shipment),
    ("POST", "/reports/2021-06-30/reports", "createReport", reports.create_report),
    ("GET", "/reports/2021-06-30/reports", "getReports", reports.get_reports),
    ("GET", "/reports/2021-06-30/reports/{reportId}", "getReport", reports.get_report),
    ("DELETE", "/reports/2021-06-30/reports/{reportId}", "cancelReport", reports.cancel_report),
    ("GET", "/reports/2021-06-30/documents/{reportDocumentId}", "getReportDocument", reports.get_report_document),
    ("POST", "/feeds/2021-06-30/documents", "createFeedDocument", feeds.create_feed_document),
    ("POST", "/feeds/2021-06-30/feeds", "createFeed", feeds.create_feed),
    ("GET", "/feeds/2021-06-30/feeds/{feedId}", "getFeed", feeds.get_feed),
    ("GET", "/feeds/2021-06-30/documents/{feedDocumentId}", "getFeedDocument", feeds.get_feed_document),
    ("GET", "/listings/2021-08-01/items/{sellerId}/{sku}", "getListingsItem", listings.get_listings_item),
    ("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}", "patchListingsItem", listings.patch_listings_item),
    ("GET", "/fba/inventory/v1/summaries", "getInventorySummaries", fba.get_inventory_summaries),
    ("GET", "/notifications/v1/destinations", "getDestinations", notifications.get_destinations),
    ("POST", "/notifications/v1/destinations", "createDestination", notifications.create_destination),
    ("DELETE", "/notifications/v1/destinations/{destinationId}", "deleteDestination", notifications.delete_destination),
    ("GET", "/notifications/v1/subscriptions/{notificationType}", "getSubscription", notifications.get_subscription),
    ("POST", "/notifications/v1/subscriptions/{notificationType}", "createSubscription",
     notifications.create_subscription),
    ("DELETE", "/notifications/v1/subscriptions/{notificationType}/{subscriptionId}", "deleteSubscriptionById",
     notifications.delete_subscription),
    ("GET", "/sellers/v1/marketplaceParticipations", "getMarketplaceParticipations",
     sellers.get_marketplace_participations),
] for path in [re.sub(r"\{\w+\}", "%s", raw)]]
# Called with a grantless (client_credentials) token, and refused with a seller's: the operations whose
# description in notifications.json says "grantless" [reference §2.4]; every other one wants the seller's token.
GRANTLESS = {"getDestinations", "createDestination", "deleteDestination", "deleteSubscriptionById"}
DOWNLOAD = "downloadDocument"   # a report or feed document fetched from its presigned URL (not an SP-API operation)


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.requests: Counter = Counter()
        self.statuses: Counter = Counter()

    def count(self, op: str, status: int) -> None:
        with self._lock:
            self.requests[op] += 1
            self.statuses[(op, status)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            per_op = {op: {"count": n, "throttled": self.statuses[(op, 429)],
                           "statuses": {str(s): c for (o, s), c in self.statuses.items() if o == op}}
                      for op, n in self.requests.items()}
        return {"operations": per_op, "total": sum(self.requests.values()),
                "throttled": sum(v["throttled"] for v in per_op.values())}


class Simulator:
    """One simulated seller behind a real HTTP server on loopback."""

    def __init__(self, *, seed: int = 1, orders: int = 50, time_scale: float = 1.0, seller_id: str = "A2SANDBOXSELLER",
                 marketplace_ids: tuple[str, ...] = ("ATVPDKIKX0DER",), rate_limits: bool = True,
                 validate: bool | None = None, faults: list[dict] | None = None, client_id: str = "sandbox-client",
                 client_secret: str = "sandbox-secret", refresh_token: str = "Atzr|sandbox-refresh-token",
                 notify_url: str | None = None, models_dir: str | None = None,
                 history_days: float = 15.0, future_days: float = 1.0, roles=None):
        self.clock = SimClock(time_scale)
        # roles: what the seller granted the application (default all; see integration.sandbox.amazon.roles)
        self.state = SellerState(seed=seed, clock=self.clock, seller_id=seller_id,
                                 marketplace_ids=tuple(marketplace_ids), **({} if roles is None else {"roles": roles}))
        # The seller's starting data, in this order (the steps share the state's seeded random numbers).
        listings.seed_listings(self.state)
        fba.seed_inventory(self.state)
        orders_mod.seed_orders(self.state, orders, history_days=history_days, future_days=future_days)
        reports.seed_settlements(self.state)
        self.models = Models.find(models_dir)
        self.state.models = self.models
        self.validate = bool(self.models) if validate is None else (validate and bool(self.models))
        self.violations: list[str] = []
        # Its own rate table, from the Usage Plans in the models (the shipped ones when none are configured)
        self.buckets = Buckets(time_scale, enabled=rate_limits,
                               plans=simulator_plans(self.models or Models(DEFAULT_MODELS_DIR)))
        self.faults = Faults(seed, faults)
        self.stats = Stats()
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.outbox = notifications.Outbox(self, seed)
        self.outbox.target = notify_url
        self.state.outbox = self.outbox
        self.state.tick()
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="amazon-sim", daemon=True).start()
        return self

    def serve_forever(self, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._server.serve_forever()

    def stop(self) -> None:
        self.outbox.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- the pipeline every API call goes through ------------------------------------------------------------

    def dispatch(self, req: Req) -> Reply:
        if req.path == "/auth/o2/token" and req.method == "POST":
            return lwa.token(self, req)
        if req.path.startswith("/_sandbox/"):
            return sandbox_api.handle(self, req)
        if req.path.startswith("/_docs/"):
            return self._document(req)
        for method, pattern, op, fn in ROUTES:
            match = pattern.match(req.path)
            if match and method == req.method:
                req.args = {k: unquote(v) for k, v in match.groupdict().items()}
                reply = self._call(op, fn, req)
                self.stats.count(op, reply.status)
                return reply
        return Reply(404, error_body("NotFound", f"No operation at {req.method} {req.path}"))

    def _call(self, op: str, fn, req: Req) -> Reply:
        for rule in self.faults.pick(op, lambda rule: rule["kind"] != "unauthorized_401" or lwa.declares(self, op, 401)):
            reply = self._fault(op, rule, req)
            if reply is not None:
                return self._checked(op, reply)
        with self.state.lock:
            refused = lwa.check(self, req.headers.get("x-amz-access-token"), op)
        if refused is not None:
            return self._checked(op, refused)
        if self._wrong_token_kind(op, req):
            return self._checked(op, Reply(403, error_body("Unauthorized", "Access to requested resource is denied.")))
        with self.state.lock:   # a role the seller did not grant (for reports and feeds: the type's role): the
            missing = self.state.missing_role(op, req)   # same 403, a new token won't cure it
        if missing:
            return self._checked(op, Reply(403, error_body("Unauthorized", "Access to requested resource is denied.")))
        if not self.buckets.take(op):
            return self._checked(op, Reply(429, QUOTA_EXCEEDED))
        try:
            invalid = self._invalid_request(op, req)
            with self.state.lock:
                self.state.tick()
                reply = invalid or fn(self, req)
        except ApiError as exc:
            reply = exc.reply()
        if self.buckets.enabled and reply.status in (200, 201, 202, 204, 400, 404):
            reply.headers.setdefault("x-amzn-RateLimit-Limit", self.buckets.header(op))
        return self._checked(op, reply)

    def _wrong_token_kind(self, op: str, req: Req) -> bool:
        """A grantless operation called with a seller's token, or a seller operation with a grantless one: Amazon
        answers 403 Unauthorized with no details [reference §2.4]."""
        with self.state.lock:
            entry = self.state.tokens.get(req.headers.get("x-amz-access-token"))
        kind = entry[1] if entry and len(entry) > 1 else "seller"
        return (op in GRANTLESS) != (kind == "grantless")

    def _invalid_request(self, op: str, req: Req) -> Reply | None:
        """Amazon's 400 for a request its operation's model refuses (None when it conforms or models are off)."""
        if not self.validate:
            return None
        problems = self.models.validate_request(op, req.args, req.params, req.body)
        if not problems:
            return None
        log.info("%s refused as Amazon would (400): %s", op, "; ".join(problems)[:500])
        code, message = self.models.invalid_input(op)
        return Reply(400, {"errors": [{"code": code, "message": message, "details": p} for p in problems]})

    def _fault(self, op: str, rule: dict, req: Req) -> Reply | None:
        """An injected fault's reply (None for latency and hangs, which only delay the real answer).

        A token fault expires the token ``req`` presented (``faults.TOKEN_REFUSALS``): this call and every later one
        with that token get the refusal (``lwa.check``), the token fetched in its place works.
        """
        kind = rule["kind"]
        if kind in TOKEN_REFUSALS:
            if kind == "unauthorized_401" and not lwa.declares(self, op, 401):
                self.faults.give_back(rule)   # only where the model declares a 401 (reports, feeds, confirmShipment)
                return None
            with self.state.lock:
                expired = self.faults.expire(req.headers.get("x-amz-access-token"), kind, self.state.now())
            if expired is None:
                self.faults.give_back(rule)
                return None
            return lwa.refusal(self, op, expired)
        if kind == "forbidden":   # a permission never granted: the same words, and a fresh token does not help
            return lwa.refusal(self, op, FORBIDDEN)
        if kind == "latency":
            time.sleep(self.faults.latency(rule))
        elif kind == "hang":
            time.sleep(float(rule.get("seconds", 30)))
        elif kind == "500":
            return Reply(500, error_body("InternalFailure", "We encountered an internal error. Please try again."))
        elif kind == "503":
            return Reply(503, error_body("ServiceUnavailable", "Service Unavailable"))
        elif kind == "429":
            return Reply(429, QUOTA_EXCEEDED)
        elif kind == "malformed":  # a truncated body, as a proxy cutting the connection would leave
            return Reply(200, b'{"orders": [{"orderId": "111-', headers={"x-amzn-RateLimit-Limit": self.buckets.header(op)})
        return None

    def _checked(self, op: str, reply: Reply) -> Reply:
        if self.validate and isinstance(reply.body, (dict, list, type(None))):
            problems = self.models.validate_response(op, reply.status, reply.body)
            if problems:
                log.error("response does not conform: %s", problems)
                self.violations.extend(problems)
        return reply

    def _document(self, req: Req) -> Reply:
        _, _, action, doc_id = req.path.split("/", 3)
        doc = self.state.documents.get(doc_id)
        if doc is None:
            return Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        if documents.expired(self, req):
            return Reply(403, documents.S3_EXPIRED, content_type="application/xml")
        if action == "upload" and req.method == "PUT":
            if req.headers.get("content-type") != doc["content_type"]:
                return Reply(403, documents.S3_SIGNATURE, content_type="application/xml")
            with self.state.lock:
                doc["content"], doc["uploaded"] = req.body, True
            return Reply(200, b"")
        if action == "download" and req.method == "GET":
            reply = self._document_fault() or Reply(200, doc["content"], content_type=doc["content_type"])
            self.stats.count(DOWNLOAD, reply.status)
            return reply
        return Reply(405, b"<Error><Code>MethodNotAllowed</Code></Error>", content_type="application/xml")


    def _document_fault(self) -> Reply | None:
        """S3's answers to a document download, by fault rules naming ``downloadDocument`` itself (a ``*`` rule
        leaves downloads alone): ``500``/``503`` as S3 sends them, ``url_expired`` as an expired presigned URL."""
        for rule in self.faults.pick(DOWNLOAD, lambda rule: rule.get("op") == DOWNLOAD):
            if rule["kind"] in ("500", "503"):
                return Reply(int(rule["kind"]), documents.S3_INTERNAL, content_type="application/xml")
            if rule["kind"] == "url_expired":
                return Reply(403, documents.S3_EXPIRED, content_type="application/xml")
        return None


def _handler(sim: Simulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response and no Nagle: headers and body in separate small segments meet the client's
        # delayed ACK and cost ~40 ms per keep-alive request.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True
        server_version = "Server"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet; the request log is /_sandbox/requests
            return

        def date_time_string(self, timestamp=None):
            # Amazon's Date header is Amazon's clock; here that is the simulated clock (the sync's sweeps
            # place their windows by it, so a time-scaled simulator and the client agree on "now").
            from email.utils import format_datetime

            return format_datetime(sim.state.now(), usegmt=True)

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Req(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                      {k.lower(): v for k, v in self.headers.items()}, body)
            try:
                reply = sim.dispatch(req)
            except Exception as exc:  # never let a simulator bug look like a hang
                log.exception("simulator error")
                reply = Reply(500, error_body("InternalFailure", f"simulator error: {exc}"))
            if isinstance(reply.body, (bytes, bytearray)):
                data = bytes(reply.body)
            elif reply.body is None:
                data = b""
            else:
                data = json.dumps(reply.body).encode("utf-8")
            self.send_response(reply.status)
            if data or reply.status != 204:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", sim.state.next_id("req-"))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            view = memoryview(data)
            for i in range(0, len(view), 1 << 20):
                self.wfile.write(view[i:i + (1 << 20)])

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
