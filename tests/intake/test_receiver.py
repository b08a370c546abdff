"""The HTTP receiver over real HTTP (waitress): refusals enqueue nothing; 2xx only once accepted."""

from __future__ import annotations

import json

import pytest
import requests

from integration.intake.receiver import Receiver, serve_in_thread
from tests.intake.conftest import API_KEY, event_bridge, order_change


@pytest.fixture
def http(intake_env, recorder, r):
    server = serve_in_thread("127.0.0.1", 0, app=Receiver(api_key=API_KEY, max_body=4096, enqueue=recorder))
    base = f"http://127.0.0.1:{server.effective_port}"
    yield base
    server.close()


def _post(base, body, key=API_KEY, header="x-api-key", **kw):
    headers = {"Content-Type": "application/json", **({header: key} if key is not None else {})}
    data = body if isinstance(body, bytes | str) or hasattr(body, "__next__") else json.dumps(body)
    return requests.post(f"{base}/notifications", data=data, headers=headers, timeout=10, **kw)


def _nothing_enqueued(recorder, r):
    assert recorder.sent == []
    assert r.llen("sl") == 0
    assert not r.keys("slsync:dedup:notification:*") and not r.keys("slsync:coalesce:*")


def test_an_eventbridge_event_with_the_key_is_accepted_and_enqueued(http, recorder):
    resp = _post(http, event_bridge(order_change("111-0000000-0000010", "2026-01-01T00:00:00Z", nid="n-10")))
    assert resp.status_code == 200 and resp.json() == {"status": "accepted", "notificationId": "n-10"}
    assert recorder.sent == [("slsync.orders.import", ("111-0000000-0000010",), "sl")]
    assert _post(http, order_change("111-0000000-0000010", "2026-01-01T00:00:00Z", nid="n-10")).json()["status"] \
        == "duplicate"


@pytest.mark.parametrize("key", [None, "", "wrong-key", API_KEY[:-1], API_KEY + "x"])
def test_a_request_without_the_right_key_is_refused_and_enqueues_nothing(http, recorder, r, key):
    resp = _post(http, order_change("111-0000000-0000011", "2026-01-01T00:00:00Z"), key=key)
    assert resp.status_code == 401
    _nothing_enqueued(recorder, r)


def test_the_key_in_another_header_does_not_count(http, recorder, r):
    resp = _post(http, order_change("111-0000000-0000011", "2026-01-01T00:00:00Z"), header="Authorization")
    assert resp.status_code == 401
    _nothing_enqueued(recorder, r)


def test_an_oversized_body_is_refused_with_413(http, recorder, r):
    note = order_change("111-0000000-0000012", "2026-01-01T00:00:00Z")
    note["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["ChangeReason"] = "x" * 5000
    assert _post(http, note).status_code == 413
    chunked = _post(http, iter([json.dumps(note).encode()]))           # no Content-Length: counted while read
    assert chunked.status_code == 413
    _nothing_enqueued(recorder, r)


@pytest.mark.parametrize("body", [b"not json", b"{\"NotificationType\": ", b"\xff\xfe", b""])
def test_a_body_that_is_not_json_is_refused_with_400(http, recorder, r, body):
    assert _post(http, body).status_code == 400
    _nothing_enqueued(recorder, r)


def test_other_paths_and_methods_are_refused(http, recorder, r):
    assert requests.get(f"{http}/notifications", timeout=5).status_code == 405
    assert requests.post(f"{http}/other", data="{}", headers={"x-api-key": API_KEY}, timeout=5).status_code == 404
    _nothing_enqueued(recorder, r)


def test_a_schema_failure_is_answered_2xx_and_kept_as_a_hold_with_the_raw_body(http, ctx, recorder):
    note = order_change("111-0000000-0000013", "2026-01-01T00:00:00Z", nid="n-13")
    note["Payload"]["OrderChangeNotification"]["NotificationLevel"] = "Galaxy"
    raw = json.dumps(event_bridge(note))
    resp = _post(http, raw)
    assert resp.status_code == 200 and resp.json()["status"] == "held"
    [hold] = ctx.sl.list_holds(reason="schema_invalid")
    payload = hold.payload if isinstance(hold.payload, dict) else json.loads(hold.payload)
    assert payload["raw"] == raw and any("NotificationLevel" in e for e in payload["errors"])
    assert recorder.sent == []


def test_when_the_broker_fails_the_answer_is_503_and_the_retry_is_accepted(http, recorder):
    note = order_change("111-0000000-0000014", "2026-01-01T00:00:00Z", nid="n-14")
    recorder.fail = True
    resp = _post(http, note)
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    recorder.fail = False
    assert _post(http, note).json()["status"] == "accepted"
    assert len(recorder.sent) == 1


def test_health_answers_200_with_redis_up(http):
    assert requests.get(f"{http}/health", timeout=5).json() == {"status": "ok"}


def test_health_answers_503_without_redis():
    import redis

    app = Receiver(api_key=API_KEY, redis=redis.Redis(port=1, socket_connect_timeout=0.2))
    server = serve_in_thread("127.0.0.1", 0, app=app)
    try:
        assert requests.get(f"http://127.0.0.1:{server.effective_port}/health", timeout=5).status_code == 503
    finally:
        server.close()


def test_serve_refuses_a_public_address_without_an_api_key(env):
    import subprocess
    import sys

    from tests.support.worker import ROOT, child_env

    proc = subprocess.run([sys.executable, "-m", "integration.cli", "intake", "serve", "--host", "0.0.0.0",
                           "--port", "1"], cwd=ROOT, env=child_env({**env, "INTAKE_API_KEY": ""}),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "INTAKE_API_KEY" in proc.stderr
