"""Database set-up and the warehouse simulation for the sandbox. Not used by production paths.

``create_tables`` is what ``slsync db init`` runs: our xAMZ* tables only (an SL table is never created or
altered in a customer's database), or with ``sl=True`` SL's tables, whole as SL's own scripts define them
(``schema.SL``), for a sandbox. The other functions write rows SL itself would write (seed data, a confirmed
shipper) so the demo can run end to end.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview, Permanent
from integration.sl import counters, orders, schema
from integration.sl.db import Database
from integration.sl.rows import Rows, forget_plans


def existing_tables(db: Database) -> set[str]:
    db.connection()
    if db.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES"
    return {r[0] for r in db.run(lambda r: r.all(sql), write=False)}


def create_tables(db: Database, *, sl: bool = False) -> list[str]:
    """Create our tables (and with ``sl`` SL's tables); returns the names created. Idempotent."""
    before = existing_tables(db)
    if not sl:
        missing = [t for t in ("SOHeader", "SOType", "GLSetup") if t not in before]
        if missing:
            raise Permanent(f"this does not look like a Dynamics SL database (no {', '.join(missing)}); "
                            "use --sandbox to create a demo database")
    tables = list(schema.TABLES.values()) if sl else list(schema.XAMZ.values())
    upgrades = [db.dialect.add_column_sql(t.name, col) for t in schema.XAMZ.values() if t.name in before
                for col in missing_columns(db, t)]
    if upgrades:
        db.execute_script(upgrades)
        forget_plans()
    db.execute_script(schema.render(db.dialect, tables))
    return [t.name for t in tables if t.name not in before]


def missing_columns(db: Database, t: schema.Table) -> list[schema.Column]:
    """Our columns an existing xAMZ table lacks (it was created by an earlier version)."""
    have = {name.lower() for name, _, _ in columns_of(db, t.name)}
    return [c for c in t.columns if c.name.lower() not in have] if have else []


def columns_of(db: Database, table: str) -> list[tuple[str, str, int | None]]:
    """(column, data type, character length) as the database reports them (for checks)."""
    if db.dialect.name == "sqlite":
        found = db.run(lambda r: r.all(f'PRAGMA table_info("{table}")'), write=False)
        return [(row[1], row[2], None) for row in found]
    sql = ("SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS "
           "WHERE TABLE_NAME = ? ORDER BY ORDINAL_POSITION")
    return [(r[0], r[1], r[2]) for r in db.run(lambda r: r.all(sql, [table]), write=False)]


def insert_rows(db: Database, tables: dict[str, list[dict]]) -> int:
    """Insert seed rows (table -> rows) in one transaction; returns the number of rows."""
    def work(r: Rows) -> int:
        for table, rows in tables.items():
            r.insert_many(table, rows)
        return sum(len(v) for v in tables.values())
    return db.run(work)


def count(db: Database, table: str, where: dict | None = None) -> int:
    cond = " AND ".join(f'"{k}" = ?' for k in (where or {}))
    sql = f'SELECT COUNT(*) FROM "{table}"' + (f" WHERE {cond}" if cond else "")
    return int(db.run(lambda r: r.scalar(sql, list((where or {}).values())), write=False))


def create_confirmed_shipper(db: Database, cpny_id: str, ord_nbr: str, *, quantities: dict[str, Decimal] | None = None,
                             tracking_numbers: list[str] = (), ship_via_id: str = "", ship_date: datetime | None = None,
                             header_tracking_only: bool = False, record_whole: bool = True) -> str:
    """Simulate SL's warehouse: a shipper for ``ord_nbr`` (all open quantities, or ``quantities`` per
    LineRef), confirmed, with one SOShipPack box per tracking number; returns the ShipperID.

    With ``header_tracking_only`` the tracking number goes on SOShipHeader only (no SOShipPack rows). A number
    longer than SL's column (SOShipPack.TrackingNbr CHAR(20), SOShipHeader.TrackingNbr CHAR(25)) is written as a
    manifest integration writes it: SL's column filled to its width with the number's start (what a VARCHAR(20)
    parameter of ADG_APSS_InsertPack keeps), and the whole number in xAMZTracking (Source ``warehouse``); without
    ``record_whole`` only SL's cut value is written (a warehouse whose integration does not know xAMZTracking).
    """
    def work(r: Rows) -> str:
        head = r.one('SELECT "CustID", "CustOrdNbr", "SOTypeID", "OrdDate", "ShipViaID", "ShipSiteID", "ShipName", '
                     '"ShipAddr1", "ShipCity", "ShipState", "ShipZip", "ShipCountry", "CuryID", "Cancelled" '
                     'FROM "SOHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, ord_nbr])
        if head is None or head[13]:
            raise NeedsReview("unknown_order", f"no open sales order {ord_nbr}", fields=("OrdNbr",))
        shipper_id = counters.next_shipper_number(r, cpny_id, head[2])
        when = ship_date or datetime.now()
        lines, merch = [], 0.0
        for i, line in enumerate(orders.order_lines(r, cpny_id, ord_nbr), 1):
            qty = float(quantities.get(line["LineRef"], 0)) if quantities is not None else float(line["QtyOrd"])
            if qty <= 0:
                continue
            merch += qty * float(line["SlsPrice"])
            lines.append({"CpnyID": cpny_id, "ShipperID": shipper_id, "LineRef": f"{i:05d}", "OrdNbr": ord_nbr,
                          "OrdLineRef": line["LineRef"], "InvtID": line["InvtID"], "Descr": line["Descr"],
                          "SiteID": line["SiteID"], "UnitDesc": line["UnitDesc"], "QtyOrd": line["QtyOrd"],
                          "QtyPick": qty, "QtyShip": qty, "SlsPrice": line["SlsPrice"],
                          "CurySlsPrice": line["SlsPrice"], "TotInvc": qty * float(line["SlsPrice"]),
                          "CuryTotInvc": qty * float(line["SlsPrice"]), "Status": "C"})
        trackings = list(tracking_numbers)
        pack_width = schema.SL["SOShipPack"].column("TrackingNbr").length
        head_width = schema.SL["SOShipHeader"].column("TrackingNbr").length
        boxes = ([("", t, head_width) for t in trackings[:1]] if header_tracking_only else
                 [(f"{n:05d}", t, pack_width) for n, t in enumerate(trackings, 1)])
        whole = [{"CpnyID": cpny_id, "ShipperID": shipper_id, "BoxRef": box, "TrackingNbr": t, "Source": "warehouse"}
                 for box, t, width in boxes if len(t) > width and record_whole]
        r.insert("SOShipHeader", {
            "CpnyID": cpny_id, "ShipperID": shipper_id, "OrdNbr": ord_nbr, "SOTypeID": head[2], "Status": "O",
            "CustID": head[0], "CustOrdNbr": head[1], "OrdDate": head[3], "SiteID": head[5],
            "ShipDatePlan": when, "ShipDateAct": when, "ShipViaID": ship_via_id or head[4],
            "TrackingNbr": trackings[0][:head_width] if trackings else "", "ShippingConfirmed": 1,
            "ShippingManifested": 1,
            "TotBoxes": 0 if header_tracking_only else len(trackings), "ShipName": head[6], "ShipAddr1": head[7],
            "ShipCity": head[8], "ShipState": head[9], "ShipZip": head[10], "ShipCountry": head[11],
            "CuryID": head[12], "TotMerch": merch, "CuryTotMerch": merch, "TotInvc": merch, "CuryTotInvc": merch,
            "NextFunctionID": "4043000", "NextFunctionClass": "0100",
        })
        r.insert_many("SOShipLine", lines)
        if not header_tracking_only:
            r.insert_many("SOShipPack", [{"CpnyID": cpny_id, "ShipperID": shipper_id, "BoxRef": f"{n:05d}",
                                          "TrackingNbr": t[:pack_width], "Wght": 1.0}
                                         for n, t in enumerate(trackings, 1)])
        r.insert_many("xAMZTracking", whole)
        return shipper_id
    return db.run(work)



def read_counter(db: Database, cpny_id: str, sotype_id: str) -> str:
    return db.run(lambda r: r.scalar('SELECT "LastOrdNbr" FROM "SOType" WHERE "CpnyID" = ? AND "SOTypeID" = ?',
                                     [cpny_id, sotype_id]), write=False)


def order_numbers(db: Database, cpny_id: str) -> list[tuple[str, int, int, int]]:
    """(OrdNbr, lines, schedules, queue entries) of every order of the company (for checks)."""
    sql = ('SELECT h."OrdNbr", (SELECT COUNT(*) FROM "SOLine" l WHERE l."CpnyID" = h."CpnyID" AND l."OrdNbr" = h."OrdNbr"), '
           '(SELECT COUNT(*) FROM "SOSched" s WHERE s."CpnyID" = h."CpnyID" AND s."OrdNbr" = h."OrdNbr"), '
           '(SELECT COUNT(*) FROM "ProcessQueue" p WHERE p."CpnyID" = h."CpnyID" AND p."SOOrdNbr" = h."OrdNbr") '
           'FROM "SOHeader" h WHERE h."CpnyID" = ? ORDER BY h."OrdNbr"')
    return [tuple(x) for x in db.run(lambda r: r.all(sql, [cpny_id]), write=False)]


def update_rows(db: Database, table: str, values: dict, where: dict | None = None) -> int:
    """Change seed rows (sandbox and tests only: e.g. INSetup switches, ItemSite quantities)."""
    def work(r: Rows) -> int:
        if where:
            return r.update(table, values, where)
        sets = ", ".join(f'"{k}" = ?' for k in values)
        return r.execute(f'UPDATE "{table}" SET {sets}', list(values.values())).rowcount
    return db.run(work)
