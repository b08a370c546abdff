"""Connections and transactions. ``sqlite:///path`` opens the embedded SQLite file; anything else is an
ODBC connection string for pyodbc (SQL Server in production, PostgreSQL through psqlODBC in the tests).

``Database.run(work)`` runs ``work(tx)`` in one transaction and maps driver errors to the taxonomy:
deadlocks, serialization failures and lock time-outs retry the whole transaction a few times, then
raise ``Transient``; a lost connection raises ``Transient`` (the next call reconnects); a duplicate key
raises ``DuplicateKey``; anything else ``Permanent`` with the SQL state.

A circuit breaker (``sl``, ``integration.guard.breaker``, shared by every process through Redis) is around
``run``: when the database cannot be reached (connections refused or lost: the ``connection`` Transients; lock
waits and SQL errors prove it answers) for BREAKER_FAILURE_RATE of at least BREAKER_MIN_CALLS transactions in
BREAKER_WINDOW seconds, every process pauses its SL work (``CircuitOpen``, a ``Transient`` with ``retry_after``)
instead of hammering it, and one trial transaction after the cool-down finds out whether it is back. The breaker
costs a Redis round trip at most every 0.5 s per process; with Redis unreachable it steps aside (SL work goes on).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from integration.errors import Permanent, SyncError, Transient
from integration.guard.breaker import CircuitOpen
from integration.sl import dialect as dialects
from integration.sl.rows import Rows
from integration.sl.text import CodePage, codepage, server_codepage

T = TypeVar("T")
RETRIES = 8
LOCK_TIMEOUT_MS = 30_000
BREAKER_RECHECK = 0.5     # a closed verdict of the sl breaker is re-read at most this often per process
REDIS_PAUSE = 10.0        # after a Redis error the breaker steps aside this long (no connect wait per transaction)


class DuplicateKey(Permanent):
    """A unique key refused a row; ``on_binding`` says whether it was one of our xAMZ* keys."""

    @property
    def on_binding(self) -> bool:
        return "xamz" in self.message.lower()


class Database:
    """One connection (not shared between threads), opened lazily and re-opened after a loss."""

    def __init__(self, dsn: str, *, timeout: float = 60.0, breaker=True, codepage_name: str | None = None):
        """``breaker``: True for the ``sl`` breaker built from the settings, a ``Breaker``, or None for none.
        ``codepage_name``: the code page CHAR values are written in (default: the ``SL_CODEPAGE`` setting); SQL
        Server's own, read from its collation when connecting, wins (``text.server_codepage``)."""
        self.dsn = dsn
        self.timeout = timeout
        self._conn = None
        self._breaker = breaker
        self._redis_away_until = 0.0
        self.dialect = dialects.for_dsn(dsn)
        self.retries = 0  # transactions retried after a deadlock or lock time-out (for tests and metrics)
        self.configured_codepage = codepage(codepage_name or _setting_codepage())
        self.codepage: CodePage = self.configured_codepage

    # -- connection ------------------------------------------------------------------------------
    def connection(self):
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self):
        try:
            if self.dsn.startswith("sqlite:///"):
                path = self.dsn[len("sqlite:///"):]
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                return conn
            import pyodbc

            conn = pyodbc.connect(self.dsn, autocommit=False, timeout=int(self.timeout))
            self.dialect = dialects.for_dsn(self.dsn, conn.getinfo(pyodbc.SQL_DBMS_NAME) or "")
            if self.dialect.codepage_sql() is not None:
                self.codepage = self._server_codepage(conn)
            # A lock nobody releases (a stuck session, a person's open transaction in SL) becomes a retry, never a
            # worker waiting forever: PostgreSQL 55P03 and SQL Server 1222 are retried like deadlocks.
            if self.dialect.name == "mssql":
                conn.execute("SET XACT_ABORT ON")
                conn.execute(f"SET LOCK_TIMEOUT {LOCK_TIMEOUT_MS}")
                conn.commit()
            elif self.dialect.name == "postgresql":
                conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
                conn.commit()
            return conn
        except Exception as exc:
            state = str(exc.args[0]) if exc.args else ""
            missing_driver = "can't open lib" in str(exc).lower()
            if state.startswith(("IM", "28")) or missing_driver:   # no driver / DSN, bad login: will not heal
                raise Permanent(f"cannot connect to the SL database [{state}]: {exc}",
                                details={"dsn": _redact(self.dsn), "sqlstate": state}) from exc
            raise Transient(f"cannot connect to the SL database: {exc}", retry_after=5,
                            details={"dsn": _redact(self.dsn), "connection": True}) from exc

    def _server_codepage(self, conn) -> CodePage:
        """The code page the server's CHAR columns hold (``text.server_codepage``); unreadable: SL_CODEPAGE."""
        try:
            found = conn.execute(self.dialect.codepage_sql()).fetchone()
        except Exception as exc:  # noqa: BLE001 - a login that cannot read the catalog still writes, in the setting's
            import logging

            logging.getLogger("slsync.sl").warning("SL code page not readable (%s: %s); SL_CODEPAGE %s is used",
                                                   type(exc).__name__, exc, self.configured_codepage.encoding)
            conn.rollback()
            return self.configured_codepage
        return server_codepage(*(found or (None, None)), self.configured_codepage)

    def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    # -- transactions ----------------------------------------------------------------------------
    # -- the sl breaker -------------------------------------------------------------------------------------------
    @property
    def breaker(self):
        if self._breaker is True:
            try:
                from integration.config import settings
                from integration.guard import redis_client
                from integration.guard.breaker import Breaker, breaker_params

                s = settings()
                self._breaker = Breaker(redis_client(s.redis_url), "sl", recheck=BREAKER_RECHECK,
                                        counts=_sl_unreachable, **breaker_params(s))
            except Exception as exc:   # no settings or no Redis client: SL work goes on without a breaker
                import logging

                logging.getLogger("slsync.sl").warning("no SL breaker: %s: %s", type(exc).__name__, exc)
                self._breaker = None
        return self._breaker

    def _breaker_step(self, step, *args):
        """One breaker call; Redis away -> skip (and do not try again for REDIS_PAUSE s). CircuitOpen passes."""
        import redis

        if self._redis_away_until > time.monotonic():
            return ""
        try:
            return step(*args)
        except redis.RedisError:
            self._redis_away_until = time.monotonic() + REDIS_PAUSE
            return ""

    def run(self, work: Callable[[Rows], T], *, write: bool = True, retries: int = RETRIES) -> T:
        """``work(rows)`` in one transaction, retried whole on deadlock / serialization / lock time-out; behind the
        ``sl`` breaker (``CircuitOpen`` while the database is considered down)."""
        breaker = self.breaker
        if breaker is None:
            return self._run(work, write, retries)
        probe = self._breaker_step(breaker.before_call)
        try:
            result = self._run(work, write, retries)
        except BaseException as exc:
            self._breaker_step(breaker.record, probe, exc)
            raise
        self._breaker_step(breaker.record, probe, None)
        return result

    def _run(self, work, write: bool, retries: int):
        attempt = 0
        while True:
            try:
                return self._once(work, write)
            except _Retry as exc:
                attempt += 1
                if attempt > retries:
                    raise Transient(f"SL database busy after {retries} retries: {exc.args[0]}",
                                    retry_after=1, details={"sqlstate": exc.args[1]}) from exc
                self.retries += 1
                time.sleep(min(2.0, 0.01 * 2 ** attempt) * random.uniform(0.5, 1.5))

    def _once(self, work, write):
        conn = self.connection()
        rows = Rows(conn, self.dialect, self.dsn, self.codepage)
        try:
            if self.dialect.name == "sqlite":
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            result = work(rows)
            conn.commit()
            return result
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, SyncError) or not isinstance(exc, Exception):
                raise
            raise self._map(exc) from exc
        finally:
            rows.close()

    def _rollback(self) -> None:
        if self._conn is None:
            return
        try:
            if self.dialect.name == "sqlite":
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            else:
                self._conn.rollback()
        except Exception:
            self.close()

    def _map(self, exc: Exception) -> Exception:
        kind, state = self.dialect.classify(exc)
        message = " ".join(str(a) for a in exc.args) or type(exc).__name__
        if kind == dialects.RETRY:
            return _Retry(message, state)
        if kind == dialects.CONNECTION:
            self.close()
            return Transient(f"lost the SL database connection: {message}", retry_after=5,
                             details={"sqlstate": state, "connection": True})
        if kind == dialects.DUPLICATE:
            return DuplicateKey(message, details={"sqlstate": state})
        return Permanent(f"SL database error [{state}]: {message}", details={"sqlstate": state})

    def execute_script(self, statements: list[str]) -> None:
        """DDL, one statement at a time, committed at the end."""

        def work(rows: Rows):
            for stmt in statements:
                rows.execute(stmt)

        self.run(work)

    def now(self) -> datetime:
        return datetime.now().replace(microsecond=0)


def _setting_codepage() -> str:
    """``SL_CODEPAGE``; without valid settings (a tool run outside a configured environment) its default."""
    try:
        from integration.config import settings

        return settings().sl_codepage
    except Exception:  # noqa: BLE001 - the settings' own check reports a bad value where they are loaded
        return "cp1252"


def _sl_unreachable(exc: BaseException) -> bool:
    """What the sl breaker counts: the database could not be reached (not a lock wait, not an SQL error)."""
    return isinstance(exc, Transient) and not isinstance(exc, CircuitOpen) and bool(exc.details.get("connection"))


class _Retry(Exception):
    """Internal: the transaction lost a lock race and may be run again."""


def _redact(dsn: str) -> str:
    parts = []
    for part in dsn.split(";"):
        key = part.split("=", 1)[0].strip().lower()
        parts.append(f"{part.split('=', 1)[0]}=***" if key in ("pwd", "password") else part)
    return ";".join(parts)
