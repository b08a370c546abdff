"""The SL columns the order mapping writes, with SL's types and widths.

Widths are SL's own (SOHeader DDL; ``reference/dynamics-sl-columns.tsv``); a test checks this table against
that file where it is present. OM tables have User1-4 CHAR(30), User5-6 FLOAT, User7-8 CHAR(10),
User9-10 SMALLDATETIME (dynamics-sl.md §1).
"""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    kind: str  # char, float, smallint, date
    width: int = 0  # characters, for char columns


def _char(width: int) -> Column:
    return Column("char", width)


SOHEADER: dict[str, Column] = {
    "CustID": _char(15),
    "CustOrdNbr": _char(25),
    "ShipName": _char(60),
    "ShipAttn": _char(30),
    "ShipAddr1": _char(60),
    "ShipAddr2": _char(60),
    "ShipCity": _char(30),
    "ShipState": _char(3),
    "ShipZip": _char(10),
    "ShipCountry": _char(3),
    "ShipPhone": _char(30),
    "ShipViaID": _char(15),
    "User1": _char(30),
    "User2": _char(30),
    "User3": _char(30),
    "User4": _char(30),
    "User5": Column("float"),
    "User6": Column("float"),
    "User7": _char(10),
    "User8": _char(10),
    "User9": Column("date"),
    "User10": Column("date"),
}

# The ship-to block split_address fills, with its SL widths.
SHIP_TO_WIDTHS: dict[str, int] = {
    name: col.width for name, col in SOHEADER.items() if name.startswith("Ship") and name != "ShipViaID"
}

INVTID_WIDTH = 30  # Inventory.InvtID CHAR(30)

# Inventory columns a listing attribute may be read from (finance/master tables: User1-2 CHAR(30),
# User3-4 FLOAT, User5-6 CHAR(10), User7-8 SMALLDATETIME).
INVENTORY: dict[str, Column] = {
    "InvtID": _char(30),
    "Descr": _char(60),
    "ClassID": _char(6),
    "StkUnit": _char(6),
    "UPCCode": _char(30),
    "StkBasePrc": Column("float"),
    "StkWt": Column("float"),
    "User1": _char(30),
    "User2": _char(30),
    "User3": Column("float"),
    "User4": Column("float"),
    "User5": _char(10),
    "User6": _char(10),
    "User7": Column("date"),
    "User8": Column("date"),
}
