"""SL test databases: a seeded SQLite file per test, and PostgreSQL through psqlODBC.

PostgreSQL: the run seeds one template database (``slsync_test_<pid>_tpl``) and each test gets a copy
(``CREATE DATABASE ... TEMPLATE``), dropped afterwards, so parallel runs and tests never collide. When the driver
or the server is not there the PostgreSQL tests fail, saying what is missing (``make test`` runs
``scripts/ensure-test-deps.sh``, which installs and starts both or says why it cannot). ``SLSYNC_TEST_PG`` and
``SLSYNC_TEST_PG_DRIVER`` point the tests at another server or driver.
"""

from __future__ import annotations

import itertools
import os

import pytest

PG_SERVER = os.environ.get("SLSYNC_TEST_PG", "Server=127.0.0.1;Port=5432;Uid=postgres")
PG_DRIVER = os.environ.get("SLSYNC_TEST_PG_DRIVER", "PostgreSQL Unicode")
_counter = itertools.count()


def pg_dsn(database: str) -> str:
    return f"Driver={{{PG_DRIVER}}};{PG_SERVER};Database={database};"


def _admin():
    import pyodbc

    # the maintenance database every PostgreSQL server has
    return pyodbc.connect(pg_dsn("postgres" if "Database" not in PG_SERVER else ""), autocommit=True, timeout=5)


@pytest.fixture(scope="session")
def pg_template():
    """Name of a seeded PostgreSQL template database; a missing driver or server fails, saying which."""
    import pyodbc

    if PG_DRIVER not in pyodbc.drivers():
        pytest.fail(f"the ODBC driver {PG_DRIVER!r} is not installed (drivers found: {pyodbc.drivers()}): install "
                    f"unixODBC and psqlODBC (Debian: apt-get install unixodbc odbc-postgresql; make test does it "
                    f"through scripts/ensure-test-deps.sh), or set SLSYNC_TEST_PG_DRIVER", pytrace=False)
    try:
        admin, problem = _admin(), None
    except pyodbc.Error as exc:
        admin, problem = None, exc
    if problem is not None:
        pytest.fail(f"PostgreSQL does not answer through ODBC ({PG_SERVER}): {problem}. Start PostgreSQL on "
                    f"127.0.0.1:5432 with trust for local TCP logins (make test runs scripts/ensure-test-deps.sh), "
                    f"or point SLSYNC_TEST_PG at a server", pytrace=False)
    name = f"slsync_test_{os.getpid()}_tpl"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    from integration.sandbox import sl_seed
    from integration.sl.db import Database

    db = Database(pg_dsn(name))
    sl_seed.seed(db)
    db.close()
    yield name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def pg_database(pg_template):
    """A fresh copy of the seeded template: (dsn, database name)."""
    admin = _admin()
    name = f"slsync_test_{os.getpid()}_{next(_counter)}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield pg_dsn(name), name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def sqlite_dsn(tmp_path):
    from integration.sandbox import sl_seed

    dsn = f"sqlite:///{tmp_path / 'sl.db'}"
    sl_seed.seed(dsn)
    return dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request):
    """A seeded sandbox database on each engine."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_dsn")
    return request.getfixturevalue("pg_database")[0]


@pytest.fixture
def gateway(dsn):
    from integration.sl import open_gateway

    gw = open_gateway(dsn, "AMZDEMO")
    yield gw
    gw.close()
