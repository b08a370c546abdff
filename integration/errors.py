"""The error taxonomy. Adapters translate whatever they see into one of these three at the boundary.

- ``Transient``: worth retrying later (network, 5xx, 429, deadlock, circuit open). May carry
  ``retry_after`` seconds, the earliest moment a retry makes sense.
- ``NeedsReview``: the input cannot be processed until a person acts (unknown SKU, missing field,
  unmapped settlement type). The work is held with ``reason`` and ``fields``; the task succeeds.
- ``Permanent``: will not change by retrying (bad credentials, a 4xx that will not change).
  Fails loudly and alerts.
- ``Superseded``: a write refused because a newer holder of the entity's lease has written (a higher
  fencing number in SL) or because this holder's lease was lost. The newer holder does the work; this
  one stops. Not retried and not a failure, but recorded as an event.
"""

from __future__ import annotations

from collections.abc import Iterable


class SyncError(Exception):
    """Base of the taxonomy; never raised directly."""

    kind = "error"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "details": self.details}


class Transient(SyncError):
    kind = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None, details: dict | None = None):
        super().__init__(message, details=details)
        self.retry_after = None if retry_after is None else max(0.0, float(retry_after))

    def to_dict(self) -> dict:
        return {**super().to_dict(), "retry_after": self.retry_after}


class NeedsReview(SyncError):
    kind = "needs_review"

    def __init__(self, reason: str, message: str, *, fields: Iterable[str] = (), details: dict | None = None):
        super().__init__(message, details=details)
        self.reason = reason
        self.fields = tuple(fields)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "reason": self.reason, "fields": list(self.fields)}


class Permanent(SyncError):
    kind = "permanent"


class Superseded(SyncError):
    kind = "superseded"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and what is expected."""
