"""Shared fixtures. Tests talk to the real Redis (a dedicated database), real workers and real databases.

``SLSYNC_TEST_REDIS_URL`` picks the Redis database (default db 15); it is flushed at the start of the run.
"""

from __future__ import annotations

import os

import pytest

cd "$(dirname "$0")/.."
export CI="${CI:-true}"  # a skip not declared optional fails the run (tests/support/skips.py)
make test
TEST_REDIS_URL = os.environ.get("SLSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ["BROKER_URL"] = TEST_REDIS_URL
os.environ.setdefault("SLSYNC_SANDBOX", "true")
os.environ.setdefault("SLSYNC_ENV_FILE", "/nonexistent/.env")  # a developer's .env never leaks into tests


@pytest.fixture(scope="session")
def redis_url() -> str:
    return TEST_REDIS_URL


@pytest.fixture
def r(redis_url):
    """A clean Redis database for the test."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def fresh_settings():
    """Reload settings after a test changed the environment."""
    from integration.config import settings

    settings.cache_clear()
    yield settings
    settings.cache_clear()
