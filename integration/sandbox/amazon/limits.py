"""Amazon's rate limits in the simulator: a token bucket per operation, published rate x time scale.

A request without a token gets 429 with the QuotaExceeded body [reference sp-api.md §3.2]; a 200 carries
``x-amzn-RateLimit-Limit`` with the (scaled) rate. Plus the JSON_LISTINGS_FEED rule: 5 submissions per 5 minutes.
"""

from __future__ import annotations

import threading
import time

from integration.guard.limits import published

QUOTA_EXCEEDED = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                              "details": ""}]}


class Buckets:
    def __init__(self, time_scale: float = 1.0, enabled: bool = True):
        self.scale, self.enabled = float(time_scale), enabled
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # op -> (tokens, last monotonic)

    def rate(self, op: str) -> float:
        return published(op)[0] * self.scale

    def header(self, op: str) -> str:
        return f"{self.rate(op):g}"

    def take(self, op: str) -> bool:
        """True when the call may go; False means 429."""
        if not self.enabled:
            return True
        rate, burst = self.rate(op), published(op)[1]
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
