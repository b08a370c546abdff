"""The alert hook: every alert is logged, then handed to the configured notifier.

``ALERT_NOTIFIER`` picks the notifier: ``log`` (only the log line), ``webhook`` (POST JSON to
``ALERT_WEBHOOK_URL``), or ``package.module:function`` (your own; it receives one dict). A notifier that
fails is logged and never breaks the task that alerted.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

log = logging.getLogger("slsync.alert")
_extra: list[Callable[[dict], None]] = []


def register(notifier: Callable[[dict], None]) -> None:
    """Add a notifier in-process (tests, embedding)."""
    _extra.append(notifier)


def unregister(notifier: Callable[[dict], None]) -> None:
    if notifier in _extra:
        _extra.remove(notifier)


def _configured() -> Callable[[dict], None] | None:
    from integration.config import settings

    s = settings()
    if s.alert_notifier == "log":
        return None
    if s.alert_notifier == "webhook":
        url, timeout = s.alert_webhook_url, s.http_timeout

        def post(alert: dict) -> None:
            import requests

            requests.post(url, json=alert, timeout=timeout).raise_for_status()

        return post
    module, _, func = s.alert_notifier.partition(":")
    return getattr(importlib.import_module(module), func)


def alert(subject: str, **details) -> dict:
    """Raise an alert for a person: logged at ERROR, then sent to every notifier."""
    record = {"subject": subject, "at": datetime.now(UTC).isoformat(timespec="seconds"), **details}
    log.error("ALERT %s %s", subject, {k: v for k, v in details.items() if k != "payload"})
    notifiers = list(_extra)
    try:
        configured = _configured()
    except Exception:  # a broken notifier setting must not hide the alert itself
        log.exception("alert notifier could not be loaded")
        configured = None
    if configured is not None:
        notifiers.append(configured)
    for notify in notifiers:
        try:
            notify(record)
        except Exception:
            log.exception("alert notifier %r failed", notify)
    return record
