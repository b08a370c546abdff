"""Every SP-API call goes through ``Transport.call``: the fleet rate limiter first, the circuit breaker of the
operation's family around the request (``integration.guard.breaker``: orders reads, shipment confirmations,
reports, feeds, listings, ...; a getOrder outage never stops confirmShipment), and one table from HTTP outcome to
action (reference sp-api.md §3).

| outcome                                | action                                                           |
|----------------------------------------|------------------------------------------------------------------|
| no token in the fleet bucket           | Transient(retry_after) before any request; the worker never sleeps |
| 2xx, documented shape                  | return the body; x-amzn-RateLimit-Limit updates the bucket        |
| 2xx, body that is not JSON             | Transient (a body cut short in transit, a proxy's page): retried   |
| 2xx, JSON not the documented shape     | Permanent, raw body kept (buyer data redacted)                    |
| 429                                    | drain the bucket, Transient                                       |
| 401; 403 Unauthorized or about a token | forget the token, refresh once, retry once                        |
| the retry refused again (403)          | a permission never granted: Permanent naming the role, one alert  |
| 5xx, timeout, connection error         | Transient (counted by the family's breaker)                       |
| other 4xx                              | Permanent with Amazon's error list and the request id             |
| the family's breaker is open           | CircuitOpen (Transient, retry_after = the rest of the cool-down)  |

Redis round trips per call: one for the rate token; the breaker's closed verdict is re-read at most every
``BREAKER_RECHECK`` seconds per process, successes are counted in-process and added to the breaker's window with
that re-read (or with the next failure), so a successful call adds none.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from integration.config import DEFAULT_RATE_MARGIN
from integration.errors import Permanent, Transient
from integration.guard.breaker import Breakers

log = logging.getLogger("slsync.amazon")
USER_AGENT = (f"sl-amazon-sync/0.1 (Language=Python/{platform.python_version()}; "
              f"Platform={platform.system()}/{platform.release()})")
# Words of a refusal that is about the token itself (sp-api.md §3.2; the models' 403 "Access Denied, Unauthorized,
# Expired Token, or Invalid Signature"; "The security token included in the request is expired" from Amazon's gateway)
TOKEN_WORDS = ("access token", "security token")
# A closed breaker is re-read from Redis at most this often per process; a failure seen here re-reads at once.
BREAKER_RECHECK = 0.5


@dataclass
class ApiResponse:
    status: int
    body: object
    headers: dict = field(default_factory=dict)
    request_id: str = ""


class Transport:
    def __init__(self, endpoint: str, tokens, limiter, breakers: Breakers, *, session: requests.Session | None = None,
                 timeout: float = 20.0, ca_bundle: str = ""):
        self.endpoint = endpoint.rstrip("/")
        self.tokens, self.limiter, self.breakers = tokens, limiter, breakers
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        settle_environment(self.session, self.endpoint, ca_bundle)
        self.timeout = timeout
        self._learned: dict[str, str] = {}
        self.margin = DEFAULT_RATE_MARGIN  # share of Amazon's rate our bucket asks for; AmazonClient sets the setting
        self.seller_id = ""   # named in a missing-role refusal and its alert; AmazonClient sets it
        self._refusals_seen: set[str] = set()   # refusal keys this process remembered (see _known_refusal)

    def call(self, op: str, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
             shape: tuple[str, ...] = (), scope: str | None = None, role: str | None = None) -> ApiResponse:
        """One operation; ``shape`` lists top-level keys a success body must carry; ``role`` is the one a refusal
        names when the operation's role depends on what it is called for (a report's or feed's type,
        ``roles.for_report_type``), else the operation's own (``roles.for_operation``)."""
        for attempt in (1, 2):
            wait = self.limiter.take(op)
            if wait > 0:
                raise Transient(f"{op}: fleet rate limit, no token", retry_after=wait,
                                details={"operation": op, "throttled": True})
            token = self.tokens.access_token(scope)
            breaker = self.breakers.for_op(op)
            probe = breaker.before_call()   # '' to go, a probe token for the one trial; raises CircuitOpen
            try:
                resp = self._send(op, method, path, params, body, token)
                if _token_problem(resp):
                    # refused with a fresh token, or this very token met the refusal fresh: no new token helps
                    if attempt == 2 or self._known_refusal(op, resp, role, token):
                        self._refused_again(op, resp, role, token)
                    self.tokens.invalidate(token, scope)
                    log.info("spapi %s: access token refused (%s), refreshing once", op, resp.status_code)
                    breaker.record(probe, None)
                    continue
                result = self._outcome(op, resp, shape)
            except BaseException as exc:
                breaker.record(probe, exc)
                raise
            breaker.record(probe, None)
            if self._refusals_seen:
                self._forget_refusal(op, role)
            return result
        raise AssertionError("unreachable: the second attempt returns or raises")

    # A permission refused with a fresh token is remembered this long (per seller, operation and role), so the
    # calls that meet it meanwhile do not each evict the fleet's token and ask LWA for another.
    REFUSAL_MEMORY = 600
    quiet = False   # True while probing (``slsync amazon check``): a refusal is the answer sought, not an alert

    @property
    def _redis(self):
        return getattr(self.tokens, "r", None)

    def _refusal_key(self, op: str, role: str | None) -> str:
        from integration.amazon import roles
        from integration.guard import keys

        return keys.key("role-refused", self.seller_id or "-", op, role or roles.for_operation(op) or "-")

    def _forget_refusal(self, op: str, role: str | None) -> None:
        """The operation answered: the role was granted since. Forget the refusal so that an ambiguous 403 (Amazon's
        expired token may read the same) gets its refresh again."""
        key = self._refusal_key(op, role)
        if key in self._refusals_seen:
            self._refusals_seen.discard(key)
            try:
                self._redis is not None and self._redis.delete(key)
            except Exception:   # noqa: BLE001 - it expires anyway
                pass

    def _known_refusal(self, op: str, resp: requests.Response, role: str | None, token: str) -> bool:
        """A 403 that does not speak of the token, for a permission a fresh token was refused within REFUSAL_MEMORY."""
        r = self._redis
        if r is None or resp.status_code != 403 or _speaks_of_token(_errors(resp)):
            return False
        try:
            # only for the token that met the refusal fresh: any other token (a worker's replacement after an
            # expiry in the same words, or after the role was granted elsewhere) gets its refresh as usual
            known = r.get(self._refusal_key(op, role)) == _fingerprint(token)
        except Exception:   # Redis gone: refresh as if unknown; the call fails over Redis soon anyway
            return False
        if known:
            self._refusals_seen.add(self._refusal_key(op, role))
        return known

    def _refused_again(self, op: str, resp: requests.Response, role: str | None = None, token: str = ""):
        """A fresh token refused too. A 403 ``Unauthorized`` that no longer speaks of the token is a permission the
        seller never granted (a missing role: Amazon answers "Access to requested resource is denied." either way,
        and no API lists an app's roles): Permanent naming the role (``integration.amazon.roles``), so the task is
        held with it, and ONE alert per seller and role. A refusal that still blames the token: Permanent too."""
        from integration import alerts
        from integration.amazon import roles

        errors = _errors(resp)
        details = {"operation": op, "status": resp.status_code, "request_id": resp.headers.get("x-amzn-RequestId", ""),
                   "errors": errors}
        if resp.status_code == 403 and not _speaks_of_token(errors):
            role = role or roles.for_operation(op)
            need = (f"the role {role!r}" if role else "the role of the report or feed type (Amazon does not say which)"
                    if op in roles.REPORT_OPERATIONS | roles.FEED_OPERATIONS else
                    "a role or permission (Amazon does not say which)")
            message = (f"{op}: Amazon refused the call (403 Unauthorized) with a fresh access token: the application "
                       f"lacks {need} for seller {self.seller_id or '?'}; grant it (Seller Central, the app's "
                       "authorisation), then release the hold")
            r = self._redis
            if r is not None:
                self._refusals_seen.add(self._refusal_key(op, role))
                try:
                    r.set(self._refusal_key(op, role), _fingerprint(token), ex=self.REFUSAL_MEMORY)
                except Exception:   # noqa: BLE001 - only a saving; the refusal below is what matters
                    pass
            if not self.quiet:
                alerts.alert(f"Amazon refuses {op}: missing {role or 'permission'} for seller {self.seller_id or '?'}",
                             dedup_key=f"role:{self.seller_id}:{role or op}", r=r,
                             operation=op, role=role, seller_id=self.seller_id, request_id=details["request_id"])
            raise Permanent(message, details={**details, "role": role, "reason": "missing_role"})
        summary = "; ".join(_described(e) for e in errors)
        raise Permanent(f"{op}: access token refused twice ({resp.status_code}) {summary}".rstrip(), details=details)

    # Amazon's clock as last read from a Date header: (their epoch seconds, our monotonic time then)
    _clock_seen: tuple[float, float] | None = None
    time_scale: float = 1.0  # simulated time runs this much faster (the sandbox); 1 against Amazon

    def _note_clock(self, date_header: str | None, started: float) -> None:
        if not date_header:
            return
        try:
            theirs = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return
        self._clock_seen = (theirs, time.monotonic())

    def probe_clock(self) -> None:
        """Read Amazon's Date header from the endpoint's root: no token, no quota spent."""
        started = time.monotonic()
        try:
            resp = self.session.get(self.endpoint + "/", timeout=self.timeout)
        except requests.RequestException:
            return  # our own clock then; the sweep's 2-minute margin covers ordinary skew
        self._note_clock(resp.headers.get("Date"), started)

    def server_now(self) -> datetime:
        """Amazon's "now" (its Date header, to the second); our clock until a response has been seen.

        Sweep windows are placed by Amazon's clock, so a skewed local clock cannot make one skip orders.
        """
        if self._clock_seen is None:
            return datetime.now(UTC)
        theirs, seen_at = self._clock_seen
        return datetime.fromtimestamp(theirs + (time.monotonic() - seen_at) * self.time_scale, tz=UTC)

    def _send(self, op, method, path, params, body, token) -> requests.Response:
        started = time.monotonic()
        try:
            resp = self.session.request(method, self.endpoint + path, params=params,
                                        data=None if body is None else json.dumps(body),
                                        headers={"x-amz-access-token": token,
                                                 **({"Content-Type": "application/json"} if body is not None else {})},
                                        timeout=self.timeout)
        except requests.Timeout:
            log.warning("spapi %s %s: timeout after %.1fs", op, method, self.timeout)
            raise Transient(f"{op}: timed out after {self.timeout:g}s", details={"operation": op}) from None
        except requests.ConnectionError as exc:
            log.warning("spapi %s %s: connection error", op, method)
            raise Transient(f"{op}: connection error ({type(exc).__name__})", details={"operation": op}) from None
        self._note_clock(resp.headers.get("Date"), started)
        log.info("spapi %s %s -> %s in %.0fms request-id=%s", op, method, resp.status_code,
                 (time.monotonic() - started) * 1000, resp.headers.get("x-amzn-RequestId", "-"))
        return resp

    def _learn_rate(self, op: str, header: str | None) -> None:
        """x-amzn-RateLimit-Limit updates the fleet bucket (written to Redis only when the figure changes)."""
        if not header or self._learned.get(op) == header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        if rate > 0:
            self.limiter.update(op, rate * self.margin)
            self._learned[op] = header

    def _outcome(self, op: str, resp: requests.Response, shape: tuple[str, ...]) -> ApiResponse:
        status, rid = resp.status_code, resp.headers.get("x-amzn-RequestId", "")
        details = {"operation": op, "status": status, "request_id": rid}
        if 200 <= status < 300:
            self._learn_rate(op, resp.headers.get("x-amzn-RateLimit-Limit"))
            body = None
            if resp.content:
                try:
                    body = resp.json()
                except ValueError:
                    body = _malformed(op, resp, details, cut_short=True)
            if shape and (not isinstance(body, dict) or any(k not in body for k in shape)):
                _malformed(op, resp, details)
            return ApiResponse(status, body, dict(resp.headers), rid)
        errors = _errors(resp)
        details["errors"] = errors
        if status == 429:
            self.limiter.drain(op)
            rate = self.limiter.limits(op)[0] * self.limiter.time_scale
            raise Transient(f"{op}: throttled by Amazon (429)", retry_after=1.0 / rate if rate else 1.0, details=details)
        if status >= 500:
            raise Transient(f"{op}: Amazon answered {status}", details=details)
        summary = "; ".join(_described(e) for e in errors) or resp.text[:200]
        raise Permanent(f"{op}: Amazon refused the request ({status}) {summary}", details=details)


def settle_environment(session: requests.Session, endpoint: str, ca_bundle: str = "") -> None:
    """Take requests' environment settings (proxies, CA bundle) once, instead of on every call.

    By default requests re-reads os.environ for proxies on each request (about 1 ms on a busy host); the
    values are the same for the life of the process, so they are settled here and ``trust_env`` turned off.
    The CA bundle is the setting's (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, read in ``integration.config``).
    """
    if not session.trust_env:
        return
    session.proxies = {**requests.utils.get_environ_proxies(endpoint), **session.proxies}
    if ca_bundle and session.verify is True:
        session.verify = ca_bundle
    session.trust_env = False


def _described(error: dict) -> str:
    """``code: message (details)``: Amazon's 400s say what was wrong only in ``details``."""
    text = f"{error.get('code')}: {error.get('message')}"
    details = error.get("details")
    return f"{text} ({str(details)[:300]})" if details and isinstance(details, str) else text


def _errors(resp: requests.Response) -> list[dict]:
    try:
        body = resp.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else []


def _fingerprint(token: str) -> str:
    """A short digest standing for an access token in Redis (never the token itself)."""
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:24]


def _speaks_of_token(errors: list[dict]) -> bool:
    text = " ".join(f"{e.get('message', '')} {e.get('details', '')}" for e in errors).lower()
    return any(words in text for words in TOKEN_WORDS)


def _token_problem(resp: requests.Response) -> bool:
    """Amazon may be refusing the token: any 401 (reports, feeds and confirmShipment declare one: "does not contain a
    valid token"), or a 403 whose code is ``Unauthorized`` (with or without details) or whose words speak of an
    access or security token. Whatever the wording, one refresh tells an expired token from a missing permission."""
    if resp.status_code == 401:
        return True
    if resp.status_code != 403:
        return False
    errors = _errors(resp)
    return any(e.get("code") == "Unauthorized" for e in errors) or _speaks_of_token(errors)


# What is kept of a body that failed the shape check: enough to see what came back, no buyer data (integration.pii).
RAW_KEPT = 2000


def _malformed(op: str, resp: requests.Response, details: dict, *, cut_short: bool = False):
    """A 2xx body we cannot use. Not JSON at all is a transport fault (a connection cut mid-body, a proxy's page):
    retried like a 5xx, and held only when the retries run out. JSON of another shape will not change on retry."""
    from integration.pii import redact_text

    kept = {**details, "raw": redact_text(resp.text, RAW_KEPT)}
    if cut_short:
        raise Transient(f"{op}: response body is not JSON (cut short?)", details=kept)
    raise Permanent(f"{op}: response is not the documented shape", details=kept)
