"""The sandbox schema has every SL table and column the product uses, with SL's names, types and lengths."""

from __future__ import annotations

from click.testing import CliRunner

from integration.sl import dialect, sandbox, schema
from integration.sl.db import Database

PG_TYPES = {"FLOAT": "double precision", "SMALLINT": "smallint", "INTEGER": "integer",
            "SMALLDATETIME": "timestamp without time zone", "TEXT": "text"}

# What SL's own DDL says, written here as literals from the team's SL notes (SL 2015 application database), apart from
# ``sl_columns.py``: a key or a width mistyped there fails here. Keys in key order; columns are the ones the product
# reads or writes, or whose width decides whether an Amazon value fits.
KEYS = {
    "SOHeader": ("CpnyID", "OrdNbr"), "SOLine": ("CpnyID", "OrdNbr", "LineRef"),
    "SOSched": ("CpnyID", "OrdNbr", "LineRef", "SchedRef"), "SOType": ("CpnyID", "SOTypeID"),
    "SOShipHeader": ("CpnyID", "ShipperID"), "SOShipLine": ("CpnyID", "ShipperID", "LineRef"),
    "SOShipPack": ("CpnyID", "ShipperID", "BoxRef"), "ShipVia": ("CpnyID", "ShipViaID"),
    "Inventory": ("InvtID",), "ItemSite": ("InvtID", "SiteID"),
    "ItemXRef": ("InvtID", "AltIDType", "EntityID", "AlternateID"), "Site": ("SiteId",), "INSetup": ("SetupId",),
    "Customer": ("CustId",), "SOAddress": ("CustId", "ShipToId"), "Batch": ("Module", "BatNbr"),
    "GLTran": ("Module", "BatNbr", "LineNbr"), "GLSetup": ("SetupId",), "Account": ("Acct",), "SubAcct": ("Sub",),
    "Currncy": ("CuryId",), "ARDoc": ("CustId", "DocType", "RefNbr", "BatNbr", "BatSeq"),
    "ARTran": ("CustId", "TranType", "RefNbr", "LineNbr", "RecordID"), "ARSetup": ("SetupId",),
    "TrnsfrDoc": ("TrnsfrDocNbr", "CpnyID"), "ProcessQueue": ("ProcessQueueID",),
    "SOTax": ("CpnyID", "OrdNbr", "TaxID", "TaxCat"), "SOMisc": ("CpnyID", "OrdNbr", "MiscChrgRef"),
    "MiscCharge": ("MiscChrgID",), "SalesTax": ("TaxType", "TaxId"), "Terms": ("TermsId",),
    "FrtTerms": ("FrtTermsID",), "FrtTermDet": ("FrtTermsID", "MinOrderVal"),
    "ARAdjust": ("AdjdRefNbr", "RecordID"),
    "CuryRate": ("FromCuryId", "ToCuryId", "RateType", "EffDate"), "CuryRtTp": ("RateTypeId",),
    "CMSetup": ("SetupId",),
}
F, S, INT, D = "FLOAT", "SMALLINT", "INTEGER", "SMALLDATETIME"


def C(n: int) -> str:
    return f"CHAR({n})"


COLUMNS = {
    "ARAdjust": {"AdjdRefNbr": C(10), "AdjdDocType": C(2), "AdjgRefNbr": C(10), "AdjgDocType": C(2), "AdjAmt": F,
                 "CuryAdjdAmt": F, "CuryAdjgAmt": F, "CustId": C(15), "AdjBatNbr": C(10)},
    "SOHeader": {"CpnyID": C(10), "OrdNbr": C(15), "SOTypeID": C(4), "Status": C(1), "CustID": C(15),
                 "CustOrdNbr": C(25), "OrdDate": D, "ShipName": C(60), "ShipAddr1": C(60), "ShipAddr2": C(60),
                 "ShipAttn": C(30), "ShipCity": C(30), "ShipPhone": C(30), "ShipState": C(3), "ShipZip": C(10),
                 "ShipCountry": C(3), "ShipViaID": C(15), "ShiptoType": C(1), "ShiptoID": C(10), "ShipCustID": C(15),
                 "ShipAddrID": C(10), "ShipAddrSpecial": S, "ShipSiteID": C(10), "TotMerch": F, "TotOrd": F,
                 "CuryTotOrd": F, "CuryID": C(4), "CuryMultDiv": C(1), "CuryRate": F, "CuryRateType": C(6),
                 "NextFunctionID": C(8), "NextFunctionClass": C(4), "AdminHold": S, "Cancelled": S, "LineCntr": S,
                 "PerPost": C(6), "EDIPOID": C(10), "TermsID": C(2), "SlsperID": C(10), "ARAcct": C(10),
                 "ARSub": C(24), "NoteId": INT},
    "SOLine": {"LineRef": C(5), "LineNbr": S, "InvtID": C(30), "AlternateID": C(30), "AltIDType": C(1),
               "Descr": C(60), "SiteID": C(10), "UnitDesc": C(6), "UnitMultDiv": C(1), "CnvFact": F, "QtyOrd": F,
               "QtyShip": F, "QtyBO": F, "SlsPrice": F, "CurySlsPrice": F, "DiscPct": F, "SlsAcct": C(10),
               "SlsSub": C(24), "TaxCat": C(10), "Taxable": S, "Status": C(1), "ReqDate": D, "SchedCntr": S},
    "SOSched": {"SchedRef": C(5), "SiteID": C(10), "ShipSiteID": C(10), "Status": C(1), "Hold": S, "QtyOrd": F,
                "ReqDate": D, "PromDate": D, "CancelDate": D, "ShipViaID": C(15)},
    "SOTax": {"TaxID": C(10), "TaxCat": C(10), "TaxRate": F, "MerchTxbl": F, "MerchTax": F, "FrtTxbl": F, "FrtTax": F,
              "MiscTxbl": F, "MiscTax": F, "TotTxbl": F, "TotTax": F, "CuryTotTax": F},
    "SOMisc": {"MiscChrgRef": C(5), "MiscChrgID": C(10), "Descr": C(30), "MiscChrg": F, "CuryMiscChrg": F,
               "MiscAcct": C(10), "MiscSub": C(24), "Taxable": S, "TaxCat": C(10)},
    "SalesTax": {"TaxType": C(1), "TaxId": C(10), "Descr": C(30), "TaxRate": F, "SlsTaxAcct": C(10),
                 "SlsTaxSub": C(24), "PrcTaxIncl": C(1)},
    "MiscCharge": {"MiscChrgID": C(10), "Descr": C(30), "MiscAcct": C(10), "MiscSub": C(31), "TaxCat": C(10),
                   "Taxable": S},
    "Terms": {"TermsId": C(2), "Descr": C(30), "DueType": C(1), "DueIntrv": S, "DiscPct": F, "COD": S},
    "FrtTerms": {"FrtTermsID": C(10), "Descr": C(30), "Collect": S},
    "FrtTermDet": {"FrtTermsID": C(10), "MinOrderVal": F, "FreightPct": F, "HandlingChg": F, "InvcAmtPct": F},
    "SOType": {"Behavior": C(4), "Descr": C(30), "Active": S, "OrdNbrPrefix": C(15), "OrdNbrType": C(4),
               "LastOrdNbr": C(10), "ARSub": C(31), "SlsSub": C(31)},
    "SOShipHeader": {"ShipperID": C(15), "OrdNbr": C(15), "Status": C(1), "Cancelled": S, "CustID": C(15),
                     "CustOrdNbr": C(25), "SiteID": C(10), "ShipDatePlan": D, "ShipDateAct": D, "ShipViaID": C(15),
                     "TrackingNbr": C(25), "ShippingConfirmed": S, "TotBoxes": S, "TotShipWght": F,
                     "InvcNbr": C(15), "ARDocType": C(2), "ARBatNbr": C(10), "INBatNbr": C(10),
                     "ShipRegisterID": C(10), "PerPost": C(6)},
    "SOShipLine": {"OrdNbr": C(15), "OrdLineRef": C(5), "InvtID": C(30), "SiteID": C(10), "QtyShip": F},
    "SOShipPack": {"BoxRef": C(5), "TrackingNbr": C(20), "PackageID": C(15), "Wght": F},
    "ShipVia": {"Descr": C(30), "CarrierID": C(10), "SCAC": C(5), "TransitTime": S},
    "Inventory": {"InvtID": C(30), "Descr": C(60), "ClassID": C(6), "StkUnit": C(6), "DfltSOUnit": C(6),
                  "DfltSite": C(10), "TranStatusCode": C(2), "Status": C(1), "StkItem": S, "LotSerTrack": C(2),
                  "UPCCode": C(30), "TaxCat": C(10), "StkBasePrc": F, "StkWt": F, "GLClassID": C(4)},
    "ItemSite": {"CpnyID": C(10), "QtyOnHand": F, "QtyAvail": F, "QtyAllocSO": F, "QtyCustOrd": F,
                 "QtyShipNotInv": F, "AvgCost": F},
    "ItemXRef": {"AlternateID": C(30), "AltIDType": C(1), "EntityID": C(15), "Descr": C(60), "Unit": C(6),
                 "UnitPrice": F, "Sequence": S},
    "Site": {"SiteId": C(10), "CpnyID": C(10), "Name": C(30)},
    "INSetup": {"LastBatNbr": C(10), "CurrPerNbr": C(6), "DecPlQty": S},
    "Customer": {"CustId": C(15), "Name": C(60), "Attn": C(30), "Addr1": C(60), "City": C(30), "State": C(3),
                 "Zip": C(10), "Country": C(3), "Phone": C(30), "EMailAddr": C(80), "ClassId": C(6),
                 "Status": C(1), "Terms": C(2), "CuryId": C(4), "ArAcct": C(10), "ArSub": C(24),
                 "DfltShipToId": C(10)},
    "SOAddress": {"ShipToId": C(10), "Descr": C(30), "Name": C(60), "Attn": C(30), "Addr1": C(60), "Addr2": C(60),
                  "City": C(30), "State": C(3), "Zip": C(10), "Country": C(3), "Phone": C(30), "EMailAddr": C(80),
                  "ShipViaID": C(15), "SiteID": C(10), "Status": C(1)},
    "ARDoc": {"DocType": C(2), "RefNbr": C(10), "BatNbr": C(10), "BatSeq": INT, "CpnyID": C(10), "DocClass": C(1),
              "DocDate": D, "DocDesc": C(30), "OrigDocAmt": F, "DocBal": F, "PerPost": C(6), "Rlsed": S,
              "OpenDoc": S, "Status": C(1), "OrdNbr": C(15), "CustOrdNbr": C(25), "Terms": C(2)},
    "ARTran": {"BatNbr": C(10), "DrCr": C(1), "TranAmt": F, "InvtId": C(30), "Qty": F, "UnitPrice": F,
               "ShipperID": C(15), "OrdNbr": C(15), "TranDate": D, "TranDesc": C(30), "TranClass": C(1),
               "LineId": INT},
    "ARSetup": {"LastBatNbr": C(10), "LastRefNbr": C(10), "CurrPerNbr": C(6)},
    "Batch": {"Module": C(2), "BatNbr": C(10), "CpnyID": C(10), "LedgerID": C(10), "BalanceType": C(1),
              "CuryId": C(4), "CuryRate": F, "Status": C(1), "Rlsed": S, "BatType": C(1), "JrnlType": C(3),
              "EditScrnNbr": C(5), "PerEnt": C(6), "PerPost": C(6), "Descr": C(30), "CrTot": F, "DrTot": F,
              "CtrlTot": F},
    "GLTran": {"LineNbr": S, "LineId": INT, "LineRef": C(5), "LedgerID": C(10), "Acct": C(10), "Sub": C(24),
               "DrAmt": F, "CrAmt": F, "CuryDrAmt": F, "CuryCrAmt": F, "FiscYr": C(4), "PerEnt": C(6),
               "PerPost": C(6), "TranDate": D, "TranDesc": C(30), "TranType": C(2), "JrnlType": C(3),
               "RefNbr": C(10), "ExtRefNbr": C(15), "Id": C(20), "Posted": C(1), "Rlsed": S},
    "GLSetup": {"CpnyId": C(10), "LedgerID": C(10), "BaseCuryId": C(4), "PerNbr": C(6), "NbrPer": S,
                "BegFiscalYr": S, "FiscalPerEnd00": C(4), "FiscalPerEnd12": C(4), "LastBatNbr": C(10),
                "RetEarnAcct": C(10), "YtdNetIncAcct": C(10)},
    "Account": {"Acct": C(10), "Descr": C(30), "AcctType": C(2), "Active": S, "ClassID": C(10)},
    "SubAcct": {"Sub": C(24), "Descr": C(30), "Active": S},
    "Currncy": {"CuryId": C(4), "DecPl": S, "RealGainAcct": C(10), "RealGainSub": C(24), "RealLossAcct": C(10),
                "RealLossSub": C(24)},
    "CuryRate": {"FromCuryId": C(4), "ToCuryId": C(4), "RateType": C(6), "EffDate": D, "MultDiv": C(1), "Rate": F,
                 "RateReciprocal": F},
    "CuryRtTp": {"RateTypeId": C(6), "Descr": C(30)},
    "CMSetup": {"SetupId": C(2), "GLRtTpDflt": C(6), "MCActivated": S},
    "TrnsfrDoc": {"TrnsfrDocNbr": C(10), "BatNbr": C(10), "SiteID": C(10), "ToSiteID": C(10),
                  "TransferType": C(1), "Status": C(1), "Source": C(2), "ShipperID": C(15), "ShipViaID": C(15),
                  "TranDate": D, "RefNbr": C(15), "Comment": C(30)},
    "ProcessQueue": {"ProcessQueueID": INT, "ProcessType": C(5), "ProcessPriority": S, "ProcessAt": D,
                     "CpnyID": C(10), "SOOrdNbr": C(15), "SOLineRef": C(5), "SOSchedRef": C(5), "SOShipperID": C(15),
                     "InvtID": C(30), "SiteID": C(10), "CustID": C(15), "ComputerName": C(21)},
}
AUDIT = {"Crtd_DateTime": D, "Crtd_Prog": C(8), "Crtd_User": C(10), "LUpd_DateTime": D, "LUpd_Prog": C(8),
         "LUpd_User": C(10)}
# Two layouts of SL's user fields: order management tables, and finance and master tables.
USER_OM = {"User1": C(30), "User2": C(30), "User3": C(30), "User4": C(30), "User5": F, "User6": F,
           "User7": C(10), "User8": C(10), "User9": D, "User10": D}
USER_FINANCE = {"User1": C(30), "User2": C(30), "User3": F, "User4": F, "User5": C(10), "User6": C(10),
                "User7": D, "User8": D}
OM_TABLES = ("SOHeader", "SOLine", "SOSched", "SOShipHeader")
FINANCE_TABLES = ("Batch", "GLTran", "ARDoc", "ARTran", "Customer", "Inventory", "ItemSite", "CuryRate", "CuryRtTp",
                  "CMSetup")
IDENTITY = {("ARTran", "RecordID"), ("ARAdjust", "RecordID"), ("ProcessQueue", "ProcessQueueID"), ("INTran", "RecordID"), ("Snote", "nID")}


def _types(name: str) -> dict[str, str]:
    return {c.name: c.sql_type for c in schema.TABLES[name].columns}


def test_the_keys_are_sls():
    assert set(KEYS) == set(schema.REQUIRED_SL)
    assert {name: schema.TABLES[name].pk for name in KEYS} == KEYS


def test_the_columns_the_product_relies_on_have_sls_types_and_widths():
    wrong = {(name, col): (_types(name).get(col, "missing"), expected)
             for name, columns in COLUMNS.items() for col, expected in columns.items()
             if _types(name).get(col) != expected}
    assert wrong == {}


def test_every_sl_table_has_the_audit_columns_and_its_user_field_layout():
    for name in schema.REQUIRED_SL:
        types = _types(name)
        assert {c: types.get(c) for c in AUDIT} == AUDIT, name
        layout = USER_OM if name in OM_TABLES else USER_FINANCE if name in FINANCE_TABLES else None
        if layout is not None:
            assert {c: types.get(c) for c in layout} == layout, name
    assert "QtyOnSO" not in _types("ItemSite")   # SL has no such column: order demand is QtyCustOrd / QtyAllocSO
    assert "Addr3" not in _types("SOHeader") and "ShipAddr3" not in _types("SOHeader")


# SL's DEFAULT constraints that are not blank / 0 / 1900-01-01, and tables whose scripts declare no default at all
# (SL's procedures write their rows whole), as SL's table scripts have them.
SPECIAL_DEFAULTS = {("Customer", "DocPublishingFlag"): "Y", ("Inventory", "CountStatus"): "A",
                    ("ItemSite", "CountStatus"): "A", ("ItemSite", "LeadTime"): 999, ("GLSetup", "AllowPostOpt"): "A"}
NO_DEFAULTS = ("GLTran", "ARDoc", "ARTran", "ARSetup", "Account", "SubAcct", "Ledger", "Currncy", "ShipVia",
               "SalesTax", "Terms", "Snote", "SOShipHeader", "GLSetup", "ARAdjust",
               "CuryRate", "CuryRtTp", "CMSetup")   # but SOShipHeader.BIInvoice, 2 of GLSetup


def test_sl_columns_are_not_null_with_sls_defaults_and_only_sls_identities():
    expected = {"CHAR": " ", "FLOAT": 0, "SMALLINT": 0, "INTEGER": 0, "SMALLDATETIME": schema.NO_DATE, "TEXT": ""}
    identities = set()
    for name, table in schema.SL.items():
        for col in table.columns:
            assert not col.nullable, (name, col.name)
            if col.identity:
                identities.add((name, col.name))
                assert col.type == "INTEGER" and col.name in table.pk, (name, col.name)
            elif (name, col.name) in SPECIAL_DEFAULTS:
                assert col.default == SPECIAL_DEFAULTS[name, col.name], (name, col.name)
            elif (name, col.name) in (("SOShipHeader", "BIInvoice"), ("GLSetup", "PriorYearPost")):
                assert col.default == expected[col.type], (name, col.name)
            elif name in NO_DEFAULTS:
                assert col.default is None, (name, col.name)
            elif col.name == "Crtd_DateTime":
                assert col.default == schema.NOW, name
            else:
                assert col.default == expected[col.type], (name, col.name, col.default)
    assert identities == IDENTITY


def test_the_sandbox_database_has_every_table_and_column(dsn):
    db = Database(dsn)
    db.connection()
    present = sandbox.existing_tables(db)
    assert set(schema.REQUIRED_SL) <= present and set(schema.XAMZ) <= present
    for name in schema.REQUIRED_SL:
        live = {c: (t, n) for c, t, n in sandbox.columns_of(db, name)}
        ours = _types(name)
        assert set(live) == set(ours), name
        for col, sql_type in ours.items():
            kind, length = live[col]
            if db.dialect.name == "sqlite":
                assert kind.upper() == sql_type.replace("SMALLDATETIME", "TEXT").replace("FLOAT", "REAL"), col
            elif sql_type.startswith("CHAR("):
                assert (kind, length) == ("character", int(sql_type[5:-1])), (name, col)
            else:
                assert kind == PG_TYPES[sql_type], (name, col)
        for col, expected in COLUMNS[name].items():   # and SL's widths reach the live database
            kind, length = live[col]
            if expected.startswith("CHAR(") and db.dialect.name == "postgresql":
                assert length == int(expected[5:-1]), (name, col)
    if db.dialect.name == "postgresql":
        nullable = db.run(lambda r: r.all("SELECT TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS "
                                          "WHERE IS_NULLABLE = 'YES' AND TABLE_SCHEMA = 'public'"))
        assert nullable == []
    db.close()


def test_sl_defaults_are_blank_zero_and_1900_and_absent_where_sl_has_none(sqlite_dsn):
    import pytest

    from integration.errors import Permanent

    db = Database(sqlite_dsn)
    db.run(lambda r: r.execute('INSERT INTO "Site" ("SiteId") VALUES (?)', ["99"]))
    row = db.run(lambda r: r.one('SELECT "Name", "NoteID", "LUpd_DateTime", "Crtd_DateTime" FROM "Site" '
                                 'WHERE "SiteId" = ?', ["99"]))
    assert row[0] == "" and row[1] == 0 and row[2].startswith("1900-01-01") and not row[3].startswith("1900")
    with pytest.raises(Permanent, match="NOT NULL"):   # SubAcct's script has no defaults
        db.run(lambda r: r.execute('INSERT INTO "SubAcct" ("Sub") VALUES (?)', ["99"]))
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
    assert check.exit_code == 0 and f"{len(KEYS)}/{len(KEYS)}" in check.output


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
