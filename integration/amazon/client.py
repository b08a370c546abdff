"""``AmazonClient``: the one entry point to SP-API, one per process, built from the settings.

    client = AmazonClient.from_settings(settings(), redis_client())
    for order in client.orders.search(last_updated_after=since, last_updated_before=until): ...
"""

from __future__ import annotations

import os
import threading

import redis
import requests

from integration.amazon.auth import TokenProvider
from integration.amazon.fba import FbaInventory
from integration.amazon.feeds import Feeds
from integration.amazon.limiter import ClientRateLimiter
from integration.amazon.listings import Listings
from integration.amazon.notifications import Notifications
from integration.amazon.orders import Orders
from integration.amazon.reports import Reports
from integration.amazon.sellers import Sellers
from integration.amazon.transport import BREAKER_RECHECK, Transport
from integration.config import DEFAULT_RATE_MARGIN
from integration.guard.breaker import Breakers


def safe_table(margin: float | None = None) -> dict[str, tuple[float, int]]:
    """The published limits with the safety margin on the rate (SPAPI_RATE_MARGIN; DEFAULT_RATE_MARGIN by default)."""
    from integration.guard.limits import PUBLISHED

    margin = DEFAULT_RATE_MARGIN if margin is None else margin
    return {op: (rate * margin, burst) for op, (rate, burst) in PUBLISHED.items()}


_sessions: dict[int, requests.Session] = {}
_lock = threading.Lock()


def process_session() -> requests.Session:
    """One ``requests.Session`` per process (re-made after fork: children must not share sockets)."""
    pid = os.getpid()
    with _lock:
        if pid not in _sessions:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[pid] = session
        return _sessions[pid]


class AmazonClient:
    def __init__(self, transport: Transport, *, seller_id: str, marketplace_ids: tuple[str, ...]):
        self.transport = transport
        self.seller_id, self.marketplace_ids = seller_id, tuple(marketplace_ids)
        self.orders = Orders(transport, self.marketplace_ids)
        self.reports = Reports(transport, self.marketplace_ids)
        self.feeds = Feeds(transport, seller_id, self.marketplace_ids)
        self.listings = Listings(transport, seller_id, self.marketplace_ids)
        self.fba = FbaInventory(transport, self.marketplace_ids)
        self.notifications = Notifications(transport)
        self.sellers = Sellers(transport)

    def server_now(self, *, fresh: bool = False):
        """Amazon's clock (``Date`` header): as last seen, or read now when ``fresh`` or never seen."""
        if fresh or self.transport._clock_seen is None:
            self.transport.probe_clock()
        return self.transport.server_now()

    @classmethod
    def from_settings(cls, s, r: redis.Redis | None = None, *, session: requests.Session | None = None) -> AmazonClient:
        if r is None:
            from integration.guard import redis_client
            r = redis_client(s.redis_url)
        session = session or process_session()
        scale = getattr(s, "spapi_time_scale", 1.0)
        breakers = Breakers.from_settings(s, r, recheck=BREAKER_RECHECK)   # one per operation family
        tokens = TokenProvider(r, session, token_url=s.lwa_token_url, client_id=s.lwa_client_id,
                               client_secret=s.lwa_client_secret, refresh_token=s.lwa_refresh_token,
                               seller_id=s.seller_id, timeout=s.http_timeout, time_scale=scale,
                               breaker=breakers.family("lwa"), encryption_key=getattr(s, "token_encryption_key", ""))
        margin = getattr(s, "spapi_rate_margin", DEFAULT_RATE_MARGIN)
        limiter = ClientRateLimiter(r, s.seller_id, time_scale=scale, table=safe_table(margin))
        transport = Transport(s.spapi_endpoint, tokens, limiter, breakers, session=session, timeout=s.http_timeout,
                              ca_bundle=s.ca_bundle)
        transport.time_scale = scale
        transport.margin = margin
        transport.seller_id = s.seller_id
        return cls(transport, seller_id=s.seller_id, marketplace_ids=s.marketplace_ids)
