#!/usr/bin/env bash
# What the tests need beyond Redis: unixODBC + psqlODBC (the SL layer over pyodbc), a PostgreSQL server that
# takes the tests' login, and moto_server (local SQS). Installs and starts what it can (as root, on Debian);
# otherwise fails, saying what is missing: the tests do not skip.
#   SLSYNC_TEST_PG         connection part of the DSN (default Server=127.0.0.1;Port=5432;Uid=postgres)
#   SLSYNC_TEST_PG_DRIVER  ODBC driver name (default "PostgreSQL Unicode")
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY_VENV:-.venv/bin/python}"
missing=()
is_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
  echo "installing $* from Debian ..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null
}

# 1. unixODBC + psqlODBC
if ! odbcinst -q -d 2>/dev/null | grep -qi postgres; then
  if is_root; then apt_install unixodbc odbc-postgresql; fi
fi
odbcinst -q -d 2>/dev/null | grep -qi postgres ||
  missing+=("psqlODBC: the PostgreSQL ODBC driver is not registered (sudo apt-get install unixodbc odbc-postgresql)")

# 2. a PostgreSQL server on 127.0.0.1:5432 (only when the tests use the default server)
installed_pg=no
if [ -z "${SLSYNC_TEST_PG:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && is_root; then
    apt_install postgresql
    installed_pg=yes
  fi
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    if [ "$installed_pg" = yes ]; then
      # a server this script just installed for the tests: let them log in as postgres over local TCP
      sed -i '1i host all postgres 127.0.0.1/32 trust' "/etc/postgresql/$version/main/pg_hba.conf"
      pg_ctlcluster --skip-systemctl-redirect "$version" main stop 2>/dev/null || true
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && break; sleep 0.2; done
  fi
fi

# 3. the tests' own login, through the driver (what tests/sl/conftest.py does)
if [ ${#missing[@]} = 0 ]; then
  if ! out="$("$PY" - 2>&1 <<'PY'
import os
import pyodbc

driver = os.environ.get("SLSYNC_TEST_PG_DRIVER", "PostgreSQL Unicode")
server = os.environ.get("SLSYNC_TEST_PG", "Server=127.0.0.1;Port=5432;Uid=postgres")
if driver not in pyodbc.drivers():
    raise SystemExit(f"ODBC driver {driver!r} not found (drivers: {pyodbc.drivers()}); set SLSYNC_TEST_PG_DRIVER")
database = "" if "Database" in server else "Database=postgres;"
pyodbc.connect(f"Driver={{{driver}}};{server};{database}", timeout=5).close()
PY
)"; then
    missing+=("PostgreSQL: the tests cannot log in with ${SLSYNC_TEST_PG:-Server=127.0.0.1;Port=5432;Uid=postgres}: ${out##*$'\n'}
    (start PostgreSQL on 127.0.0.1:5432 and allow the postgres user over local TCP, e.g. 'host all postgres 127.0.0.1/32 trust' in pg_hba.conf, or set SLSYNC_TEST_PG)")
  fi
fi

# 4. moto_server (dev extras)
[ -x "$(dirname "$PY")/moto_server" ] ||
  missing+=("moto_server: not in $(dirname "$PY") (make setup, or .venv/bin/pip install -e '.[dev]')")

if [ ${#missing[@]} != 0 ]; then
  echo "The tests need what is missing below; they do not skip without it:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi
