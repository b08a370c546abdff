#!/usr/bin/env python3
"""Regenerate ``integration/sl/sl_tables.tsv`` from Dynamics SL's own table scripts.

    scripts/sl-tables-from-scripts.py /path/to/TimelyFish [--check]

The argument is a clone of a production SL database project (TF: GitHub repository ``ccarson/TimelyFish``, the
SQL Server database project of an SL install); each table is read from ``SolomonApp/dbo/Tables/dbo.<T>.sql``, or from
``SolomonApp_Common/dbo/Tables`` where the table lives there. One TSV row per column, in the script's order:

    table  column  type  length  default  nullable  pk  identity

``type`` and ``length`` as SL declares them (``CHAR`` 10, ``FLOAT`` 53, ``INT``); ``default`` is SL's DEFAULT
constraint as a SQL literal (``' '``, ``0``, ``'01/01/1900'``, ``getdate()`` for SL's
``rtrim(convert(varchar(30), convert(smalldatetime, getdate())))``), empty where the script has none (GLTran,
ARDoc, ...); ``nullable`` is ``NULL`` or ``NOT NULL``; ``pk`` the column's position in the primary key (empty if
not in it); ``identity`` 1 for an IDENTITY column. ``tstamp`` (ROWVERSION) is left out: the dialect adds it where
the engine has one.

With ``--check`` nothing is written; the exit code is 1 if the shipped file differs from what the scripts give.
The product reads only the shipped file, never the scripts.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# The SL tables the product reads or writes (and the sandbox seeds), in the file's order.
TABLES = (
    "SOHeader", "SOLine", "SOSched", "SOLot", "SOType", "SOStep", "SOShipHeader", "SOShipLine", "SOShipPack", "SOTax",
    "SOMisc", "MiscCharge", "ShipVia", "Inventory", "ItemSite", "ItemXRef", "Site", "INSetup", "INTran", "TrnsfrDoc",
    "Customer", "SOAddress", "ARDoc", "ARTran", "ARSetup", "Batch", "GLTran", "GLSetup", "Ledger", "Account",
    "SubAcct", "Currncy", "ProcessQueue", "Snote", "SalesTax", "Terms", "FrtTerms", "FrtTermDet", "ARAdjust",
    "CuryRate", "CuryRtTp", "CMSetup",
)
FOLDERS = ("SolomonApp/dbo/Tables", "SolomonApp_Common/dbo/Tables")
OUT = Path(__file__).resolve().parent.parent / "integration" / "sl" / "sl_tables.tsv"
HEADER = ("table", "column", "type", "length", "default", "nullable", "pk", "identity")

_COLUMN = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s+(?P<type>[A-Za-z]+)\s*(?:\((?P<args>[^)]*)\))?(?P<rest>.*?),?\s*$")
_PK = re.compile(r"PRIMARY\s+KEY\s+(?:NON)?CLUSTERED\s*\((?P<cols>[^)]*)\)", re.I)
_GETDATE = re.compile(r"getdate\(\)", re.I)


def _default(rest: str) -> str:
    """SL's DEFAULT expression after ``DEFAULT``, parentheses balanced, as a plain literal."""
    at = re.search(r"\bDEFAULT\s*\(", rest, re.I)
    if at is None:
        return ""
    depth, start = 0, at.end() - 1
    for i in range(start, len(rest)):
        depth += {"(": 1, ")": -1}.get(rest[i], 0)
        if depth == 0:
            expr = rest[start:i + 1]
            break
    else:
        raise ValueError(f"unbalanced DEFAULT in {rest!r}")
    if _GETDATE.search(expr):
        return "getdate()"
    while expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
    return expr


def parse(script: str, table: str) -> list[tuple[str, ...]]:
    body = script.split("CREATE TABLE", 1)[1].split("\nGO", 1)[0]
    pk_match = _PK.search(body)
    if pk_match is None:
        raise ValueError(f"{table}: no primary key in its script")
    pk = [c.strip().split()[0].strip("[]") for c in pk_match.group("cols").split(",")]
    rows = []
    for line in body.splitlines()[1:]:
        if line.strip().upper().startswith(("CONSTRAINT", ")")) or not line.strip():
            continue
        m = _COLUMN.match(line)
        if m is None:
            raise ValueError(f"{table}: cannot read {line!r}")
        name, sql_type, args, rest = m["name"], m["type"].upper(), (m["args"] or "").replace(" ", ""), m["rest"]
        if sql_type in ("ROWVERSION", "TIMESTAMP"):
            continue
        upper = rest.upper()
        nullable = "NULL" if re.search(r"(?<!NOT )\bNULL\b", upper) and "NOT NULL" not in upper else "NOT NULL"
        rows.append((table, name, sql_type, args, _default(rest), nullable,
                     str(pk.index(name) + 1) if name in pk else "", "1" if "IDENTITY" in upper else ""))
    missing = set(pk) - {r[1] for r in rows}
    if missing:
        raise ValueError(f"{table}: key columns {missing} not found")
    return rows


def generate(root: Path, tables=TABLES) -> str:
    lines = ["\t".join(HEADER)]
    for table in tables:
        found = [root / folder / f"dbo.{table}.sql" for folder in FOLDERS if (root / folder / f"dbo.{table}.sql").exists()]
        if not found:
            raise SystemExit(f"no script for {table} under {root}")
        script = found[0].read_text(encoding="utf-8-sig")
        lines.extend("\t".join(row) for row in parse(script, table))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="clone of the SL database project (holds SolomonApp/dbo/Tables)")
    ap.add_argument("--check", action="store_true", help="only compare with the shipped file")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    text = generate(args.root)
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("sl_tables.tsv matches the scripts" if same else "sl_tables.tsv differs from the scripts")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} columns, {len(TABLES)} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
