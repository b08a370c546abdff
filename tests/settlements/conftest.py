"""Settlement tests reuse the order-to-cash fixtures: the SP-API simulator over HTTP, the seeded SL sandbox on
SQLite (or both engines where a module imports ``on_both_engines``) and the in-process context."""

from tests.orders.conftest import ctx, env, pg_database, pg_template, sim, sl_dsn, sqlite_dsn  # noqa: F401
