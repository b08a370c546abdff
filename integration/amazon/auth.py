"""Login with Amazon: the access token, cached in Redis and shared by every worker.

Refresh-token grant for seller operations, client-credentials grant (scope) for grantless ones [reference §2.1,
§2.4]. One refresh at a time across the fleet (a lease per seller and app); the others wait briefly for the cache
to fill. The token is kept until 60 s before expiry (Amazon's own sample keeps 30 s).

At rest: the seller's token is keyed per seller AND application (a refresh token is one seller's grant to one app,
``keys.token``), and with ``TOKEN_ENCRYPTION_KEY`` it is stored Fernet-encrypted, so a reader of Redis (a backup, a
shared instance, the broker's own clients) holds nothing it can call Amazon with. Tokens and secrets never go into
a log line or an exception message.

Refused credentials: LWA answers ``invalid_client`` (client id or secret wrong, or the secret expired: secrets last
180 days, sp-api.md §2.6) or ``invalid_grant`` (the refresh token revoked or wrong). Neither heals by retrying, and
every task sending the same request would fail the same way. So the refusal is remembered in Redis under a hash of
the credentials (a corrected setting is tried at once) for ``CREDENTIALS_RECHECK`` seconds, one alert names the
setting and what to do, and until then every call stops before sending with ``CredentialsRefused``: a wait (tasks
retry later, sweeps pause), not a stream of task failures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, date, datetime

import redis
import requests

from integration.errors import Permanent, Transient
from integration.guard import Lease, LeaseBusy, keys

log = logging.getLogger("slsync.amazon.auth")
MARGIN = 60.0
# Seconds a refused set of credentials waits before one request tries them again (a person may have fixed the app
# in Seller Central without changing our settings, e.g. re-authorised it with the same refresh token).
CREDENTIALS_RECHECK = 300.0
_CAS_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

# LWA's error -> (the setting it is about, what a person does); LWA's error codes are OAuth 2.0's (RFC 6749 §5.2)
REFUSALS = {
    "invalid_client": ("LWA_CLIENT_SECRET",
                       "LWA refused the application's client credentials: LWA_CLIENT_SECRET (or LWA_CLIENT_ID) is wrong "
                       "or the secret expired (client secrets last 180 days). Generate a new secret in Seller Central "
                       "(Develop Apps) or the Solution Provider Portal, set LWA_CLIENT_SECRET and "
                       "LWA_CLIENT_SECRET_EXPIRES, and restart the workers. Calls to Amazon wait until then."),
    "invalid_grant": ("LWA_REFRESH_TOKEN",
                      "LWA refused the refresh token: the seller revoked the application's authorisation or "
                      "LWA_REFRESH_TOKEN is wrong. Re-authorise the app for this seller (Seller Central, or the "
                      "app's authorisation workflow), set the new LWA_REFRESH_TOKEN and restart the workers. "
                      "Calls to Amazon wait until then."),
}


class CredentialsRefused(Transient):
    """LWA refused our credentials (``invalid_client`` / ``invalid_grant``): nothing is sent until the setting
    changes or ``CREDENTIALS_RECHECK`` passes. A wait for a person, like a rate pause for the fleet's bucket
    (``throttled``: more patience in ``workers.policy``, a paused listing in ``sync.paging``, not a breaker failure)."""

    def __init__(self, error: str, retry_after: float):
        setting = REFUSALS[error][0]
        super().__init__(f"LWA refused the credentials ({error}): fix {setting}; calls wait until it changes",
                         retry_after=retry_after,
                         details={"throttled": True, "credentials_refused": error, "setting": setting})


class TokenProvider:
    def __init__(self, r: redis.Redis, session: requests.Session, *, token_url: str, client_id: str,
                 client_secret: str, refresh_token: str, seller_id: str = "", timeout: float = 20.0,
                 time_scale: float = 1.0, wait: float = 5.0, breaker=None, encryption_key: str = "",
                 recheck: float = CREDENTIALS_RECHECK):
        self.r, self.session, self.token_url = r, session, token_url
        self._client_id, self._secret, self._refresh = client_id, client_secret, refresh_token
        self.seller_id = seller_id
        self.timeout, self.time_scale, self.wait, self.recheck = timeout, time_scale, wait, recheck
        self.breaker = breaker   # the ``amazon.lwa`` breaker: token calls are a family of their own
        self._cas_delete = r.register_script(_CAS_DELETE)
        self._memo: dict[str, tuple[str, float]] = {}
        self._stored: dict[str, str] = {}   # token -> the value in Redis (its ciphertext), for the compare-and-delete
        self._fernet = None
        if encryption_key:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(encryption_key.encode("ascii"))
        # which credentials a refusal is about: a hash, so the secret is not in Redis and a new value is a new key
        self._fingerprint = hashlib.sha256("\0".join((client_id, client_secret, refresh_token)).encode()).hexdigest()[:16]
        self._refused_key = keys.lwa_refused(client_id, self._fingerprint)

    def _key(self, scope: str | None) -> str:
        return keys.token(self.seller_id, self._client_id) if scope is None else keys.grantless_token(self._client_id,
                                                                                                         scope)

    # -- at rest ---------------------------------------------------------------------------------------------------

    def _seal(self, token: str) -> str:
        return token if self._fernet is None else self._fernet.encrypt(token.encode()).decode("ascii")

    def _open(self, stored: str | None) -> str | None:
        """The token in ``stored`` (None when absent, or sealed with another key: then it is fetched anew)."""
        if not stored or self._fernet is None:
            return stored or None
        from cryptography.fernet import InvalidToken

        try:
            token = self._fernet.decrypt(stored.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            return None
        self._remember(token, stored)
        return token

    def _remember(self, token: str, stored: str) -> None:
        if len(self._stored) > 16:
            self._stored.clear()
        self._stored[token] = stored

    # -- the token -------------------------------------------------------------------------------------------------

    def access_token(self, scope: str | None = None) -> str:
        """A valid access token: the seller's (``scope=None``) or a grantless one for ``scope``."""
        key = self._key(scope)
        memo = self._memo.get(key)
        if memo and memo[1] > time.monotonic():
            return memo[0]
        pipe = self.r.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        pipe.get(self._refused_key)
        stored, pttl, refused = pipe.execute()
        cached = self._open(stored)
        if cached:
            # valid until its Redis TTL runs out, whoever fetched it; kept in-process to save a round trip
            self._memo[key] = (cached, time.monotonic() + max(0, int(pttl)) / 1000.0)
            return cached
        if refused:
            self._still_refused(refused)
        deadline = time.monotonic() + self.wait
        while True:
            lease = Lease(self.r, "lwa", f"{self.seller_id}:{self._client_id}:{scope or 'seller'}",
                          ttl=max(self.timeout + 5, 10))
            try:
                with lease:
                    cached = self._open(self.r.get(key))  # someone may have refreshed while we queued
                    return cached or self._fetch(key, scope)
            except LeaseBusy:
                pass
            time.sleep(0.05)  # another worker is refreshing right now; its token lands in Redis shortly
            stored, refused = self.r.mget(key, self._refused_key)
            cached = self._open(stored)
            if cached:
                return cached
            if refused:
                self._still_refused(refused)
            if time.monotonic() > deadline:
                raise Transient("LWA token refresh in progress elsewhere", retry_after=1.0)

    def _still_refused(self, refused: str) -> None:
        error = json.loads(refused).get("error", "invalid_client")
        raise CredentialsRefused(error if error in REFUSALS else "invalid_client",
                                 retry_after=max(1.0, self.r.pttl(self._refused_key) / 1000.0))

    def invalidate(self, token: str, scope: str | None = None) -> None:
        """Forget ``token`` (Amazon said it expired), unless another worker already replaced it."""
        key = self._key(scope)
        if self._memo.get(key, ("",))[0] == token:
            del self._memo[key]
        self._cas_delete(keys=[key], args=[self._stored.pop(token, token)])

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
            if body.get("error") in REFUSALS:
                self._refused(body["error"], resp.status_code)
            # error / error_description never contain the secret; the form we sent is not quoted
            raise Permanent(f"LWA refused the token request: {body.get('error', resp.status_code)} "
                            f"({body.get('error_description', 'no description')})",
                            details={"status": resp.status_code, "error": body.get("error")})
        token = body["access_token"]
        life = float(body.get("expires_in", 3600))
        ttl = max(1.0, (life - MARGIN) / self.time_scale)
        stored = self._seal(token)
        self._remember(token, stored)
        pipe = self.r.pipeline(transaction=False)
        pipe.set(key, stored, px=int(ttl * 1000))
        pipe.delete(self._refused_key)
        pipe.execute()
        log.info("LWA %s token refreshed, cached for %.0fs", "seller" if scope is None else scope, ttl)
        self._accepted()
        return token

    # -- refused credentials ---------------------------------------------------------------------------------------

    def _alert_key(self, error: str) -> str:
        return f"lwa:{error}:{self._client_id}" if error == "invalid_client" else \
            f"lwa:{error}:{self.seller_id}:{self._client_id}"

    def _refused(self, error: str, status: int):
        """Remember the refusal (calls wait without sending), alert once, and stop this call."""
        from integration import alerts

        setting, action = REFUSALS[error]
        ttl = max(1.0, self.recheck)
        self.r.set(self._refused_key, json.dumps({"error": error, "status": status,
                                                  "at": datetime.now(UTC).isoformat(timespec="seconds")}),
                   px=int(ttl * 1000))
        alerts.alert(f"LWA refused the credentials ({error}): fix {setting}", dedup_key=self._alert_key(error),
                     r=self.r, error=error, setting=setting, seller_id=self.seller_id, action=action)
        raise CredentialsRefused(error, retry_after=ttl)

    def _accepted(self) -> None:
        """LWA took the credentials again: a refusal alert still firing is resolved (one message)."""
        from integration import alerts

        for error in REFUSALS:
            alerts.resolve(self._alert_key(error), r=self.r, why="LWA accepted the credentials")


# -- client-secret expiry ------------------------------------------------------------------------------------------

# LWA client secrets must be rotated every 180 days; after the deadline token requests fail (sp-api.md §2.6). The
# alert starts this many days before the date configured in LWA_CLIENT_SECRET_EXPIRES.
SECRET_WARN_DAYS = 30


def secret_days_left(s, today: date | None = None) -> int | None:
    """Days until the client secret expires (negative: expired), or None when LWA_CLIENT_SECRET_EXPIRES is unset."""
    expires = getattr(s, "lwa_client_secret_expires", None)
    if expires is None:
        return None
    return (expires - (today or datetime.now(UTC).date())).days


def check_secret_expiry(s, r: redis.Redis, today: date | None = None) -> dict | None:
    """From the heartbeat: from SECRET_WARN_DAYS days before the client secret expires, one alert a day (across every
    process: a marker per day in Redis); returns what was sent, or None."""
    from integration import alerts

    left = secret_days_left(s, today)
    if left is None or left > SECRET_WARN_DAYS:
        return None
    day = (today or datetime.now(UTC).date()).isoformat()
    if not r.set(keys.secret_expiry_alerted(s.lwa_client_id, day), "1", nx=True, ex=2 * 86400):
        return None
    expires = s.lwa_client_secret_expires.isoformat()
    if left < 0:
        subject = f"LWA client secret expired on {expires}: calls to Amazon fail until LWA_CLIENT_SECRET is rotated"
    elif left == 0:
        subject = f"LWA client secret expires today ({expires}): calls to Amazon will fail; rotate LWA_CLIENT_SECRET"
    else:
        subject = (f"LWA client secret expires in {left} day{'s' if left != 1 else ''} ({expires}): then calls to "
                   "Amazon will fail; rotate LWA_CLIENT_SECRET")
    return alerts.notify(subject, alert_key=f"lwa:secret-expiry:{s.lwa_client_id}", r=r, days_left=left,
                         expires=expires, setting="LWA_CLIENT_SECRET",
                         action="Generate a new client secret in Seller Central (Develop Apps) or the Solution "
                                "Provider Portal, set LWA_CLIENT_SECRET and LWA_CLIENT_SECRET_EXPIRES (180 days on), "
                                "restart the workers")
