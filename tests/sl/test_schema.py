"""The sandbox schema has every SL table and column the product uses, with SL's names, types and lengths."""

from __future__ import annotations

from click.testing import CliRunner

from integration.sl import dialect, sandbox, schema
from integration.sl.db import Database

DEFAULTS = {"' '": " ", "0": 0, "'1900-01-01'": schema.NO_DATE, "CURRENT_TIMESTAMP": schema.NOW}
PG_TYPES = {"FLOAT": "double precision", "SMALLINT": "smallint", "INTEGER": "integer",
            "SMALLDATETIME": "timestamp without time zone", "TEXT": "text"}


def _reference(reference_columns) -> dict[str, dict[str, dict]]:
    tables: dict[str, dict[str, dict]] = {}
    for row in reference_columns:
        tables.setdefault(row["table"], {})[row["column"]] = row
    return tables


def test_our_definition_matches_sls_columns_types_lengths_and_keys(reference_columns):
    ref = _reference(reference_columns)
    for name in schema.REQUIRED_SL:
        ours = schema.TABLES[name]
        assert [c.name for c in ours.columns] == list(ref[name]), name
        for col in ours.columns:
            r = ref[name][col.name]
            assert col.sql_type == r["type"], (name, col.name)
            assert (r["default"] == "AS") == col.identity
            if not col.identity:
                assert DEFAULTS[r["default"]] == col.default, (name, col.name)
        pk = sorted((int(r["pk_position"]), c) for c, r in ref[name].items() if r["pk_position"])
        assert ours.pk == tuple(c for _, c in pk), name


def test_the_sandbox_database_has_every_table_and_column(dsn, reference_columns):
    ref = _reference(reference_columns)
    db = Database(dsn)
    db.connection()
    present = sandbox.existing_tables(db)
    assert set(schema.REQUIRED_SL) <= present and set(schema.XAMZ) <= present
    for name in schema.REQUIRED_SL:
        live = {c: (t, n) for c, t, n in sandbox.columns_of(db, name)}
        assert set(live) == set(ref[name]), name
        for col, r in ref[name].items():
            kind, length = live[col]
            if db.dialect.name == "sqlite":
                assert kind.upper() == r["type"].replace("SMALLDATETIME", "TEXT").replace("FLOAT", "REAL"), col
            elif r["type"].startswith("CHAR("):
                assert (kind, length) == ("character", int(r["type"][5:-1])), (name, col)
            else:
                assert kind == PG_TYPES[r["type"]], (name, col)
    if db.dialect.name == "postgresql":
        nullable = db.run(lambda r: r.all("SELECT TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS "
                                          "WHERE IS_NULLABLE = 'YES' AND TABLE_SCHEMA = 'public'"))
        assert nullable == []
    db.close()


def test_sl_defaults_are_blank_zero_and_1900(sqlite_dsn):
    db = Database(sqlite_dsn)
    db.run(lambda r: r.execute('INSERT INTO "SubAcct" ("Sub") VALUES (?)', ["99"]))
    row = db.run(lambda r: r.one('SELECT "Descr", "Active", "LUpd_DateTime", "Crtd_DateTime" FROM "SubAcct" '
                                 'WHERE "Sub" = ?', ["99"]))
    assert row[0] == "" and row[1] == 0 and row[2].startswith("1900-01-01") and not row[3].startswith("1900")
    db.close()


def test_sql_server_rendering_has_rowversion_identity_and_sl_types():
    ddl = "\n".join(schema.render(dialect.SQLServerDialect()))
    soheader = next(s for s in schema.render(dialect.SQLServerDialect(), [schema.TABLES["SOHeader"]]))
    assert '"tstamp" ROWVERSION' in soheader and '"OrdDate" SMALLDATETIME NOT NULL' in soheader
    assert 'CONSTRAINT "SOHeader0" PRIMARY KEY ("CpnyID", "OrdNbr")' in soheader
    assert '"ProcessQueueID" INT IDENTITY(1,1)' in ddl and "GETDATE()" in ddl
    xamz = schema.render(dialect.SQLServerDialect(), [schema.XAMZ["xAMZOrder"]])[0]
    assert "ROWVERSION" not in xamz and xamz.startswith("IF OBJECT_ID(N'dbo.xAMZOrder'")


def test_db_init_on_an_sl_database_creates_only_our_tables_and_never_alters_sls(tmp_path):
    from integration.commands.db import db as db_command

    dsn = f"sqlite:///{tmp_path / 'customer.db'}"
    customer = Database(dsn)
    customer.execute_script(schema.render(customer.dialect, list(schema.SL.values())))
    before = {t: sandbox.columns_of(customer, t) for t in schema.SL}
    customer.close()
    result = CliRunner().invoke(db_command, ["init", "--dsn", dsn])
    assert result.exit_code == 0, result.output
    assert f"created {len(schema.XAMZ)} tables" in result.output
    after = Database(dsn)
    assert {t: sandbox.columns_of(after, t) for t in schema.SL} == before
    assert set(schema.XAMZ) <= sandbox.existing_tables(after)
    assert sandbox.count(after, "GLSetup") == 0
    again = CliRunner().invoke(db_command, ["init", "--dsn", dsn])
    assert "created 0 tables" in again.output
    after.close()


def test_db_init_refuses_a_database_that_is_not_sl(tmp_path):
    from integration.commands.db import db as db_command

    result = CliRunner().invoke(db_command, ["init", "--dsn", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code != 0 and "--sandbox" in result.output


def test_db_init_sandbox_seeds_the_demo_company_once(tmp_path):
    from integration.commands.db import db as db_command

    dsn = f"sqlite:///{tmp_path / 'sandbox.db'}"
    first = CliRunner().invoke(db_command, ["init", "--dsn", dsn, "--sandbox"])
    assert first.exit_code == 0 and "seeded demo company AMZDEMO" in first.output
    assert "already seeded" in CliRunner().invoke(db_command, ["init", "--dsn", dsn, "--sandbox"]).output
    check = CliRunner().invoke(db_command, ["check", "--dsn", dsn])
    assert check.exit_code == 0 and "26/26" in check.output


def _as_before_fencing(table):
    """The xAMZ table as an earlier version created it: no fence columns, no listing state."""
    from dataclasses import replace

    dropped = {"Fence", "FenceOwner", "State"}
    return replace(table, columns=tuple(c for c in table.columns if c.name not in dropped), by_name={})


def test_db_init_upgrades_xamz_tables_an_earlier_version_made(dsn):
    """A production database from before fencing: `db check` names what is missing, `db init` adds it, and the
    gateway then fences, keys documents and keeps listing progress there."""
    from integration.commands.db import db as db_command
    from integration.fence import Fence
    from integration.sl import open_gateway
    from integration.sl.rows import forget_plans
    from tests.sl.builders import a_binding, an_order

    old = Database(dsn)
    old.execute_script([f'DROP TABLE "{name}"' for name in schema.XAMZ])
    old.execute_script(schema.render(old.dialect, [_as_before_fencing(t) for name, t in schema.XAMZ.items()
                                                   if name != "xAMZDocument"]))
    old.close()
    forget_plans()
    check = CliRunner().invoke(db_command, ["check", "--dsn", dsn])
    assert check.exit_code == 1 and "xAMZOrder lacks Fence, FenceOwner" in check.output
    assert "missing xAMZDocument" in check.output
    result = CliRunner().invoke(db_command, ["init", "--dsn", dsn])
    assert result.exit_code == 0 and "xAMZDocument" in result.output, result.output
    assert CliRunner().invoke(db_command, ["check", "--dsn", dsn]).exit_code == 0
    gw = open_gateway(dsn, "AMZDEMO")
    try:
        order = an_order(lines=1)
        with gw.fenced(Fence("order", order.CustOrdNbr, 3, "o" * 32)):
            ord_nbr = gw.create_sales_order(order, a_binding(order))
            gw.create_invoice(ord_nbr)
        assert gw.get_order_binding(order.CustOrdNbr).fence == 3
        assert sandbox.count(gw.db, "xAMZDocument", {"AmazonOrderId": order.CustOrdNbr}) == 1
        gw.set_progress("orders.sweep", {"query": {"after": "a"}})
        assert gw.get_progress("orders.sweep") == {"query": {"after": "a"}}
    finally:
        gw.close()


def test_sql_server_upgrade_and_unique_keys_render_as_t_sql():
    mssql = dialect.SQLServerDialect()
    fence = schema.XAMZ["xAMZOrder"].column("Fence")
    assert mssql.add_column_sql("xAMZOrder", fence) == 'ALTER TABLE "xAMZOrder" ADD "Fence" BIGINT NOT NULL DEFAULT 0'
    ddl = schema.render(mssql, [schema.XAMZ["xAMZDocument"]])
    assert 'CONSTRAINT "xAMZDocument0" PRIMARY KEY ("AmazonOrderId", "DocType", "EventKey")' in ddl[0]
    assert ddl[-1] == ("IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'xAMZDocument1') "
                       'CREATE UNIQUE INDEX "xAMZDocument1" ON "xAMZDocument" ("CpnyID", "DocType", "RefNbr")')
