"""Log hygiene and the entity task wrapper."""

from __future__ import annotations

import io
import logging

from integration import logs


def test_secrets_and_tokens_never_reach_the_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactFilter(["my-client-secret-123"]))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("calling with secret %s and token %s", "my-client-secret-123", "Atza|IwEBIA-abc.def")
        try:
            raise RuntimeError("refresh failed for Atzr|secret-refresh-token")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "my-client-secret-123" not in text
    assert "Atza|IwEBIA" not in text and "Atzr|secret" not in text
    assert text.count("[redacted") >= 3
    assert "[- -]" in text  # no task context outside a task


def test_namespaced_keys():
    from integration.guard import keys

    assert keys.lease("order", "111-2") == "slsync:lease:order:111-2"
    assert keys.rate("A1", "getOrder") == "slsync:rate:A1:getOrder"
    assert all(k.startswith("slsync:") for k in (keys.HEARTBEAT, keys.BEAT_LEADER, keys.dedup("n", "1")))


def test_dedup_first_time_only_once(r):
    from integration.guard import dedup

    assert dedup.first_time(r, "notification", "n-1", ttl=5)
    assert not dedup.first_time(r, "notification", "n-1", ttl=5)
    dedup.forget(r, "notification", "n-1")
    assert dedup.first_time(r, "notification", "n-1", ttl=5)
