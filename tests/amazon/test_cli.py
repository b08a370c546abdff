"""``slsync amazon check`` and ``slsync amazon subscribe`` against the simulator."""

from __future__ import annotations

from click.testing import CliRunner

from integration.cli import main


def env_for(sim, redis_url):
    return {"SLSYNC_SANDBOX": "true", "REDIS_URL": redis_url, "SPAPI_ENDPOINT": sim.url,
            "LWA_TOKEN_URL": sim.url + "/auth/o2/token", "SPAPI_TIME_SCALE": str(sim.clock.scale)}


def test_check_lists_the_marketplaces(sim, r, redis_url, fresh_settings, monkeypatch):
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "check"])
    assert result.exit_code == 0, result.output
    assert "ATVPDKIKX0DER" in result.output and "credentials OK" in result.output


def test_check_fails_cleanly_on_bad_credentials(sim, r, redis_url, fresh_settings, monkeypatch):
    for k, v in {**env_for(sim, redis_url), "LWA_CLIENT_SECRET": "nope-secret"}.items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "check"])
    assert result.exit_code == 1 and "invalid_client" in result.output and "nope-secret" not in result.output


def test_subscribe_creates_destination_and_subscriptions(sim, r, redis_url, fresh_settings, monkeypatch):
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", "arn:aws:sqs:us-east-1:1:q"])
    assert result.exit_code == 0, result.output
    assert "ORDER_CHANGE" in result.output and len(sim.state.subscriptions) == 4
