"""An alert notifier for tests: ALERT_NOTIFIER=tests.support.alerts:record keeps alerts in Redis."""

from __future__ import annotations

import json

from integration.guard import keys, redis_client

KEY = keys.key("test", "alerts")


def record(alert: dict) -> None:
    redis_client().rpush(KEY, json.dumps(alert, default=str))


def recorded(r) -> list[dict]:
    return [json.loads(x) for x in r.lrange(KEY, 0, -1)]
