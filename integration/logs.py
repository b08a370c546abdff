"""Logging helpers: task context on every line, and no secret or buyer data in any line.

``TaskContext`` is set by the worker's signals (``workers/signals.py``); ``ContextFilter`` copies it onto
every record so each log line of a task carries its task id and name. ``RedactFilter`` removes the
configured secrets and anything shaped like an LWA token from the final message.
"""

from __future__ import annotations

import contextvars
import logging
import re

task_context: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar("slsync_task", default=("-", "-"))

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(task_name)s %(task_id)s] %(message)s"
_TOKEN = re.compile(r"Atz[ar]\|[A-Za-z0-9_\-|.=+/]+")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "task_id"):
            record.task_name, record.task_id = task_context.get()
        return True


class RedactFilter(logging.Filter):
    """Scrubs secrets from the formatted message; the record keeps no unredacted args."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN.sub("[redacted-token]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def configured_secrets() -> list[str]:
    from integration.config import settings

    s = settings()
    return [s.lwa_client_secret, s.lwa_refresh_token, s.intake_api_key, s.flower_basic_auth.partition(":")[2]]


def install(handler: logging.Handler | None = None, level: str | int = "INFO") -> None:
    """Attach both filters to ``handler`` (default: every root handler), creating one if there is none."""
    root = logging.getLogger()
    if handler is None and not root.handlers:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(h)
        root.setLevel(level if isinstance(level, int) else level.upper())
    try:
        secrets = configured_secrets()
    except Exception:
        secrets = []
    for h in [handler] if handler else root.handlers:
        if not any(isinstance(f, ContextFilter) for f in h.filters):
            h.addFilter(ContextFilter())
            h.addFilter(RedactFilter(secrets))
