"""Login with Amazon: the access token, cached in Redis and shared by every worker.

Refresh-token grant for seller operations, client-credentials grant (scope) for grantless ones [reference §2.1,
§2.4]. One refresh at a time across the fleet (a lease on ``lwa:<client>``); the others wait briefly for the
cache to fill. The token is kept until 60 s before expiry (Amazon's own sample keeps 30 s). Tokens and secrets
never go into a log line or an exception message.
"""

from __future__ import annotations

import logging
import time

import redis
import requests

from integration.errors import Permanent, Transient
from integration.guard import Lease, LeaseBusy, keys

log = logging.getLogger("slsync.amazon.auth")
MARGIN = 60.0
_CAS_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TokenProvider:
    def __init__(self, r: redis.Redis, session: requests.Session, *, token_url: str, client_id: str,
                 client_secret: str, refresh_token: str, timeout: float = 20.0, time_scale: float = 1.0,
                 wait: float = 5.0, breaker=None):
        self.r, self.session, self.token_url = r, session, token_url
        self._client_id, self._secret, self._refresh = client_id, client_secret, refresh_token
        self.timeout, self.time_scale, self.wait = timeout, time_scale, wait
        self.breaker = breaker   # the ``amazon.lwa`` breaker: token calls are a family of their own
        self._cas_delete = r.register_script(_CAS_DELETE)
        self._memo: dict[str, tuple[str, float]] = {}

    def _key(self, scope: str | None) -> str:
        return keys.token(self._client_id) if scope is None else keys.key("token", self._client_id, scope)

    def access_token(self, scope: str | None = None) -> str:
        """A valid access token: the seller's (``scope=None``) or a grantless one for ``scope``."""
        key = self._key(scope)
        memo = self._memo.get(key)
        if memo and memo[1] > time.monotonic():
            return memo[0]
        pipe = self.r.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        cached, pttl = pipe.execute()
        if cached:
            # valid until its Redis TTL runs out, whoever fetched it; kept in-process to save a round trip
            self._memo[key] = (cached, time.monotonic() + max(0, int(pttl)) / 1000.0)
            return cached
        deadline = time.monotonic() + self.wait
        while True:
            lease = Lease(self.r, "lwa", f"{self._client_id}:{scope or 'seller'}", ttl=max(self.timeout + 5, 10))
            try:
                with lease:
                    cached = self.r.get(key)  # someone may have refreshed while we queued
                    return cached or self._fetch(key, scope)
            except LeaseBusy:
                pass
            time.sleep(0.05)  # another worker is refreshing right now; its token lands in Redis shortly
            cached = self.r.get(key)
            if cached:
                return cached
            if time.monotonic() > deadline:
                raise Transient("LWA token refresh in progress elsewhere", retry_after=1.0)

    def invalidate(self, token: str, scope: str | None = None) -> None:
        """Forget ``token`` (Amazon said it expired), unless another worker already replaced it."""
        key = self._key(scope)
        if self._memo.get(key, ("",))[0] == token:
            del self._memo[key]
        self._cas_delete(keys=[self._key(scope)], args=[token])

    def _fetch(self, key: str, scope: str | None) -> str:
        if self.breaker is None:
            return self._request(key, scope)
        with self.breaker.guard():
            return self._request(key, scope)

    def _request(self, key: str, scope: str | None) -> str:
        form = {"client_id": self._client_id, "client_secret": self._secret}
        if scope is None:
            form.update(grant_type="refresh_token", refresh_token=self._refresh)
        else:
            form.update(grant_type="client_credentials", scope=scope)
        try:
            resp = self.session.post(self.token_url, data=form, timeout=self.timeout,
                                     headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Transient(f"LWA token endpoint unreachable ({type(exc).__name__})", retry_after=5.0) from None
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if resp.status_code >= 500 or resp.status_code == 429:
            raise Transient(f"LWA token endpoint answered {resp.status_code}", retry_after=5.0,
                            details={"status": resp.status_code})
        if resp.status_code != 200 or not body.get("access_token"):
            # error / error_description never contain the secret; the form we sent is not quoted
            raise Permanent(f"LWA refused the token request: {body.get('error', resp.status_code)} "
                            f"({body.get('error_description', 'no description')})",
                            details={"status": resp.status_code, "error": body.get("error")})
        token = body["access_token"]
        life = float(body.get("expires_in", 3600))
        ttl = max(1.0, (life - MARGIN) / self.time_scale)
        self.r.set(key, token, px=int(ttl * 1000))
        log.info("LWA %s token refreshed, cached for %.0fs", "seller" if scope is None else scope, ttl)
        return token
