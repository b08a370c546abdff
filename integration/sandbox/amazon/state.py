"""The simulated seller: a clock that can run faster than real time, and everything Amazon holds for the seller.

All mutable state sits behind one re-entrant lock; handlers take it for the duration of a request, which is
plenty for a loopback simulator and keeps every lifecycle step atomic. The handler modules import this one, never
the reverse: each registers its lifecycle step with ``on_tick``, and the server seeds a new seller through them.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from integration.sandbox.amazon import catalog as catalog_mod
from integration.sandbox.amazon import roles as roles_mod

MARKETPLACES = {
    "ATVPDKIKX0DER": {"name": "Amazon.com", "countryCode": "US", "defaultCurrencyCode": "USD",
                      "defaultLanguageCode": "en_US", "domainName": "www.amazon.com"},
    "A2EUQ1WTGCTBG2": {"name": "Amazon.ca", "countryCode": "CA", "defaultCurrencyCode": "CAD",
                       "defaultLanguageCode": "en_CA", "domainName": "www.amazon.ca"},
    "A1PA6795UKMFR9": {"name": "Amazon.de", "countryCode": "DE", "defaultCurrencyCode": "EUR",
                       "defaultLanguageCode": "de_DE", "domainName": "www.amazon.de"},
    "A1AM78C64UM0Y8": {"name": "Amazon.com.mx", "countryCode": "MX", "defaultCurrencyCode": "MXN",
                       "defaultLanguageCode": "es_MX", "domainName": "www.amazon.com.mx"},
    "A1F83G8C2ARO7P": {"name": "Amazon.co.uk", "countryCode": "GB", "defaultCurrencyCode": "GBP",
                       "defaultLanguageCode": "en_GB", "domainName": "www.amazon.co.uk"},
    "A13V1IB3VIYZZH": {"name": "Amazon.fr", "countryCode": "FR", "defaultCurrencyCode": "EUR",
                       "defaultLanguageCode": "fr_FR", "domainName": "www.amazon.fr"},
    "APJ6JRA9NG5V4": {"name": "Amazon.it", "countryCode": "IT", "defaultCurrencyCode": "EUR",
                      "defaultLanguageCode": "it_IT", "domainName": "www.amazon.it"},
    "A1RKKUPIHCS9HS": {"name": "Amazon.es", "countryCode": "ES", "defaultCurrencyCode": "EUR",
                       "defaultLanguageCode": "es_ES", "domainName": "www.amazon.es"},
    "A1VC38T7YXB528": {"name": "Amazon.co.jp", "countryCode": "JP", "defaultCurrencyCode": "JPY",
                       "defaultLanguageCode": "ja_JP", "domainName": "www.amazon.co.jp"},
}
DEFAULT_MARKETPLACE = "ATVPDKIKX0DER"
# Lifecycle steps ``step(state, now)``, registered by their modules at import (``on_tick``). They run in the order
# of TICK_ORDER, whichever module was imported first: orders first, so reports, feeds and FBA stock see the orders
# of the same tick; the listings' due patches before the notifications that report their quantity changes.
TICK_ORDER = ("orders", "reports", "feeds", "fba", "listings", "notifications")
TICKS: list[Callable] = []


def _tick_rank(step: Callable) -> int:
    module = step.__module__.rsplit(".", 1)[-1]
    return TICK_ORDER.index(module) if module in TICK_ORDER else len(TICK_ORDER)


def on_tick(step: Callable) -> Callable:
    """Register a handler module's lifecycle step (a decorator); ``SellerState.tick`` runs every one."""
    TICKS.append(step)
    TICKS.sort(key=_tick_rank)
    return step


def iso(dt: datetime) -> str:
    """Amazon's timestamp form: ``2026-01-15T10:00:00Z``."""
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimClock:
    """Simulated UTC time: ``start + (monotonic elapsed) * scale + offset``; ``advance()`` moves it forward."""

    def __init__(self, time_scale: float = 1.0, start: datetime | None = None):
        self.scale = float(time_scale)
        self.start = (start or datetime.now(UTC)).replace(microsecond=0)
        self._t0 = time.monotonic()
        self._offset = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.scale + self._offset)

    def advance(self, seconds: float) -> datetime:
        self._offset += float(seconds)
        return self.now()

    def real_seconds(self, sim_seconds: float) -> float:
        return sim_seconds / self.scale


class SellerState:
    """Orders, listings, FBA stock, reports, feeds, documents and notification setup of one seller."""

    def __init__(self, *, seed: int, clock: SimClock, seller_id: str, marketplace_ids: tuple[str, ...],
                 roles=roles_mod.ALL):
        self.lock = threading.RLock()
        # The roles the seller granted the application (Seller Central, per seller): what Amazon lets it call and
        # which buyer data it sees (integration.sandbox.amazon.roles, the simulator's own table). Changed at runtime through /_sandbox/roles.
        self.roles: set[str] = set(roles)
        self.seed, self.clock, self.seller_id = seed, clock, seller_id
        self.marketplace_ids = marketplace_ids
        self.rnd = random.Random(f"state:{seed}")
        self.catalog = catalog_mod.catalog(seed)
        self.by_sku = {row["sku"]: row for row in self.catalog}
        self.ids = itertools.count(1)
        self.orders: dict[str, dict] = {}
        self.confirmations: list[dict] = []
        self.listings: dict[str, dict] = {}
        self.fba: dict[str, dict] = {}
        self.reports: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}
        self.feeds: dict[str, dict] = {}
        self.feed_submissions: list[float] = []
        self.destinations: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.tokens: dict[str, tuple[datetime, str]] = {}
        self.pagination: dict[str, dict] = {}
        self.outbox = None  # set by the server: notifications.Outbox

    def next_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self.ids)}"

    def now(self) -> datetime:
        return self.clock.now()

    def tick(self) -> None:
        """Apply every scheduled lifecycle step due by now (orders, reports, feeds, settlements, FBA stock)."""
        with self.lock:
            now = self.now()
            for step in TICKS:
                step(self, now)

    def missing_role(self, op: str, req=None) -> str | None:
        """The role ``op`` needs and the seller did not grant, or None; for reports and feeds the role of the
        request's report or feed type (the body's, the filter's, or the stored report's or feed's)."""
        types = roles_mod.types_of(self, op, req) if req is not None else []
        return roles_mod.missing(self.roles, op, types)

    def notify(self, kind: str, payload: dict) -> None:
        if self.outbox is not None:
            self.outbox.publish(kind, payload)
