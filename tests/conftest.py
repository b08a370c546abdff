"""Shared fixtures. Tests talk to the real Redis (a dedicated database), real workers and real databases.

``SLSYNC_TEST_REDIS_URL`` picks the Redis database (default db 15); it is flushed at the start of the run.
"""

from __future__ import annotations

import os
import tempfile

import pytest

# No test opens a file outside the clone: an audit hook on open fails the test that does (tests/support/audit.py).
# No silent skips: with CI set, a skip fails unless the test is marked optional with a reason (tests/support/skips.py).
pytest_plugins = ["tests.support.audit", "tests.support.skips"]

TEST_REDIS_URL = os.environ.get("SLSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ["BROKER_URL"] = TEST_REDIS_URL
os.environ.setdefault("SLSYNC_SANDBOX", "true")
os.environ.setdefault("SLSYNC_ENV_FILE", "/nonexistent/.env")  # a developer's .env never leaks into tests
# A worker started without an SL database of its test's (e.g. the retry-policy workers) must not create the
# sandbox's .sandbox/sl.db in the clone: its failures then wait in Redis, as with an unreachable SL.
os.environ.setdefault("SL_DSN", f"sqlite:///{tempfile.gettempdir()}/slsync-tests-no-sl-{os.getpid()}.db")


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


@pytest.fixture
def sent():
    """The alerts raised in this process during the test (a notifier registered for its duration)."""
    from integration import alerts

    got: list[dict] = []
    alerts.register(got.append)
    yield got
    alerts.unregister(got.append)
