"""Amazon's timestamps in, one way: ``parse_amazon_time``.

SP-API sends ISO 8601 with a ``Z`` (``2026-01-15T10:00:00Z``) or an offset; a time without a zone is taken as
UTC, so every value that comes out can be compared with every other.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_amazon_time(text: str) -> datetime:
    """An aware datetime from ISO 8601 text (``Z`` accepted, naive read as UTC); ``ValueError`` when it is not one."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
