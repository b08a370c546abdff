"""parse_amazon_time: the one parser for Amazon's timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from integration.timeutil import parse_amazon_time


def test_z_offset_and_naive_all_come_out_aware():
    assert parse_amazon_time("2026-01-15T10:00:00Z") == datetime(2026, 1, 15, 10, tzinfo=UTC)
    assert parse_amazon_time("2026-01-15T10:00:00") == datetime(2026, 1, 15, 10, tzinfo=UTC)
    local = parse_amazon_time("2026-01-15T12:00:00+02:00")
    assert local.utcoffset() == timedelta(hours=2) and local == datetime(2026, 1, 15, 10, tzinfo=UTC)
    assert parse_amazon_time("2026-01-15").tzinfo is UTC
    assert parse_amazon_time("2026-01-15T10:00:00.5-05:00").tzinfo == timezone(timedelta(hours=-5))


def test_not_a_time_raises_value_error():
    with pytest.raises(ValueError):
        parse_amazon_time("yesterday")
