"""The fleet rate limiter as the client uses it: ``guard.RateLimiter`` with the limits it reads back from
Redis remembered in-process for a few seconds, so asking for a token is one round trip, not two."""

from __future__ import annotations

import time

from integration.guard import RateLimiter

REFRESH = 5.0


class ClientRateLimiter(RateLimiter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._known: dict[str, tuple[tuple[float, int], float]] = {}

    def _idle_ttl_ms(self, operation: str) -> int:
        # Only the expiry of an idle bucket depends on this; a few seconds' staleness changes nothing.
        known = self._known.get(operation)
        if known is None or known[1] < time.monotonic():
            known = (self.limits(operation), time.monotonic() + REFRESH)
            self._known[operation] = known
        rate, burst = known[0]
        return int(max(60.0, 2 * burst / (rate * self.time_scale)) * 1000)

    def update(self, operation: str, rate: float, burst: int | None = None) -> None:
        super().update(operation, rate, burst)
        self._known.pop(operation, None)
