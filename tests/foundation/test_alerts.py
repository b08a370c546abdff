"""Alerts: one notifier interface (log, SMTP, webhook, a function), deduplicated per alert key in Redis so an outage
sends one alert and one "resolved". SMTP and the webhook are real servers on 127.0.0.1 started here."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integration import alerts
from integration.config import load_settings


def test_a_thousand_identical_failures_send_one_alert_and_one_resolved(r, sent):
    for n in range(1000):
        alerts.alert("task failed: slsync.orders.import", r=r, kind="transient", message=f"500 #{n}")
    assert [a["alert"] for a in sent] == ["firing"]
    assert sent[0]["subject"] == "task failed: slsync.orders.import" and sent[0]["message"] == "500 #0"
    assert r.hget("slsync:alert:task failed: slsync.orders.import", "count") == "1000"
    assert 0 < r.pttl("slsync:alert:task failed: slsync.orders.import")      # every alert key has a TTL
    resolved = alerts.resolve("task failed: slsync.orders.import", r=r)
    assert resolved["alert"] == "resolved" and resolved["occurrences"] == 1000
    assert alerts.resolve("task failed: slsync.orders.import", r=r) is None   # once
    assert [a["alert"] for a in sent] == ["firing", "resolved"]
    alerts.alert("task failed: slsync.orders.import", r=r)                    # a new outage alerts again
    assert [a["alert"] for a in sent] == ["firing", "resolved", "firing"]


def test_two_different_keys_send_two_alerts(r, sent):
    for _ in range(50):
        alerts.alert("circuit open: amazon.orders", dedup_key="breaker:amazon.orders", r=r)
        alerts.alert("circuit open: sl", dedup_key="breaker:sl", r=r)
    assert sorted(a["alert_key"] for a in sent) == ["breaker:amazon.orders", "breaker:sl"]


def test_a_long_outage_sends_a_reminder_with_the_count(r, sent, fresh_settings, monkeypatch):
    monkeypatch.setenv("ALERT_REPEAT_SECONDS", "1")
    fresh_settings.cache_clear()
    for _ in range(10):
        alerts.alert("order held: missing_field", r=r)
    time.sleep(1.1)
    for _ in range(10):
        alerts.alert("order held: missing_field", r=r)
    assert [(a["alert"], a["occurrences"]) for a in sent] == [("firing", 1), ("reminder", 11)]


def test_an_alert_quiet_for_long_enough_is_resolved_by_the_sweep(r, sent):
    alerts.alert("task failed: slsync.fulfillment.confirm", r=r)
    alerts.alert("task failed: slsync.orders.import", r=r)
    assert alerts.resolve_quiet(r=r, quiet=5) == []
    time.sleep(0.3)
    alerts.alert("task failed: slsync.orders.import", r=r)          # still happening
    done = alerts.resolve_quiet(r=r, quiet=0.25)
    assert [a["subject"] for a in done] == ["resolved: task failed: slsync.fulfillment.confirm"]
    assert [a["alert"] for a in sent] == ["firing", "firing", "resolved"]


def test_with_redis_unreachable_the_alert_is_still_sent(sent):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    record = alerts.alert("SL unreachable", r=dead)
    assert record is not None and sent == [record]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """aiosmtpd on 127.0.0.1 with a login (over plain SMTP, allowed here since it is loopback only)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"ops" and auth_data.password == b"s3cr3t-smtp-pass"
        return AuthResult(success=ok)

    handler = Keep()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=check,
                            auth_require_tls=False, auth_exclude_mechanism=["CRAM-MD5"])
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


def _smtp_env(port: int, **extra) -> dict:
    env = {"SLSYNC_SANDBOX": "true", "ALERT_NOTIFIER": "smtp", "ALERT_SMTP_HOST": "127.0.0.1",
           "ALERT_SMTP_PORT": str(port), "ALERT_SMTP_FROM": "slsync@example.test",
           "ALERT_SMTP_TO": "ops@example.test, oncall@example.test", "ALERT_SMTP_TLS": "none",
           "ALERT_SMTP_USER": "ops", "ALERT_SMTP_PASSWORD": "s3cr3t-smtp-pass"}
    env.update(extra)
    return env


def test_smtp_sends_one_mail_per_alert_and_never_logs_the_password(r, smtp_server, fresh_settings, monkeypatch,
                                                                    caplog):
    caplog.set_level(logging.DEBUG)
    for k, v in _smtp_env(smtp_server.port).items():
        monkeypatch.setenv(k, v)
    fresh_settings.cache_clear()
    assert "s3cr3t" not in repr(fresh_settings())
    for _ in range(100):
        alerts.alert("circuit open: amazon.orders", dedup_key="breaker:amazon.orders", r=r, breaker="amazon.orders")
    alerts.resolve("breaker:amazon.orders", r=r)
    deadline = time.monotonic() + 5
    while len(smtp_server.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(smtp_server.messages) == 2
    first = smtp_server.messages[0]
    assert first.mail_from == "slsync@example.test"
    assert sorted(first.rcpt_tos) == ["oncall@example.test", "ops@example.test"]
    text = first.content.decode()
    assert "Subject: [slsync] circuit open: amazon.orders" in text and '"breaker": "amazon.orders"' in text
    assert "Subject: [slsync] resolved: circuit open: amazon.orders" in smtp_server.messages[1].content.decode()
    # the mail server gone: the notifier fails, is logged without the secret, and the alert itself does not raise
    monkeypatch.setenv("ALERT_SMTP_PORT", str(_free_port()))
    fresh_settings.cache_clear()
    assert alerts.alert("another", r=r) is not None
    assert "failed" in caplog.text and "s3cr3t" not in caplog.text


def test_smtp_settings_are_validated():
    from integration.errors import ConfigError

    with pytest.raises(ConfigError, match="ALERT_SMTP_HOST"):
        load_settings(env={"SLSYNC_SANDBOX": "true", "ALERT_NOTIFIER": "smtp"})
    with pytest.raises(ConfigError, match="ALERT_SMTP_TLS"):
        load_settings(env=_smtp_env(25, ALERT_SMTP_TLS="maybe"))
    s = load_settings(env=_smtp_env(25, ALERT_NOTIFIER="log,smtp"))
    assert [type(n).__name__ for n in alerts.notifiers_for(s)] == ["LogNotifier", "SmtpNotifier"]
    assert "s3cr3t" not in repr(alerts.notifiers_for(s))


@pytest.fixture
def webhook():
    got: list[dict] = []

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", got
    server.shutdown()
    server.server_close()


def test_the_webhook_gets_one_json_post_per_alert_and_one_per_resolution(r, webhook, fresh_settings, monkeypatch):
    url, got = webhook
    monkeypatch.setenv("ALERT_NOTIFIER", "webhook")
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    fresh_settings.cache_clear()
    for _ in range(200):
        alerts.alert("circuit open: sl", dedup_key="breaker:sl", r=r, breaker="sl")
    alerts.resolve("breaker:sl", r=r, breaker="sl")
    assert [(a["alert"], a["subject"]) for a in got] == [("firing", "circuit open: sl"),
                                                         ("resolved", "resolved: circuit open: sl")]
    assert got[1]["occurrences"] == 200
