"""Amazon's rate limits in the simulator: a token bucket per operation, published rate x time scale.

The figures are the simulator's own, read at start-up from the "Usage Plan" table in each operation's description
in Amazon's models (``| Rate (requests per second) | Burst |``, e.g. searchOrders ``| 0.0056 | 20 |`` in
orders_2026-01-01.json; the same figures as sp-api.md §3.3). They never come from the client's table
(``integration.guard.limits``), so a wrong figure there shows as a disagreement instead of being wrong on both sides.

A request without a token gets 429 with the QuotaExceeded body [reference sp-api.md §3.2]; a 200 carries
``x-amzn-RateLimit-Limit`` with the (scaled) rate. Plus the JSON_LISTINGS_FEED rule: 5 submissions per 5 minutes.
"""

from __future__ import annotations

import re
import threading
import time

QUOTA_EXCEEDED = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                              "details": ""}]}
# The table in the descriptions: "| Rate (requests per second) | Burst |", "| ---- | ---- |", "| 0.0056 | 20 |"
USAGE_PLAN = re.compile(r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n\s*\|[\s|:-]+\|\s*\n"
                        r"\s*\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|")
# Amazon's sandbox figure for all operations [sp-api.md §3.1]; only for an operation whose model states no plan.
SANDBOX_PLAN = (5.0, 15)


def usage_plan(description: str) -> tuple[float, int] | None:
    """(rate per second, burst) from an operation's description, None when it states none."""
    match = USAGE_PLAN.search(description or "")
    return (float(match.group(1)), int(match.group(2))) if match else None


def model_plans(models) -> dict[tuple[str, str], tuple[float, int]]:
    """(model file, operationId) -> (rate, burst) for every operation of every shipped API model."""
    out: dict[tuple[str, str], tuple[float, int]] = {}
    for name in sorted(p.name for p in models.dir.glob("*.json")):
        doc = models.doc(name)
        for methods in (doc.get("paths") or {}).values():
            for op in methods.values():
                if isinstance(op, dict) and op.get("operationId"):
                    plan = usage_plan(op.get("description", ""))
                    if plan:
                        out[(name, op["operationId"])] = plan
    return out


def simulator_plans(models) -> dict[str, tuple[float, int]]:
    """The simulator's operations (``models.OPERATIONS``) -> (rate, burst) from their own model."""
    from integration.sandbox.amazon.models import OPERATIONS

    plans = model_plans(models)
    return {op: plans[where] for op, where in OPERATIONS.items() if where in plans}


class Buckets:
    def __init__(self, time_scale: float = 1.0, enabled: bool = True,
                 plans: dict[str, tuple[float, int]] | None = None):
        self.scale, self.enabled = float(time_scale), enabled
        self.plans = dict(plans or {})
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # op -> (tokens, last monotonic)

    def plan(self, op: str) -> tuple[float, int]:
        return self.plans.get(op, SANDBOX_PLAN)

    def rate(self, op: str) -> float:
        return self.plan(op)[0] * self.scale

    def header(self, op: str) -> str:
        return f"{self.rate(op):g}"

    def take(self, op: str) -> bool:
        """True when the call may go; False means 429."""
        if not self.enabled:
            return True
        rate, burst = self.rate(op), self.plan(op)[1]
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(op, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[op] = (tokens - 1.0, now)
                return True
            self._state[op] = (tokens, now)
            return False


class Window:
    """N events per sliding window of simulated seconds (JSON_LISTINGS_FEED: 5 per 300 s) [D-jlf-limits]."""

    def __init__(self, count: int, seconds: float):
        self.count, self.seconds = count, seconds
        self.events: list = []

    def allow(self, now) -> bool:
        self.events = [t for t in self.events if (now - t).total_seconds() < self.seconds]
        if len(self.events) >= self.count:
            return False
        self.events.append(now)
        return True
