"""Alerts for a person: one notifier interface used by every flow, deduplicated so an outage sends ONE alert and,
when it clears, one "resolved" — not thousands.

    alerts.alert("task failed: slsync.orders.import", kind="transient", message=...)  # per occurrence
    alerts.resolve("breaker:amazon.orders")                                           # it cleared

Every occurrence is logged (at ERROR). Whether it is *sent* is decided per alert key (``dedup_key``, by default the
subject) in Redis, atomically across every process (``slsync:alert:<key>``, see ``integration.guard.keys``):

- the first occurrence is sent; later ones only count, until ``ALERT_REPEAT_SECONDS`` after the last sending,
  when a reminder goes out with how many times it happened (rate limit per key);
- ``resolve(key)`` sends one "resolved" if the key was firing (the breaker that closes again does it); the
  heartbeat's ``resolve_quiet()`` resolves any alert with no new occurrence for ``ALERT_RESOLVE_AFTER`` seconds;
- the key expires (TTL) a while after its last occurrence, so a forgotten one costs nothing.

If Redis cannot be reached the alert is sent anyway: better twice than never.

Notifiers (``ALERT_NOTIFIER``, comma-separated): ``log`` (the log line only), ``smtp`` (a mail per alert through
``smtplib``: ALERT_SMTP_HOST/PORT/FROM/TO/TLS, optional USER/PASSWORD; the password is never logged), ``webhook``
(POST JSON to ``ALERT_WEBHOOK_URL``), or ``package.module:function`` (your own; it receives one dict). Each is a
``Notifier``: ``send(alert: dict)``. A notifier that fails is logged and never breaks the task that alerted.
The dict has ``subject``, ``at``, ``alert`` ("firing", "reminder" or "resolved"), ``alert_key``, ``occurrences``,
plus the details given.
"""

from __future__ import annotations

import importlib
import json
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

log = logging.getLogger("slsync.alert")
_extra: list[Callable[[dict], None]] = []

# KEYS: alert hash. ARGV: subject, repeat ms, ttl ms -> {verdict ('send', 'remind', 'quiet'), occurrences}
_FIRE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('hincrby', KEYS[1], 'count', 1)
redis.call('hset', KEYS[1], 'last_at', now)
redis.call('pexpire', KEYS[1], ARGV[3])
if n == 1 then
  redis.call('hset', KEYS[1], 'subject', ARGV[1], 'first_at', now, 'sent_at', now)
  return {'send', n}
end
local sent = tonumber(redis.call('hget', KEYS[1], 'sent_at')) or 0
if now - sent >= tonumber(ARGV[2]) then
  redis.call('hset', KEYS[1], 'sent_at', now)
  return {'remind', n}
end
return {'quiet', n}
"""
# KEYS: alert hash. ARGV: quiet ms (0: resolve whatever) -> the hash as a flat list, or {} (not firing / not quiet)
_RESOLVE = """
local fields = redis.call('hgetall', KEYS[1])
if #fields == 0 then return {} end
if tonumber(ARGV[1]) > 0 then
  local t = redis.call('time')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local last = tonumber(redis.call('hget', KEYS[1], 'last_at')) or 0
  if now - last < tonumber(ARGV[1]) then return {} end
end
redis.call('del', KEYS[1])
return fields
"""


class Notifier(Protocol):
    def send(self, alert: dict) -> None: ...


class LogNotifier:
    """Nothing beyond the log line every alert gets anyway."""

    def send(self, alert: dict) -> None:
        return None


class WebhookNotifier:
    def __init__(self, url: str, *, timeout: float = 10.0):
        self.url, self.timeout = url, timeout

    def send(self, alert: dict) -> None:
        import requests

        requests.post(self.url, data=json.dumps(alert, default=str), timeout=self.timeout,
                      headers={"Content-Type": "application/json"}).raise_for_status()

    def __repr__(self) -> str:
        return "WebhookNotifier()"   # the URL may carry a token


class SmtpNotifier:
    """One mail per alert. ``tls``: ``starttls`` (upgrade after EHLO), ``ssl`` (implicit TLS), ``none``."""

    def __init__(self, host: str, port: int, sender: str, recipients: tuple[str, ...], *, tls: str = "starttls",
                 user: str = "", password: str = "", timeout: float = 10.0):
        self.host, self.port, self.sender, self.recipients = host, port, sender, tuple(recipients)
        self.tls, self.user, self._password, self.timeout = tls, user, password, timeout

    def __repr__(self) -> str:
        return f"SmtpNotifier({self.host}:{self.port}, tls={self.tls})"   # never the password

    def message(self, alert: dict) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"[slsync] {alert['subject']}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(json.dumps(alert, indent=2, default=str))
        return msg

    def send(self, alert: dict) -> None:
        if self.tls == "ssl":
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if self.user:
                server.login(self.user, self._password)
            server.send_message(self.message(alert))


class CallableNotifier:
    def __init__(self, func: Callable[[dict], None]):
        self.func = func

    def send(self, alert: dict) -> None:
        self.func(alert)

    def __repr__(self) -> str:
        return f"CallableNotifier({getattr(self.func, '__qualname__', self.func)!r})"


def register(notifier: Callable[[dict], None]) -> None:
    """Add a notifier in-process (tests, embedding): a callable taking the alert dict."""
    _extra.append(notifier)


def unregister(notifier: Callable[[dict], None]) -> None:
    if notifier in _extra:
        _extra.remove(notifier)


def notifiers_for(s) -> list[Notifier]:
    """The notifiers ``ALERT_NOTIFIER`` names."""
    made: list[Notifier] = []
    for name in (n.strip() for n in s.alert_notifier.split(",") if n.strip()):
        if name == "log":
            made.append(LogNotifier())
        elif name == "webhook":
            made.append(WebhookNotifier(s.alert_webhook_url, timeout=s.http_timeout))
        elif name == "smtp":
            made.append(SmtpNotifier(s.alert_smtp_host, s.alert_smtp_port, s.alert_smtp_from, s.alert_smtp_to,
                                     tls=s.alert_smtp_tls, user=s.alert_smtp_user, password=s.alert_smtp_password,
                                     timeout=s.http_timeout))
        else:
            module, _, func = name.partition(":")
            made.append(CallableNotifier(getattr(importlib.import_module(module), func)))
    return made


def _settings():
    from integration.config import settings

    return settings()


def _redis(r):
    if r is not None:
        return r
    from integration.guard import redis_client

    return redis_client()


def _ttl_ms(s) -> int:
    return int(2 * max(s.alert_repeat_seconds, s.alert_resolve_after) * 1000)


def _dispatch(record: dict) -> None:
    notifiers: list = [CallableNotifier(f) for f in _extra]
    try:
        notifiers.extend(notifiers_for(_settings()))
    except Exception:  # a broken notifier setting must not hide the alert itself
        log.exception("alert notifier could not be loaded")
    for notifier in notifiers:
        try:
            notifier.send(record)
        except Exception as exc:
            log.error("alert notifier %r failed: %s: %s", notifier, type(exc).__name__, exc)


def alert(subject: str, *, dedup_key: str | None = None, r=None, **details) -> dict | None:
    """One occurrence of a problem for a person: logged at ERROR; sent unless the same alert key is already firing
    (then only counted, with a reminder every ALERT_REPEAT_SECONDS). Returns what was sent, or None."""
    alert_key = dedup_key or subject
    log.error("ALERT %s %s", subject, {k: v for k, v in details.items() if k != "payload"})
    verdict, count = "send", 1
    try:
        from integration.guard import keys

        s = _settings()
        fire = _redis(r).register_script(_FIRE)
        verdict, count = fire(keys=[keys.alert(alert_key)], args=[subject, int(s.alert_repeat_seconds * 1000),
                                                                   _ttl_ms(s)])
    except Exception as exc:   # Redis away: send rather than stay silent
        log.warning("alert dedup unavailable (%s: %s); sending", type(exc).__name__, exc)
    if verdict == "quiet":
        return None
    record = {"subject": subject, "at": datetime.now(UTC).isoformat(timespec="seconds"),
              "alert": "firing" if verdict == "send" else "reminder", "alert_key": alert_key,
              "occurrences": int(count), **details}
    _dispatch(record)
    return record


def notify(subject: str, *, alert_key: str, r=None, **details) -> dict:
    """Send one alert now, outside the firing / reminder / resolved bookkeeping: for a reminder its caller schedules
    itself (the client-secret expiry, once a day, ``integration.amazon.auth``), which must neither be counted quiet
    nor "resolved" by the heartbeat. Logged at ERROR like every alert."""
    log.error("ALERT %s %s", subject, {k: v for k, v in details.items() if k != "payload"})
    record = {"subject": subject, "at": datetime.now(UTC).isoformat(timespec="seconds"), "alert": "firing",
              "alert_key": alert_key, "occurrences": 1, **details}
    _dispatch(record)
    return record


def _resolved(alert_key: str, fields: list, why: str, details: dict) -> dict:
    state = dict(zip(fields[::2], fields[1::2], strict=True))
    subject = state.get("subject") or alert_key
    record = {"subject": f"resolved: {subject}", "at": datetime.now(UTC).isoformat(timespec="seconds"),
              "alert": "resolved", "alert_key": alert_key, "occurrences": int(state.get("count") or 0),
              "why": why, **details}
    log.warning("ALERT RESOLVED %s (%s occurrence(s); %s)", subject, record["occurrences"], why)
    _dispatch(record)
    return record


def resolve(dedup_key: str, *, r=None, why: str = "cleared", **details) -> dict | None:
    """The problem behind ``dedup_key`` cleared: one "resolved" if it was firing (exactly one across processes)."""
    from integration.guard import keys

    try:
        fields = _redis(r).register_script(_RESOLVE)(keys=[keys.alert(dedup_key)], args=[0])
    except Exception as exc:
        log.warning("alert %s not resolved (%s: %s)", dedup_key, type(exc).__name__, exc)
        return None
    return _resolved(dedup_key, fields, why, details) if fields else None


def resolve_quiet(*, r=None, quiet: float | None = None) -> list[dict]:
    """Resolve every alert with no new occurrence for ``quiet`` seconds (ALERT_RESOLVE_AFTER); from the heartbeat."""
    from integration.guard import keys

    r = _redis(r)
    quiet_ms = int((_settings().alert_resolve_after if quiet is None else quiet) * 1000)
    script = r.register_script(_RESOLVE)
    prefix = keys.alert("")
    sent = []
    for k in r.scan_iter(match=prefix + "*", count=200):
        fields = script(keys=[k], args=[max(quiet_ms, 1)])
        if fields:
            sent.append(_resolved(k[len(prefix):], fields, f"no new occurrence for {quiet_ms / 1000:g}s", {}))
    return sent
