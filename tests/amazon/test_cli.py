"""``slsync amazon check`` and ``slsync amazon subscribe`` against the simulator."""

from __future__ import annotations

import pytest
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
    result = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", "arn:aws:sqs:us-east-1:123456789012:q"])
    assert result.exit_code == 0, result.output
    assert "ORDER_CHANGE" in result.output and len(sim.state.subscriptions) == 4


@pytest.mark.parametrize("args, why", [
    (["--eventbridge", "123456789012:us-east-1"], "ORDER_CHANGE, FBA_INVENTORY_AVAILABILITY_CHANGES, "
                                                  "REPORT_PROCESSING_FINISHED, FEED_PROCESSING_FINISHED are delivered "
                                                  "by Amazon only through SQS"),
    (["--eventbridge", "123456789012:us-east-1", "--types", "ORDER_CHANGE"], "only through SQS"),
    (["--sqs-arn", "arn:aws:sqs:us-east-1:123456789012:q", "--types", "LISTINGS_ITEM_STATUS_CHANGE"],
     "LISTINGS_ITEM_STATUS_CHANGE is delivered by Amazon only through EventBridge"),
])
def test_subscribe_refuses_a_type_with_a_transport_amazon_does_not_use_for_it(sim, r, redis_url, fresh_settings,
                                                                              monkeypatch, args, why):
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "subscribe", *args])
    assert result.exit_code == 2 and why in " ".join(result.output.split()), result.output
    assert sim.state.destinations == {} and sim.state.subscriptions == {}   # refused before any call


def test_subscribe_puts_each_type_on_its_transport(sim, r, redis_url, fresh_settings, monkeypatch):
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    args = ["amazon", "subscribe", "--sqs-arn", "arn:aws:sqs:us-east-1:123456789012:q",
            "--eventbridge", "123456789012:us-east-1"]
    for _ in range(2):                                                         # idempotent
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    kinds = {d["destinationId"]: next(iter(d["resource"])) for d in sim.state.destinations.values()}
    by = {kind: kinds[s["destinationId"]] for kind, s in sim.state.subscriptions.items()}
    assert by == {"ORDER_CHANGE": "sqs", "FBA_INVENTORY_AVAILABILITY_CHANGES": "sqs",
                  "REPORT_PROCESSING_FINISHED": "sqs", "FEED_PROCESSING_FINISHED": "sqs",
                  "LISTINGS_ITEM_STATUS_CHANGE": "eventBridge", "LISTINGS_ITEM_ISSUES_CHANGE": "eventBridge",
                  "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "eventBridge"}
