"""The ``sl`` breaker around ``Database.run``: a database that cannot be reached pauses SL work (CircuitOpen, a
Transient with retry_after) instead of being hammered; one trial after the cool-down resumes it; lock waits and SQL
errors do not count; with Redis unreachable the breaker steps aside."""

from __future__ import annotations

import time

import pytest
import redis

from integration.errors import Permanent, Transient
from integration.guard import Breaker, CircuitOpen
from integration.sl.db import Database, _sl_unreachable


def _sl_breaker(r) -> Breaker:
    return Breaker(r, "sl", min_calls=5, failure_rate=0.5, window=30, reset_timeout=0.5, counts=_sl_unreachable)


def test_an_unreachable_database_opens_the_sl_breaker_then_one_trial_resumes_work(r, tmp_path):
    good = tmp_path / "sl.db"
    db = Database(f"sqlite:///{tmp_path}", breaker=_sl_breaker(r))   # a folder: SQLite cannot open it
    attempts = []
    real_connect = db._connect

    def counted():
        attempts.append(1)
        return real_connect()

    db._connect = counted
    for _ in range(5):
        with pytest.raises(Transient) as err:
            db.run(lambda rows: rows.scalar("SELECT 1"))
        assert err.value.details["connection"] and not isinstance(err.value, CircuitOpen)
    for _ in range(20):                      # paused: no further connection attempt
        with pytest.raises(CircuitOpen) as paused:
            db.run(lambda rows: rows.scalar("SELECT 1"))
        assert 0 < paused.value.retry_after <= 0.5
    assert len(attempts) == 5 and r.hget("slsync:breaker:sl", "state") == "open"
    db.dsn = f"sqlite:///{good}"             # the database is back
    time.sleep(0.6)
    assert db.run(lambda rows: rows.scalar("SELECT 1")) == 1   # the one trial
    assert r.hget("slsync:breaker:sl", "state") is None        # closed
    db.close()


def test_sql_errors_and_lock_waits_do_not_count(r, tmp_path):
    db = Database(f"sqlite:///{tmp_path}/sl.db", breaker=_sl_breaker(r))
    for _ in range(10):
        with pytest.raises(Permanent):
            db.run(lambda rows: rows.execute('SELECT * FROM "NoSuchTable"'))
        with pytest.raises(Transient):
            db.run(lambda rows: (_ for _ in ()).throw(Transient("busy", details={"sqlstate": "HY000"})))
    assert r.hget("slsync:breaker:sl", "state") is None
    db.close()


def test_the_default_breaker_is_the_sl_one_from_the_settings(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/sl.db")
    assert db.breaker.name == "sl" and db.breaker.min_calls >= 1
    assert Database(f"sqlite:///{tmp_path}/sl.db", breaker=None).breaker is None


def test_with_redis_unreachable_the_breaker_steps_aside(tmp_path):
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    db = Database(f"sqlite:///{tmp_path}/sl.db", breaker=Breaker(dead, "sl", counts=_sl_unreachable))
    assert db.run(lambda rows: rows.scalar("SELECT 1")) == 1   # one failed Redis attempt, then it steps aside
    started = time.monotonic()
    for _ in range(20):
        assert db.run(lambda rows: rows.scalar("SELECT 1")) == 1
    assert time.monotonic() - started < 1.0     # no Redis attempt per transaction for a while
    db.close()
