"""Fault injection: rules set by command-line flags or ``POST /_sandbox/faults``.

A rule: ``{"op": "getOrder" | "*", "kind": <one of KINDS>, "rate": 0..1 (default 1), "count": N (apply to the next N
matching calls, optional), "latency_ms": [min, max] (latency), "seconds": S (hang; default 30)}``. Decisions use a
seeded RNG, so a run with the same seed and call order makes the same faults.

The token kinds (``TOKEN_REFUSALS``) are the ways Amazon says an access token is no longer good, each with the
body Amazon sends (sp-api.md §3.2; the models' 401 "does not contain a valid token" and 403 "Access Denied,
Unauthorized, Expired Token" responses; the wordings sellers report on amzn/selling-partner-api-models). Such a
fault models a token that expired early (a cache that kept it past its hour, a clock that drifted): it expires the
token the call presented, so the token keeps being refused with the same body, and the token the client fetches
in its place works (no token fault hits it for ``REPLACEMENT_GRACE``); later calls may meet another fault. ``forbidden`` is the other 403 with the same words: a
permission the seller never granted (a missing role), which a fresh token does not cure.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

# kind -> (status, code, message, details or None for an error without a details field)
TOKEN_REFUSALS: dict[str, tuple[int, str, str, str | None]] = {
    "expired_token": (403, "Unauthorized", "Access to requested resource is denied.",
                      "The access token you provided has expired."),
    "unauthorized_401": (401, "Unauthorized", "Access to requested resource is denied.", ""),
    "denied": (403, "Unauthorized", "Access to requested resource is denied.", None),
    "denied_empty": (403, "Unauthorized", "Access to requested resource is denied.", ""),
    "access_token_expired": (403, "Unauthorized", "The access token you provided has expired.", ""),
    "access_token_invalid": (403, "Unauthorized", "The access token you provided is revoked, malformed or invalid.",
                             ""),
    "security_token_expired": (403, "Unauthorized", "The security token included in the request is expired", None),
}
# Simulated time after a token fault during which the tokens LWA issues are replacements, and immune as such
REPLACEMENT_GRACE = timedelta(minutes=5)
FORBIDDEN = (403, "Unauthorized", "Access to requested resource is denied.", "")
# url_expired: a document download refused as an expired presigned URL (only on op downloadDocument)
KINDS = ("500", "503", "429", "malformed", "latency", "hang", "forbidden", "url_expired", *TOKEN_REFUSALS)


def refusal_body(code: str, message: str, details: str | None) -> dict:
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"errors": [error]}


def parse_flag(text: str) -> dict:
    """``op:kind[:rate]`` from the command line, e.g. ``getOrder:503:0.2`` or ``*:latency:1``."""
    parts = text.split(":")
    if len(parts) < 2 or parts[1] not in KINDS:
        raise ValueError(f"fault must be op:kind[:rate] with kind in {', '.join(KINDS)}, got {text!r}")
    rule = {"op": parts[0] or "*", "kind": parts[1]}
    if len(parts) > 2:
        rule["rate"] = float(parts[2])
    return rule


class Faults:
    def __init__(self, seed: int = 0, rules: list[dict] | None = None):
        self._lock = threading.Lock()
        self._rnd = random.Random(f"faults:{seed}")
        self.rules: list[dict] = []
        # access token -> the refusal a token fault gave it (it stays refused so); tokens issued to replace one
        self.expired: dict[str, tuple[int, str, str, str | None]] = {}
        self.replacements: dict[str, datetime] = {}   # replacement token -> no token fault before this time
        self._last_expiry: datetime | None = None
        self.set(rules or [])

    def set(self, rules: list[dict]) -> None:
        for rule in rules:
            if rule.get("kind") not in KINDS:
                raise ValueError(f"unknown fault kind {rule.get('kind')!r}; one of {', '.join(KINDS)}")
        with self._lock:
            self.rules = [dict(r) for r in rules]

    def pick(self, op: str, applies=None) -> list[dict]:
        """The rules that fire for this call (latency first, then at most one failure); ``applies(rule)`` False
        passes over a rule that cannot apply to this operation (a 401 where the model declares none)."""
        fired, failing = [], False
        with self._lock:
            for rule in self.rules:
                if rule.get("op", "*") not in ("*", op):
                    continue
                if "count" in rule and rule["count"] <= 0:
                    continue
                if applies is not None and not applies(rule):
                    continue
                if failing and rule["kind"] != "latency":
                    continue      # one failure per call: a later rule keeps its count for a later call
                if self._rnd.random() >= float(rule.get("rate", 1.0)):
                    continue
                if "count" in rule:
                    rule["count"] -= 1
                fired.append(rule)
                failing = failing or rule["kind"] != "latency"
        fired.sort(key=lambda r: r["kind"] != "latency")
        return fired

    def give_back(self, rule: dict) -> None:
        """A rule that fired but did not apply (a token fault on a replacement token) keeps its count."""
        with self._lock:
            if "count" in rule:
                rule["count"] += 1

    def latency(self, rule: dict) -> float:
        low, high = rule.get("latency_ms", [50, 200])
        with self._lock:
            return self._rnd.uniform(float(low), float(high)) / 1000.0

    # -- tokens expired by a fault -----------------------------------------------------------------------------

    def expire(self, token: str | None, kind: str, now: datetime) -> tuple[int, str, str, str | None] | None:
        """Expire ``token`` with ``kind``'s refusal; None (no fault) while the token is a fresh replacement."""
        with self._lock:
            if not token or self.replacements.get(token, now) > now:
                return None
            self.expired[token] = TOKEN_REFUSALS[kind]
            self._last_expiry = now
            return TOKEN_REFUSALS[kind]

    def refusal(self, token: str | None) -> tuple[int, str, str, str | None] | None:
        """How Amazon refuses ``token`` if a fault expired it, else None."""
        with self._lock:
            return self.expired.get(token or "")

    def issued(self, token: str, now: datetime) -> None:
        """LWA issued ``token``: one fetched within REPLACEMENT_GRACE of a token fault replaces the expired token
        (every worker that saw the refusal may fetch one) and no token fault hits it during that grace, so the
        retry after a refresh meets a token as good as Amazon's, whatever the fault rate."""
        with self._lock:
            self.replacements = {t: until for t, until in self.replacements.items() if until > now}
            if self._last_expiry is not None and now - self._last_expiry <= REPLACEMENT_GRACE:
                self.replacements[token] = now + REPLACEMENT_GRACE
