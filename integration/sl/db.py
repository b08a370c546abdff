"""Connections and transactions. ``sqlite:///path`` opens the embedded SQLite file; anything else is an
ODBC connection string for pyodbc (SQL Server in production, PostgreSQL through psqlODBC in the tests).

``Database.run(work)`` runs ``work(tx)`` in one transaction and maps driver errors to the taxonomy:
deadlocks, serialization failures and lock time-outs retry the whole transaction a few times, then
raise ``Transient``; a lost connection raises ``Transient`` (the next call reconnects); a duplicate key
raises ``DuplicateKey``; anything else ``Permanent`` with the SQL state.
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
from integration.sl import dialect as dialects
from integration.sl.rows import Rows

T = TypeVar("T")
RETRIES = 8
LOCK_TIMEOUT_MS = 30_000


class DuplicateKey(Permanent):
    """A unique key refused a row; ``on_binding`` says whether it was one of our xAMZ* keys."""

    @property
    def on_binding(self) -> bool:
        return "xamz" in self.message.lower()


class Database:
    """One connection (not shared between threads), opened lazily and re-opened after a loss."""

    def __init__(self, dsn: str, *, timeout: float = 60.0):
        self.dsn = dsn
        self.timeout = timeout
        self._conn = None
        self.dialect = dialects.for_dsn(dsn)
        self.retries = 0  # transactions retried after a deadlock or lock time-out (for tests and metrics)

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
                            details={"dsn": _redact(self.dsn)}) from exc

    def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    # -- transactions ----------------------------------------------------------------------------
    def run(self, work: Callable[[Rows], T], *, write: bool = True, retries: int = RETRIES) -> T:
        """``work(rows)`` in one transaction, retried whole on deadlock / serialization / lock time-out."""
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
        rows = Rows(conn, self.dialect, self.dsn)
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
                             details={"sqlstate": state})
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


class _Retry(Exception):
    """Internal: the transaction lost a lock race and may be run again."""


def _redact(dsn: str) -> str:
    parts = []
    for part in dsn.split(";"):
        key = part.split("=", 1)[0].strip().lower()
        parts.append(f"{part.split('=', 1)[0]}=***" if key in ("pwd", "password") else part)
    return ";".join(parts)
