"""A Redis that may evict keys is named at start-up and by `slsync config check`. A redis-server of the test's own
(on a free port): the machine's shared Redis is never reconfigured."""

from __future__ import annotations

import pytest

from integration.guard.health import eviction_problem
from tests.support.redis_server import OwnRedis


@pytest.fixture
def own_redis():
    server = OwnRedis("--maxmemory-policy", "allkeys-lru").start()
    yield server.client(), server.url()
    server.stop()


def test_an_evicting_redis_is_named_and_noeviction_is_quiet(own_redis):
    client, _ = own_redis
    assert "allkeys-lru" in eviction_problem(client)
    client.config_set("maxmemory-policy", "noeviction")
    assert eviction_problem(client) is None


def test_config_check_warns_about_an_evicting_redis(own_redis, monkeypatch):
    from click.testing import CliRunner

    from integration.commands.config import config

    _, url = own_redis
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("BROKER_URL", url)
    result = CliRunner().invoke(config, ["check"])
    assert result.exit_code == 0 and "warning: Redis maxmemory-policy is 'allkeys-lru'" in result.output
