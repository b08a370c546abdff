"""Sales orders with 3 lines created per second through the SL gateway, against a raw executemany of the
same rows in the same run, on SQLite and on PostgreSQL through psqlODBC (goal: ratio >= 0.5).

Both sides write the same rows per order (SOHeader, 3 SOLine, 3 SOSched, an SOMisc gift-wrap charge, an SOTax
row, 4 ProcessQueue, xAMZOrder, xAMZEvent: the richer order of issue 12, money checked against Amazon's total)
and commit once per order, as the gateway must (one order = one transaction). The baseline's
rows are built before the clock starts and written with ``executemany`` per table: no binding check, no
counter lock, no validation. The gateway does all of those.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime

ORDERS = {"sqlite": 1000, "postgresql": 200}
CHUNK = 25
PG_SERVER = os.environ.get("SLSYNC_TEST_PG", "Server=127.0.0.1;Port=5432;Uid=postgres")
PG_DRIVER = os.environ.get("SLSYNC_TEST_PG_DRIVER", "PostgreSQL Unicode")


def _orders(prefix: str, count: int):
    from decimal import Decimal

    from integration.sl import MiscCharge, OrderTax
    from tests.sl.builders import a_binding, an_order

    made = []
    for i in range(count):
        order = an_order(lines=3, order_id=f"{prefix}-{i:07d}-0000000", misc=[MiscCharge("GIFTWRAP", Decimal("3.99"))],
                         tax=OrderTax("AMZMF", Decimal("6.13"), Decimal("0.41"), Decimal("0.33")),
                         expected_total=Decimal("90.15"))   # 74.30 + 4.99 freight + 3.99 gift wrap + 6.87 tax
        made.append((order, a_binding(order)))
    return made


def _baseline_rows(db, count: int) -> list[dict[str, list[list]]]:
    """The rows the gateway writes for ``count`` orders, as ready-made parameter lists."""
    from integration.sl.rows import Rows

    rows = Rows(None, db.dialect)
    now = datetime.now()
    out = []
    for n, (order, binding) in enumerate(_orders("B01", count), 1):
        nbr = f"B{n:07d}"
        per = {"SOHeader": [{"CpnyID": "AMZDEMO", "OrdNbr": nbr, "SOTypeID": "SO", "Status": "O",
                             "CustID": order.CustID, "CustOrdNbr": order.CustOrdNbr, "OrdDate": order.OrdDate,
                             "ShipName": order.ShipName, "ShipAddr1": order.ShipAddr1, "ShipCity": order.ShipCity,
                             "ShipState": order.ShipState, "ShipZip": order.ShipZip, "ShipViaID": order.ShipViaID,
                             "TotMerch": 74.30, "TotFrt": 4.99, "TotMisc": 3.99, "TotTax": 6.87, "TotOrd": 90.15,
                             "LineCntr": 3, "TaxID00": "AMZMF", "TermsID": "30", "MiscChrgCntr": 1}],
               "SOLine": [], "SOSched": [], "ProcessQueue": [],
               "SOMisc": [{"CpnyID": "AMZDEMO", "OrdNbr": nbr, "MiscChrgRef": "00001", "MiscChrgID": "GIFTWRAP",
                           "MiscChrg": 3.99, "CuryMiscChrg": 3.99, "MiscAcct": "4020", "MiscSub": "000000"}],
               "SOTax": [{"CpnyID": "AMZDEMO", "OrdNbr": nbr, "TaxID": "AMZMF", "MerchTxbl": 74.30, "MerchTax": 6.13,
                          "FrtTax": 0.41, "MiscTax": 0.33, "TotTax": 6.87, "CuryTotTax": 6.87}],
               "xAMZOrder": [{"AmazonOrderId": binding.amazon_order_id, "CpnyID": "AMZDEMO", "OrdNbr": nbr,
                              "PayloadHash": binding.payload_hash, "Status": "OPEN"}],
               "xAMZEvent": [{"At": now, "Entity": "order", "EntityKey": binding.amazon_order_id,
                              "Action": "sl_order_created", "Detail": "{}"}]}
        for i, line in enumerate(order.lines, 1):
            key = {"CpnyID": "AMZDEMO", "OrdNbr": nbr, "LineRef": f"{i:05d}"}
            per["SOLine"].append({**key, "InvtID": line.invt_id, "SiteID": line.site_id, "QtyOrd": line.qty,
                                  "SlsPrice": line.unit_price, "Status": "O", "User1": line.amazon_item_id,
                                  "ManualPrice": 1, "CancelDate": now, "TaxCat": "TAXABLE", "Taxable": 1})
            per["SOSched"].append({**key, "SchedRef": "00001", "SiteID": line.site_id, "QtyOrd": line.qty,
                                   "CancelDate": now, "TaxID00": "AMZMF", "TaxAmt00": 2.04})
            per["ProcessQueue"].append({"ProcessType": "PLNSO", "CpnyID": "AMZDEMO", "SOOrdNbr": nbr,
                                        "SOLineRef": key["LineRef"], "InvtID": line.invt_id})
        per["ProcessQueue"].append({"ProcessType": "PRCSO", "CpnyID": "AMZDEMO", "SOOrdNbr": nbr})
        out.append({t: [rows._row(t, r) for r in rs] for t, rs in per.items()})
    return out


def _row(engine: str, dsn: str) -> dict:
    """Both sides run in alternating chunks of ``CHUNK`` orders, so a busy machine slows both alike."""
    from integration.sl import open_gateway
    from integration.sl.db import Database

    count = ORDERS[engine]
    db = Database(dsn)
    conn = db.connection()
    prepared = _baseline_rows(db, count)
    sql = {t: db.run(lambda r, t=t: r._plan(t)[3], write=False) for t in prepared[0]}
    cur = conn.cursor()
    gw = open_gateway(dsn, "AMZDEMO")
    orders = _orders("G01", count)
    gw.create_sales_order(*_orders("W01", 1)[0])   # warm the look-ups, as a running worker has them
    base_time = gw_time = 0.0
    for start in range(0, count, CHUNK):
        started = time.perf_counter()
        for order in prepared[start:start + CHUNK]:
            if db.dialect.name == "sqlite":
                cur.execute("BEGIN IMMEDIATE")
            for table, params in order.items():
                cur.executemany(sql[table], params)
            conn.commit()
        base_time += time.perf_counter() - started
        started = time.perf_counter()
        for order, binding in orders[start:start + CHUNK]:
            gw.create_sales_order(order, binding)
        gw_time += time.perf_counter() - started
    gw.close()
    db.close()
    value, base = count / gw_time, count / base_time
    return {"name": f"sl_create_order_{engine}", "metric": "3-line SOs/s gateway vs raw executemany",
            "value": round(value, 1), "baseline": round(base, 1), "ratio": round(value / base, 3),
            "goal": ">= 0.5", "orders": count}


def run() -> list[dict]:
    from integration.sandbox import sl_seed

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        dsn = f"sqlite:///{tmp}/bench.db"
        sl_seed.seed(dsn)
        results.append(_row("sqlite", dsn))
    try:
        import pyodbc

        admin = pyodbc.connect(f"Driver={{{PG_DRIVER}}};{PG_SERVER};Database=test;", autocommit=True, timeout=5)
    except Exception as exc:  # noqa: BLE001 - no PostgreSQL: report the SQLite figure only
        print(f"bench_sl: PostgreSQL through ODBC not available ({exc}); skipped")
        return results
    name = f"slsync_bench_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = f"Driver={{{PG_DRIVER}}};{PG_SERVER};Database={name};"
        sl_seed.seed(dsn)
        results.append(_row("postgresql", dsn))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return results
