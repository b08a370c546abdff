"""Driver errors mapped to the taxonomy: lock races retried, lost connections Transient, the rest Permanent."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from integration.errors import Permanent, Transient
from integration.sl import dialect
from integration.sl.db import Database, DuplicateKey


def test_a_real_postgresql_deadlock_is_retried_and_the_transaction_succeeds(pg_database):
    import pyodbc

    dsn = pg_database[0]
    db = Database(dsn)
    other = pyodbc.connect(dsn, autocommit=False)
    ready = threading.Barrier(2, timeout=10)
    attempts = []

    def work(rows):
        attempts.append(1)
        rows.execute('UPDATE "Account" SET "Descr" = ? WHERE "Acct" = ?', ["ours", "1010"])
        if len(attempts) == 1:
            ready.wait()
        rows.execute('UPDATE "Account" SET "Descr" = ? WHERE "Acct" = ?', ["ours", "1050"])

    def rival():
        # PostgreSQL aborts the transaction whose deadlock check runs first: the rival checks only after 10 s, so
        # the victim is ours whatever the machine's load (and the rival ends its transaction whatever happens)
        other.execute("SET deadlock_timeout = '10s'")
        try:
            other.execute('UPDATE "Account" SET "Descr" = ? WHERE "Acct" = ?', ["theirs", "1050"])
            ready.wait()
            time.sleep(0.3)
            other.execute('UPDATE "Account" SET "Descr" = ? WHERE "Acct" = ?', ["theirs", "1010"])
            other.commit()
        except Exception:
            other.rollback()
            raise

    thread = threading.Thread(target=rival)
    thread.start()
    db.run(work)
    thread.join(10)
    assert len(attempts) >= 2 and db.retries >= 1
    assert db.run(lambda r: r.scalar('SELECT "Descr" FROM "Account" WHERE "Acct" = ?', ["1050"])) == "ours"
    other.close()
    db.close()


def test_a_locked_sqlite_database_is_retried(sqlite_dsn):
    path = sqlite_dsn[len("sqlite:///"):]
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.4, holder.rollback).start()
    db = Database(sqlite_dsn, timeout=0.05)
    db.run(lambda r: r.execute('UPDATE "Account" SET "Descr" = ? WHERE "Acct" = ?', ["x", "1010"]))
    assert db.retries >= 1
    db.close()
    holder.close()


def test_a_lock_that_never_frees_becomes_transient(sqlite_dsn):
    path = sqlite_dsn[len("sqlite:///"):]
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    db = Database(sqlite_dsn, timeout=0.01)
    with pytest.raises(Transient):
        db.run(lambda r: r.execute('UPDATE "Account" SET "Descr" = ?', ["x"]), retries=2)
    holder.rollback()
    holder.close()
    db.close()


def test_a_lost_postgresql_connection_is_transient_and_the_next_call_reconnects(pg_database):
    import pyodbc

    from integration.sl import open_gateway

    dsn, name = pg_database
    gw = open_gateway(dsn, "AMZDEMO")
    assert gw.get_cursor("x") is None
    killer = pyodbc.connect(dsn, autocommit=True)
    killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()",
                   name)
    killer.close()
    with pytest.raises(Transient):
        gw.get_cursor("x")
    gw.set_cursor("x", "after")
    assert gw.get_cursor("x") == "after"
    gw.close()


def test_a_duplicate_key_outside_our_bindings_is_permanent_with_the_sql_state(dsn):
    db = Database(dsn)
    with pytest.raises(DuplicateKey) as caught:
        db.run(lambda r: r.insert("Account", {"Acct": "1010", "Descr": "again"}))
    assert isinstance(caught.value, Permanent) and not caught.value.on_binding
    assert caught.value.details["sqlstate"]
    db.close()


def test_other_sql_errors_are_permanent_with_the_sql_state(dsn):
    db = Database(dsn)
    with pytest.raises(Permanent) as caught:
        db.run(lambda r: r.execute('SELECT "Acct" FROM "NoSuchTable"'))
    assert "sqlstate" in caught.value.details
    db.close()


class _OdbcError(Exception):
    pass


@pytest.mark.parametrize("args, kind", [
    (("40001", "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]Transaction (Process ID 57) was deadlocked "
               "on lock resources with another process and has been chosen as the deadlock victim. Rerun the "
               "transaction. (1205) (SQLExecDirectW)"), dialect.RETRY),
    (("HY000", "[SQL Server]Lock request time out period exceeded. (1222) (SQLExecDirectW)"), dialect.RETRY),
    (("23000", "[SQL Server]Violation of PRIMARY KEY constraint 'xAMZOrder0'. Cannot insert duplicate key in "
               "object 'dbo.xAMZOrder'. (2627) (SQLExecDirectW)"), dialect.DUPLICATE),
    (("08S01", "[Microsoft][ODBC Driver 18 for SQL Server]Communication link failure (0) (SQLExecDirectW)"),
     dialect.CONNECTION),
    (("42S22", "[SQL Server]Invalid column name 'X'. (207) (SQLExecDirectW)"), dialect.OTHER),
])
def test_sql_server_errors_are_classified_by_native_code_and_state(args, kind):
    assert dialect.SQLServerDialect().classify(_OdbcError(*args))[0] == kind


@pytest.mark.parametrize("args, kind", [
    (("40P01", "ERROR: deadlock detected"), dialect.RETRY),
    (("40001", "ERROR: could not serialize access due to concurrent update"), dialect.RETRY),
    (("55P03", "ERROR: could not obtain lock on row"), dialect.RETRY),
    (("23505", 'ERROR: duplicate key value violates unique constraint "xAMZOrder0"'), dialect.DUPLICATE),
    (("08S01", "server closed the connection unexpectedly"), dialect.CONNECTION),
])
def test_postgresql_errors_are_classified_by_sql_state(args, kind):
    assert dialect.PostgresDialect().classify(_OdbcError(*args))[0] == kind


def test_an_unknown_odbc_driver_is_permanent_and_the_password_is_not_shown():
    db = Database("Driver={No Such Driver};Server=127.0.0.1;Uid=x;Pwd=secret;")
    with pytest.raises(Permanent) as caught:
        db.connection()
    assert "secret" not in str(caught.value.details)
