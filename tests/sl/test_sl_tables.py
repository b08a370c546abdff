"""The sandbox's SL tables are SL's own: every column of SL's table scripts (integration/sl/sl_tables.tsv), SL's
types, widths and DEFAULT constraints, and a column the product leaves out takes the value SL would give it."""

from __future__ import annotations

import csv
import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

from integration.sl import sandbox
from integration.sl.db import Database
from tests.sl.builders import a_binding, an_order

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "integration" / "sl" / "sl_tables.tsv"
ORDER_TABLES = ("SOHeader", "SOLine", "SOSched", "SOShipPack", "SOTax", "SOMisc")
PG_TYPES = {"CHAR": "character", "FLOAT": "double precision", "SMALLINT": "smallint", "INT": "integer",
            "SMALLDATETIME": "timestamp without time zone", "TEXT": "text"}
SQLITE_TYPES = {"FLOAT": "REAL", "SMALLINT": "SMALLINT", "INT": "INTEGER", "SMALLDATETIME": "TEXT", "TEXT": "TEXT"}


def _shipped() -> dict[str, dict[str, dict[str, str]]]:
    """table -> column -> the shipped row (read here with csv, not through the product's loader)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    with SHIPPED.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            out.setdefault(row["table"], {})[row["column"]] = row
    return out


def _live(db: Database, table: str) -> dict[str, tuple[str, int | None, str | None, bool]]:
    """column -> (type, char length, default as the engine reports it, nullable)."""
    if db.dialect.name == "sqlite":
        rows = db.run(lambda r: r.all(f'PRAGMA table_info("{table}")'), write=False)
        return {r[1]: (r[2], None, r[4], not r[3]) for r in rows}
    sql = ("SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, COLUMN_DEFAULT, IS_NULLABLE "
           "FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = ? AND TABLE_SCHEMA = current_schema()")
    return {r[0]: (r[1], r[2], r[3], r[4] == "YES") for r in db.run(lambda r: r.all(sql, [table]), write=False)}


def _default_matches(sl_default: str, live: str | None) -> bool:
    if not sl_default:
        return live is None
    if live is None:
        return False
    if sl_default == "getdate()":
        return "current_timestamp" in live.lower() or "now()" in live.lower()
    if sl_default == "'01/01/1900'":
        return "1900-01-01" in live
    if sl_default.startswith("'"):
        return live.startswith(sl_default)   # ' ' (PostgreSQL adds ::bpchar)
    return live.split("::")[0].strip("()'") in (sl_default, sl_default + ".0")


def test_the_sandbox_order_tables_have_exactly_sls_columns_types_and_defaults(dsn):
    shipped = _shipped()
    db = Database(dsn)
    try:
        for table in ORDER_TABLES:
            live = _live(db, table)
            assert set(live) == set(shipped[table]), (table, sorted(set(live) ^ set(shipped[table])))
            for name, sl in shipped[table].items():
                kind, length, default, nullable = live[name]
                assert not nullable, (table, name)
                if db.dialect.name == "sqlite":
                    expected = f"CHAR({sl['length']})" if sl["type"] == "CHAR" else SQLITE_TYPES[sl["type"]]
                    assert kind.upper() == expected, (table, name, kind)
                else:
                    assert kind == PG_TYPES[sl["type"]], (table, name, kind)
                    if sl["type"] == "CHAR":
                        assert length == int(sl["length"]), (table, name, length)
                assert _default_matches(sl["default"], default), (table, name, sl["default"], default)
        # What issue 12 is about, as SL's scripts have it (dbo.SOSched.sql, dbo.SOShipPack.sql, dbo.SOTax.sql).
        assert "1900-01-01" in _live(db, "SOSched")["CancelDate"][2]
        if db.dialect.name == "postgresql":
            assert _live(db, "SOShipPack")["TrackingNbr"][:2] == ("character", 20)
            assert _live(db, "SOShipHeader")["TrackingNbr"][:2] == ("character", 25)
        else:
            assert _live(db, "SOShipPack")["TrackingNbr"][0] == "CHAR(20)"
        assert {"TaxID", "TaxCat", "TotTax", "CuryTotTax", "MerchTxbl"} <= set(_live(db, "SOTax"))
        assert _live(db, "GLTran")["Acct"][2] is None   # GLTran's script declares no defaults at all
    finally:
        db.close()


def test_a_column_the_product_does_not_set_comes_back_with_sls_default(dsn):
    db = Database(dsn)
    site = {"InvtID": "WIDGET-0001", "CpnyID": "AMZDEMO", "QtyOnHand": 5}

    def write(r):
        r.insert("ItemSite", {**site, "SiteID": "DFLT1"})                     # LeadTime, CountStatus left out
        r.insert("ItemSite", {**site, "SiteID": "DFLT2", "LeadTime": 0})      # an explicit 0 is written
        r.insert("SOSched", {"CpnyID": "AMZDEMO", "OrdNbr": "DFLT", "LineRef": "00001", "SchedRef": "00001"})
        r.insert("GLTran", {"Module": "GL", "BatNbr": "DFLT", "LineNbr": 1})  # SL declares no defaults here
    db.run(write)
    read = db.run(lambda r: (
        r.all('SELECT "SiteID", "LeadTime", "CountStatus", "QtyOnHand" FROM "ItemSite" WHERE "SiteID" LIKE ? '
              'ORDER BY "SiteID"', ["DFLT%"]),
        r.one('SELECT "CancelDate", "PriorityDate", "Status", "QtyOrd", "Crtd_Prog" FROM "SOSched" '
              'WHERE "OrdNbr" = ?', ["DFLT"]),
        r.one('SELECT "Acct", "DrAmt", "TranDate" FROM "GLTran" WHERE "BatNbr" = ?', ["DFLT"])), write=False)
    items, sched, gl = read
    assert [tuple(row) for row in items] == [("DFLT1", 999, "A", 5), ("DFLT2", 0, "A", 5)]
    assert db.dialect.from_db_datetime(sched[0]) == datetime(1900, 1, 1)
    assert db.dialect.from_db_datetime(sched[1]) == datetime(1900, 1, 1)
    assert tuple(sched[2:]) == ("", 0, "AMZSYNC")
    assert gl[0] == "" and gl[1] == 0 and db.dialect.from_db_datetime(gl[2]) == datetime(1900, 1, 1)
    # The seed writes Inventory through the same Rows without CountStatus: SL's 'A' (dbo.Inventory.sql).
    assert sandbox.count(db, "Inventory", {"CountStatus": "A"}) == sandbox.count(db, "Inventory")
    db.close()


def test_an_order_the_gateway_writes_has_sls_defaults_in_the_columns_it_leaves_out(gateway):
    order = an_order(lines=1)
    ord_nbr = gateway.create_sales_order(order, a_binding(order))
    row = gateway.db.run(lambda r: r.one(
        'SELECT h."S4Future01", h."BuyerName", s."S4Future07", s."LotSerNbr", l."S4Future03" FROM "SOHeader" h '
        'JOIN "SOLine" l ON l."CpnyID" = h."CpnyID" AND l."OrdNbr" = h."OrdNbr" '
        'JOIN "SOSched" s ON s."CpnyID" = l."CpnyID" AND s."OrdNbr" = l."OrdNbr" AND s."LineRef" = l."LineRef" '
        'WHERE h."CpnyID" = ? AND h."OrdNbr" = ?', ["AMZDEMO", ord_nbr]), write=False)
    assert row[0] == "" and row[1] == "" and row[3] == "" and row[4] == 0
    assert gateway.db.dialect.from_db_datetime(row[2]) == datetime(1900, 1, 1)


def _generator():
    spec = importlib.util.spec_from_file_location("sl_tables_gen", ROOT / "scripts" / "sl-tables-from-scripts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The shapes SL's table scripts use (column lines as in dbo.SOSched.sql, dbo.INTran.sql, dbo.GLTran.sql,
# dbo.GLSetup.sql): a named DEFAULT constraint, a bare DEFAULT, none, an identity, the rowversion, a keyed PK.
SCRIPT = """\ufeffCREATE TABLE [dbo].[Demo] (
    [CancelDate]    SMALLDATETIME CONSTRAINT [DF_Demo_CancelDate] DEFAULT ('01/01/1900') NOT NULL,
    [CpnyID]        CHAR (10)     CONSTRAINT [DF_Demo_CpnyID] DEFAULT (' ') NOT NULL,
    [Crtd_DateTime] SMALLDATETIME CONSTRAINT [DF_Demo_Crtd_DateTime] DEFAULT (rtrim(CONVERT([varchar](30),CONVERT([smalldatetime],getdate(),0),0))) NOT NULL,
    [LeadTime]      FLOAT (53)    DEFAULT ((999)) NOT NULL,
    [Acct]          CHAR (10)     NOT NULL,
    [RecordID]      INT           IDENTITY (1, 1) NOT FOR REPLICATION NOT NULL,
    [tstamp]        ROWVERSION    NOT NULL,
    CONSTRAINT [Demo0] PRIMARY KEY CLUSTERED ([CpnyID] ASC, [RecordID] ASC) WITH (FILLFACTOR = 90)
);


GO
CREATE NONCLUSTERED INDEX [Demo1]
    ON [dbo].[Demo]([Acct] ASC);
"""


def test_the_generator_reads_sls_column_lines_defaults_keys_and_identities():
    rows = _generator().parse(SCRIPT.lstrip("\ufeff"), "Demo")
    assert rows == [
        ("Demo", "CancelDate", "SMALLDATETIME", "", "'01/01/1900'", "NOT NULL", "", ""),
        ("Demo", "CpnyID", "CHAR", "10", "' '", "NOT NULL", "1", ""),
        ("Demo", "Crtd_DateTime", "SMALLDATETIME", "", "getdate()", "NOT NULL", "", ""),
        ("Demo", "LeadTime", "FLOAT", "53", "999", "NOT NULL", "", ""),
        ("Demo", "Acct", "CHAR", "10", "", "NOT NULL", "", ""),
        ("Demo", "RecordID", "INT", "", "", "NOT NULL", "2", "1"),
    ]


@pytest.mark.parametrize("table", ORDER_TABLES)
def test_the_shipped_file_has_sls_keys(table):
    keys = {"SOHeader": ["CpnyID", "OrdNbr"], "SOLine": ["CpnyID", "OrdNbr", "LineRef"],
            "SOSched": ["CpnyID", "OrdNbr", "LineRef", "SchedRef"], "SOShipPack": ["CpnyID", "ShipperID", "BoxRef"],
            "SOTax": ["CpnyID", "OrdNbr", "TaxID", "TaxCat"], "SOMisc": ["CpnyID", "OrdNbr", "MiscChrgRef"]}
    shipped = _shipped()[table]
    assert sorted((c for c in shipped.values() if c["pk"]), key=lambda c: int(c["pk"])) == \
        [shipped[name] for name in keys[table]]
