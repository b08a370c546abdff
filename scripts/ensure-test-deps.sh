#!/usr/bin/env bash
# What the tests need beyond Redis: unixODBC + psqlODBC (the SL layer over pyodbc) and a PostgreSQL server.
set -euo pipefail
if ! odbcinst -q -d 2>/dev/null | grep -qi postgres; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing unixODBC and psqlODBC from Debian ..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unixodbc odbc-postgresql) >/dev/null
  else
    echo "psqlODBC missing: run sudo apt-get install unixodbc odbc-postgresql (PostgreSQL tests will be skipped)" >&2
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || echo "PostgreSQL is not reachable on 127.0.0.1:5432: PostgreSQL tests will be skipped" >&2
exit 0
