"""One schema definition for SL and our xAMZ* tables, rendered per dialect.

A table is a list of ``Column(name, type, length, default)`` plus its primary key. SL's tables come whole
from SL's own table scripts through ``sl_columns.py`` (``sl_tables.tsv``): every column, SL's DEFAULT constraint
or none where SL's script has none (GLTran, ARDoc, ...), SL's key and identities. Ours (DESIGN §4) are written
below as ``Name:code`` tokens with SL's conventions. ``render(dialect)`` turns a set of tables into CREATE
statements for SQLite, PostgreSQL or SQL Server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from integration.sl.sl_columns import SL_TABLES, SLColumn, primary_key

CHAR, FLOAT, SMALLINT, INTEGER, BIGINT, SMALLDATETIME, DATETIME, TEXT = (
    "CHAR", "FLOAT", "SMALLINT", "INTEGER", "BIGINT", "SMALLDATETIME", "DATETIME", "TEXT",
)
NO_DATE = "1900-01-01"
NOW = "CURRENT_TIMESTAMP"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    length: int | None = None
    default: object = None   # None: no DEFAULT (SL's GLTran, ARDoc, ...: every insert supplies the column)
    identity: bool = False
    nullable: bool = False

    @property
    def sql_type(self) -> str:
        """SL's own spelling of the type, e.g. ``CHAR(10)``."""
        return f"CHAR({self.length})" if self.type == CHAR else self.type


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    custom: bool = False
    unique: tuple[tuple[str, tuple[str, ...]], ...] = ()   # unique indexes (our xAMZ keys)
    by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self.by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.by_name[name]


_TYPES = {"f": FLOAT, "s": SMALLINT, "i": INTEGER, "b": BIGINT, "d": SMALLDATETIME, "dt": DATETIME, "t": TEXT,
          "id": INTEGER}
_DEFAULTS = {CHAR: " ", FLOAT: 0, SMALLINT: 0, INTEGER: 0, BIGINT: 0, SMALLDATETIME: NO_DATE, DATETIME: NO_DATE,
             TEXT: ""}


def _column(token: str) -> Column:
    name, _, code = token.partition(":")
    if code.startswith("c") and code[1:].isdigit():
        return Column(name, CHAR, int(code[1:]), " ")
    kind = _TYPES[code]
    default = NOW if name == "Crtd_DateTime" else _DEFAULTS[kind]
    return Column(name, kind, None, None if code == "id" else default, identity=code == "id")


def table(name: str, pk: tuple[str, ...], spec: str, indexes=(), custom: bool = False, unique=()) -> Table:
    return Table(name, tuple(_column(t) for t in spec.split()), tuple(pk), tuple(indexes), custom, tuple(unique))


# SL's declared types -> ours (what SL's scripts for these tables use, and their close kin).
_SL_TYPES = {"CHAR": CHAR, "VARCHAR": CHAR, "NCHAR": CHAR, "NVARCHAR": CHAR, "FLOAT": FLOAT, "REAL": FLOAT,
             "DECIMAL": FLOAT, "NUMERIC": FLOAT, "MONEY": FLOAT, "SMALLINT": SMALLINT, "TINYINT": SMALLINT,
             "BIT": SMALLINT, "INT": INTEGER, "BIGINT": BIGINT, "SMALLDATETIME": SMALLDATETIME, "DATETIME": DATETIME,
             "TEXT": TEXT, "NTEXT": TEXT}


def _sl_default(default: str | None, kind: str):
    """SL's DEFAULT literal as our value: ``' '`` -> ``" "``, ``'01/01/1900'`` -> ``1900-01-01``, ``getdate()``
    -> NOW, ``0`` -> 0; None where SL's script declares no default."""
    if default is None:
        return None
    if default.lower() == "getdate()":
        return NOW
    if default.startswith("'"):
        text = default[1:-1].replace("''", "'")
        if kind in (SMALLDATETIME, DATETIME):
            return datetime.strptime(text, "%m/%d/%Y").date().isoformat()
        return text
    return int(default) if default.lstrip("-").isdigit() else float(default)


def _sl_column(c: SLColumn) -> Column:
    kind = _SL_TYPES[c.type]
    return Column(c.name, kind, c.length if kind == CHAR else None,
                  None if c.identity else _sl_default(c.default, kind), identity=c.identity, nullable=c.nullable)


_AUDIT = "Crtd_DateTime:d Crtd_Prog:c8 Crtd_User:c10 LUpd_DateTime:d LUpd_Prog:c8 LUpd_User:c10"

# Secondary indexes SL has and our reads use (names as in SL).
_SL_INDEXES = {
    "SOShipHeader": (("SOShipHeader1", ("CpnyID", "OrdNbr", "ShipperID")), ("SOShipHeader_LUpd", ("LUpd_DateTime",))),
    "ItemXRef": (("ItemXRef2", ("AlternateID", "AltIDType", "EntityID")),),
    "SOHeader": (("SOHeader5", ("CustID", "Status", "CpnyID", "OrdNbr")),),
    "INTran": (("INTran_BatNbr", ("BatNbr", "CpnyID")),),
}

SL = {name: Table(name, tuple(_sl_column(c) for c in columns), primary_key(name), _SL_INDEXES.get(name, ()))
      for name, columns in SL_TABLES.items()}

# The fencing columns every binding carries (DESIGN §5): the fencing number of the last lease holder that wrote
# the entity and that holder's owner token. A write locks the binding row, refuses a lower number (or the same
# number from another owner) and stamps its own, in the same transaction as the document it writes.
_FENCE = "Fence:b FenceOwner:c32 "

# Our tables (DESIGN §4). Same conventions as SL's: NOT NULL, blank / 0 / 1900 defaults, audit columns.
XAMZ = {
    t.name: t
    for t in (
        table("xAMZOrder", ("AmazonOrderId",),
              "AmazonOrderId:c25 CpnyID:c10 OrdNbr:c15 AmazonStatus:c30 LastUpdated:c30 PayloadHash:c64 "
              "Status:c20 InvcRefNbr:c10 CMRefNbr:c10 ShippedAt:c30 ShipperID:c15 INBatNbr:c10 OriginalOrderId:c25 "
              + _FENCE + _AUDIT,
              (("xAMZOrder1", ("CpnyID", "OrdNbr")),), custom=True),
        table("xAMZShipment", ("CpnyID", "ShipperID"),
              "CpnyID:c10 ShipperID:c15 OrdNbr:c15 AmazonOrderId:c25 Status:c20 Attempts:s PushedAt:dt "
              "Response:t " + _FENCE + _AUDIT, custom=True),
        # A box's whole tracking number where SL's column cuts it (SOShipPack.TrackingNbr is CHAR(20),
        # SOShipHeader.TrackingNbr CHAR(25); a USPS number has 22 digits, SL's own EDContainer_UpdateManifest keeps
        # Right(TrackingNbr, 20) of the 30 characters EDContainer holds). Written by the warehouse's integration
        # or a person; BoxRef is SOShipPack.BoxRef, blank for the number on SOShipHeader. Source: who wrote it.
        table("xAMZTracking", ("CpnyID", "ShipperID", "BoxRef"),
              "CpnyID:c10 ShipperID:c15 BoxRef:c5 TrackingNbr:c40 Source:c20 " + _AUDIT, custom=True),
        # The packageReferenceId each box of a shipper was given at Amazon: chosen once (the next free number
        # within the Amazon order) and reused on every retry, so a repeated confirmShipment edits the same
        # package instead of adding one; the unique key makes two boxes of one order sharing a reference impossible.
        table("xAMZPackage", ("CpnyID", "ShipperID", "BoxRef"),
              "CpnyID:c10 ShipperID:c15 BoxRef:c5 AmazonOrderId:c25 PackageRef:c20 TrackingNbr:c40 " + _AUDIT,
              custom=True, unique=(("xAMZPackage1", ("AmazonOrderId", "PackageRef")),)),
        table("xAMZStock", ("SKU", "SiteGroup"),
              "SKU:c40 SiteGroup:c30 InvtID:c30 Qty:f SentAt:dt FeedId:c40 " + _FENCE + _AUDIT, custom=True),
        table("xAMZSettlement", ("SettlementId",),
              "SettlementId:c30 CpnyID:c10 Module:c2 BatNbr:c10 CuryID:c4 TotalAmt:f LineCount:i "
              "FileChecksum:c64 PostingKey:c64 Status:c20 PostedAt:dt " + _FENCE + _AUDIT, custom=True),
        # Every GL batch a settlement became (one per fiscal period it spans); REPLACED: voided by a re-issued version.
        table("xAMZSettlementBatch", ("SettlementId", "BatNbr"),
              "SettlementId:c30 BatNbr:c10 PerPost:c6 DrTot:f CrTot:f Status:c20 CreatedAt:dt " + _AUDIT, custom=True),
        # One AR document per Amazon event: an invoice per order and shipment (EventKey: the ShipperID, or
        # ORDER for a whole-order invoice), a credit memo per cancellation (CANCEL) or refund (Amazon's id for
        # the refund). The keys make a second document for the same event impossible, even by a bug.
        table("xAMZDocument", ("AmazonOrderId", "DocType", "EventKey"),
              "AmazonOrderId:c25 DocType:c2 EventKey:c40 CpnyID:c10 OrdNbr:c15 RefNbr:c10 BatNbr:c10 Amount:f "
              "CreatedAt:dt TaskId:c60 " + _AUDIT,
              custom=True, unique=(("xAMZDocument1", ("CpnyID", "DocType", "RefNbr")),)),
        # The fence of an entity that has no binding yet (see state.lock_binding).
        table("xAMZFence", ("Entity", "EntityKey"), "Entity:c20 EntityKey:c60 " + _FENCE + _AUDIT, custom=True),
        table("xAMZHold", ("HoldId",),
              "HoldId:id Entity:c20 EntityKey:c60 Reason:c30 Message:t Payload:t Status:c20 Note:t "
              "CreatedAt:dt UpdatedAt:dt " + _AUDIT,
              (("xAMZHold1", ("Status", "Reason")), ("xAMZHold2", ("Entity", "EntityKey"))), custom=True),
        # Value: a watermark; State: a listing's progress between runs (window, Amazon's page token, last key).
        table("xAMZCursor", ("Name",), "Name:c60 Value:c60 State:t UpdatedAt:dt " + _AUDIT, custom=True),
        table("xAMZEvent", ("EventId",),
              "EventId:id At:dt Entity:c20 EntityKey:c60 Action:c30 TaskId:c60 Detail:t " + _AUDIT,
              (("xAMZEvent1", ("Entity", "EntityKey")),), custom=True),
    )
}

TABLES: dict[str, Table] = {**SL, **XAMZ}

# The SL tables the product reads or writes (the sandbox also has SOStep, Ledger, INTran and Snote, which they need).
REQUIRED_SL = (
    "SOHeader", "SOLine", "SOSched", "SOType", "SOShipHeader", "SOShipLine", "SOShipPack", "ShipVia",
    "Inventory", "ItemSite", "ItemXRef", "Site", "INSetup", "Customer", "SOAddress", "Batch", "GLTran",
    "GLSetup", "Account", "SubAcct", "Currncy", "ARDoc", "ARTran", "ARSetup", "TrnsfrDoc", "ProcessQueue",
    "SOTax", "SOMisc", "MiscCharge", "SalesTax", "Terms", "FrtTerms", "FrtTermDet", "ARAdjust",
    "CuryRate", "CuryRtTp", "CMSetup",   # a settlement in a foreign currency (integration/sl/settlement_gl.py)
)


def render(dialect, tables=None) -> list[str]:
    """CREATE TABLE / INDEX statements for ``tables`` (default: all) in ``dialect``."""
    statements: list[str] = []
    for t in (tables if tables is not None else TABLES.values()):
        statements.extend(dialect.create_table(t))
    return statements
