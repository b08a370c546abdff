"""``slsync amazon check`` and ``slsync amazon subscribe`` against the simulator."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner

from integration.cli import main
from tests.amazon.conftest import granted_queue, sandbox


def env_for(sim, redis_url):
    """The simulator's SP-API and its SQS (where subscribe reads the queue's policy first), never AWS."""
    sqs = sim.outbox.sqs.url or sim.outbox.sqs.start().url
    return {"SLSYNC_SANDBOX": "true", "REDIS_URL": redis_url, "SPAPI_ENDPOINT": sim.url,
            "LWA_TOKEN_URL": sim.url + "/auth/o2/token", "SPAPI_TIME_SCALE": str(sim.clock.scale),
            "SQS_ENDPOINT_URL": sqs, "AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


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
    arn = granted_queue(sim, "q")
    result = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", arn])
    assert result.exit_code == 0, result.output
    assert "ORDER_CHANGE" in result.output and len(sim.state.subscriptions) == 4
    assert "destination slsync " in result.output and f"-> SQS {arn}" in result.output
    assert "warning" not in result.output and "changed" not in result.output


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
    args = ["amazon", "subscribe", "--sqs-arn", granted_queue(sim, "q"), "--eventbridge", "123456789012:us-east-1"]
    for _ in range(2):                                                         # idempotent
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    kinds = {d["destinationId"]: next(iter(d["resource"])) for d in sim.state.destinations.values()}
    by = {kind: kinds[s["destinationId"]] for kind, s in sim.state.subscriptions.items()}
    assert by == {"ORDER_CHANGE": "sqs", "FBA_INVENTORY_AVAILABILITY_CHANGES": "sqs",
                  "REPORT_PROCESSING_FINISHED": "sqs", "FEED_PROCESSING_FINISHED": "sqs",
                  "LISTINGS_ITEM_STATUS_CHANGE": "eventBridge", "LISTINGS_ITEM_ISSUES_CHANGE": "eventBridge",
                  "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "eventBridge"}


def test_subscribe_with_a_new_queue_moves_every_subscription_to_it(sim, r, redis_url, fresh_settings, monkeypatch):
    """The seller replaces the queue: a second subscribe re-points the destination (and says so), and Amazon's
    notifications land in the new queue, none in the old one."""
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    old, new = granted_queue(sim, "q-old"), granted_queue(sim, "q-new")
    first = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", old])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", new])
    assert second.exit_code == 0, second.output
    assert f"-> SQS {new}" in second.output and f"-> SQS {old}" not in second.output
    assert "changed: destination slsync pointed at SQS " + old in second.output, second.output
    arns = {sim.state.destinations[s["destinationId"]]["resource"]["sqs"]["arn"]
            for s in sim.state.subscriptions.values()}
    assert arns == {new} and len(sim.state.subscriptions) == 4
    order = sandbox(sim, "orders", {"lines": [{"sku": "WIDGET-0001", "quantity": 1}]})
    queues = sim.outbox.sqs.queues
    deadline = time.monotonic() + 10
    while not queues["q-new"].messages and time.monotonic() < deadline:
        time.sleep(0.05)
    got = [json.loads(m.body)["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
           for m in queues["q-new"].messages.values()]
    assert order["orderId"] in got and queues["q-old"].messages == {}


def test_subscribe_refuses_a_fifo_queue_saying_why(sim, r, redis_url, fresh_settings, monkeypatch):
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    result = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", "arn:aws:sqs:us-east-1:123456789012:q.fifo"])
    assert result.exit_code == 2
    assert "FIFO queues are not supported by Amazon's notifications; use a Standard queue" in " ".join(
        result.output.split()), result.output
    assert sim.state.destinations == {}


def test_subscribe_warns_about_a_queue_without_amazons_grant(sim, r, redis_url, fresh_settings, monkeypatch):
    """subscribe reads the queue's policy first and names the missing grant; Amazon then refuses the queue."""
    for k, v in env_for(sim, redis_url).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    arn = granted_queue(sim, "bare", policy=None)
    result = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", arn])
    out = " ".join(result.output.split())
    assert "warning: queue bare: its policy does not let arn:aws:iam::437568002678:root call sqs:SendMessage and " \
           "sqs:GetQueueAttributes" in out, out
    assert result.exit_code == 1 and "subscribe failed" in out and "does not allow" in out
    assert sim.state.destinations == {}
    missing = CliRunner().invoke(main, ["amazon", "subscribe", "--sqs-arn", "arn:aws:sqs:us-east-1:000000000000:gone"])
    assert "warning: queue gone does not exist" in missing.output and missing.exit_code == 1
