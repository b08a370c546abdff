"""The SL sandbox's demo company (``slsync db init --sandbox``): what a small Amazon seller's SL looks like.

- company AMZDEMO, base currency USD, GL periods = calendar months, current period = this month;
- sites MAIN and WEST (our warehouses) and FBA (stock at Amazon); ship vias UPS, FedEx, USPS;
- an Amazon customer per marketplace (CustIDs as in the default mapping file: AMZUS, AMZCA, ...);
- order types SO, INVC and CM with their counters, SO's workflow steps;
- a chart of accounts with what a settlement needs (clearing, sales, fees, refunds, reserve ...);
- the Amazon simulator's catalog items (``integration.sandbox.amazon.catalog``) plus filler parts, a few
  hundred stock items in all, with ItemSites in every site; some have zero or negative availability;
  ItemXRef rows (AltIDType K) for Amazon SKUs that differ from the InvtID; a transfer in transit to FBA.

Deterministic for a given seed. All SQL is in ``integration.sl.sandbox``; this module only shapes rows.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from integration.sl import sandbox
from integration.sl.db import Database

CPNY = "AMZDEMO"
SITES = {"MAIN": "Main warehouse (East)", "WEST": "West warehouse", "FBA": "Amazon FBA"}
SHIP_VIAS = [  # ShipViaID, Descr, CarrierID, SCAC
    ("UPSGND", "UPS Ground", "UPS", "UPSN"),
    ("FEDEX2D", "FedEx 2Day", "FEDEX", "FDEG"),
    ("FEDEXON", "FedEx Standard Overnight", "FEDEX", "FDEG"),
    ("USPS", "USPS Ground Advantage", "USPS", "USPS"),
]
MARKETPLACES = [  # CustId, name, currency, country
    ("AMZUS", "Amazon.com", "USD", "US"), ("AMZCA", "Amazon.ca", "CAD", "CA"),
    ("AMZMX", "Amazon.com.mx", "MXN", "MX"), ("AMZDE", "Amazon.de", "EUR", "DE"),
    ("AMZUK", "Amazon.co.uk", "GBP", "GB"), ("AMZFR", "Amazon.fr", "EUR", "FR"),
    ("AMZIT", "Amazon.it", "EUR", "IT"), ("AMZES", "Amazon.es", "EUR", "ES"),
    ("AMZJP", "Amazon.co.jp", "JPY", "JP"),
]
CURRENCIES = {"USD": 2, "CAD": 2, "MXN": 2, "EUR": 2, "GBP": 2, "JPY": 0}
SUB = "000000"
ACCOUNTS = [  # Acct, Descr, AcctType
    ("1010", "Operating cash", "1A"), ("1050", "Amazon clearing", "1A"), ("1060", "Amazon reserve", "1A"),
    ("1065", "Receivable from Amazon", "1A"), ("1070", "Amazon payouts in transit", "1A"),
    ("1090", "Amazon carried-forward balance", "1A"), ("2300", "Amazon lending", "2L"),
    ("1200", "Accounts receivable", "1A"), ("1300", "Inventory", "1A"), ("1310", "Inventory at FBA", "1A"),
    ("2100", "Sales tax payable", "2L"), ("2150", "Marketplace tax withheld", "2L"),
    ("4000", "Sales - Amazon", "3I"), ("4010", "Shipping income", "3I"), ("4020", "Gift wrap income", "3I"),
    ("4030", "Other Amazon charges", "3I"),
    ("4050", "Promotions and discounts", "3I"), ("4090", "Refunds", "3I"), ("4095", "Reimbursements", "3I"),
    ("5000", "Cost of goods sold", "4E"), ("6100", "Amazon referral fees", "4E"), ("6110", "FBA fulfilment fees", "4E"),
    ("6120", "Advertising", "4E"), ("6130", "Other Amazon fees", "4E"), ("6140", "FBA storage fees", "4E"),
    ("6150", "Subscription fees", "4E"), ("6200", "Freight out", "4E"), ("6900", "Suspense - review", "4E"),
    ("6080", "Currency rounding gain/loss", "4E"),
]
# Multi-currency (off: GLSetup.MCActive 0, so a foreign-currency settlement is held; a test or a seller turns it on).
# Rates to the base currency as SL's Currency Rate Maintenance keeps them (CuryRate: FromCuryId, ToCuryId, RateType,
# EffDate; MultDiv M multiplies the foreign amount by Rate, D divides it), effective from the start of last year;
# the rate type SL's GL uses by default is CMSetup.GLRtTpDflt. RGOL_ACCT: each currency's realised gain/loss
# account (Currncy.RealGainAcct / RealLossAcct), where a settlement's conversion rounding goes.
RATE_TYPES = [("SPOT", "Daily spot rate"), ("MONTH", "Month-end rate")]
RATES = [("EUR", "M", 1.0850), ("GBP", "M", 1.2700), ("CAD", "D", 1.3600), ("JPY", "M", 0.0067)]   # -> USD, SPOT
RGOL_ACCT = "6080"
SO_STEPS = [  # Seq, EventType, Descr, FunctionID, FunctionClass, Status (reference §3.3)
    ("0100", "ENT", "Enter Order", "4010000", "0100", "R"),
    ("0110", "REL", "Release Order", "4010000", "0200", "R"),
    ("0200", "PRC", "Print Order Confirmation", "4061000", "", "D"),
    ("0230", "X", "In Process (see Shipper)", "4041000", "", "R"),
    ("0300", "ENTS", "Enter Shipper", "4011000", "0100", "D"),
    ("0610", "PPAK", "Print Packing Slip", "4066000", "", "O"),
    ("0720", "CSHP", "Confirm Shipment", "4011000", "0550", "R"),
    ("0800", "RUPD", "Release for Update", "4043000", "0100", "R"),
    ("0810", "USHP", "Update Shipper", "4043000", "0200", "R"),
]
FILLER_ITEMS = 220
# SL tax ids the mapping's marketplaces name: Amazon collects and remits (marketplace facilitator), so each books to
# the clearing account 2150 that the settlement clears. PrcTaxIncl is N for all: the product writes prices without
# the tax (VAT marketplaces too) and the tax in SOTax; with Y, SL's AR release would take the tax off the sales
# again (vp_08220SalesTaxARPrcTaxIncl, TaxCalcType I and PrcTaxIncl Y).
SALES_TAXES = [  # TaxId, Descr
    ("AMZMF", "Amazon marketplace facilitator tax"), ("AMZVAT", "Amazon-collected VAT (EU/UK)"),
    ("AMZJCT", "Amazon-collected JCT (Japan)"),
]
MISC_CHARGES = [  # MiscChrgID, Descr, account (the mapping's charges)
    ("GIFTWRAP", "Amazon gift wrap", "4020"), ("CODFEE", "Amazon COD fee", "4030"),
    ("AMZOTHER", "Amazon other charge", "4030"), ("AMZTIP", "Amazon delivery tip", "4030"),
]


def _catalog(seed: int) -> list[dict]:
    try:
        from integration.sandbox.amazon.catalog import catalog
    except ImportError:  # the simulator is optional for the SL side
        return []
    return catalog(seed)


def seed_rows(seed: int = 1, catalog: list[dict] | None = None, now: datetime | None = None) -> dict[str, list[dict]]:
    """The demo company as table -> rows. ``catalog``: the simulator's SKU list (default: its own)."""
    rnd = random.Random(f"sl-seed:{seed}")
    now = now or datetime.now()
    period = now.strftime("%Y%m")
    catalog = _catalog(seed) if catalog is None else catalog
    t: dict[str, list[dict]] = {}
    t["GLSetup"] = [{
        "SetupId": "GL", "CpnyId": CPNY, "CpnyName": "Amazon Demo Company", "LedgerID": "ACTUAL",
        "BaseCuryId": "USD", "PerNbr": period, "NbrPer": 12, "BegFiscalYr": 1,
        **{f"FiscalPerEnd{m:02d}": f"{m + 1:02d}{_month_end(now.year, m + 1):02d}" for m in range(12)},
        "LastBatNbr": "000100", "LastClosePerNbr": f"{now.year - 1}12", "RetEarnAcct": "3900",
        "YtdNetIncAcct": "3910", "AutoPost": "N", "AutoRef": "1", "Init": 1,
    }]
    t["Ledger"] = [{"LedgerID": "ACTUAL", "BalanceType": "A", "BaseCuryID": "USD", "BalRequired": 1,
                    "Descr": "Actual"}]
    t["Currncy"] = [{"CuryId": c, "Descr": c, "DecPl": p, "CurySym": "$" if c in ("USD", "CAD", "MXN") else c,
                     "Status": "A", "RealGainAcct": RGOL_ACCT, "RealGainSub": SUB, "RealLossAcct": RGOL_ACCT,
                     "RealLossSub": SUB} for c, p in CURRENCIES.items()]
    t["CuryRtTp"] = [{"RateTypeId": r, "Descr": d} for r, d in RATE_TYPES]
    t["CMSetup"] = [{"SetupId": "CM", "GLRtTpDflt": "SPOT", "ARRtTpDflt": "SPOT", "APRtTpDflt": "SPOT",
                     "CARtTpDflt": "SPOT", "GLRevalRtTpDflt": "MONTH", "MCActivated": 0}]
    t["CuryRate"] = [{"FromCuryId": c, "ToCuryId": "USD", "RateType": "SPOT", "EffDate": datetime(now.year - 1, 1, 1),
                      "MultDiv": md, "Rate": rate, "RateReciprocal": round(1 / rate, 9)} for c, md, rate in RATES]
    t["ARSetup"] = [{"SetupId": "AR", "LastBatNbr": "000200", "LastRefNbr": "010000", "LastCrMemoNbr": "", "ArAcct": "1050", "ArSub": SUB,
                     "CurrPerNbr": period, "AutoRef": 1, "Init": 1}]
    t["INSetup"] = [{"SetupId": "IN", "LastBatNbr": "000300", "CurrPerNbr": period, "DecPlQty": 0, "NegQty": 1,
                     "CPSOnOff": 1, "InclAllocQty": 1, "InclQtyOnBO": 1, "Init": 1, "DecPlPrcCst": 2}]
    t["Account"] = [{"Acct": a, "Descr": d, "AcctType": k, "Active": 1, "CuryId": "USD", "SummPost": "N"}
                    for a, d, k in ACCOUNTS]
    t["SubAcct"] = [{"Sub": SUB, "Descr": "Company", "Active": 1, "ConsolSub": SUB}]
    t["Site"] = [{"SiteId": s, "CpnyID": CPNY, "Name": n, "Status": "A", "Country": "US"} for s, n in SITES.items()]
    t["ShipVia"] = [{"CpnyID": CPNY, "ShipViaID": v, "Descr": d, "CarrierID": c, "SCAC": s, "TransitTime": 3}
                    for v, d, c, s in SHIP_VIAS]
    t["Customer"] = [{"CustId": c, "Name": n, "ClassId": "AMAZON", "Status": "A", "Terms": "30", "CuryId": cur,
                      "Country": country, "ArAcct": "1050", "ArSub": SUB, "SlsAcct": "4000", "SlsSub": SUB,
                      "DfltShipToId": "DEFAULT", "BillName": n, "BillAttn": "Accounts payable",
                      "BillAddr1": "410 Terry Ave N", "BillCity": "Seattle", "BillState": "WA", "BillZip": "98109",
                      "BillCountry": "US"} for c, n, cur, country in MARKETPLACES]
    t["Terms"] = [{"TermsId": "30", "Descr": "Net 30", "DueType": "D", "DueIntrv": 30, "ApplyTo": "B"},
                  {"TermsId": "00", "Descr": "Due on receipt", "DueType": "D", "DueIntrv": 0, "ApplyTo": "B"}]
    t["SalesTax"] = [{"TaxType": "T", "TaxId": tid, "Descr": d, "TaxRate": 0, "SlsTaxAcct": "2150",
                      "SlsTaxSub": SUB, "PrcTaxIncl": "N", "InclFrt": "Y", "Inclmisc": "Y", "InclInDocTot": "Y",
                      "TaxCalcType": "D", "TaxCalcLvl": "D"}
                     for tid, d in SALES_TAXES]
    t["FrtTerms"] = [{"FrtTermsID": "AMAZON", "Descr": "Amazon sets the shipping charge", "Collect": 0,
                      "FOBID": "", "ShipMthPay": ""}]
    t["FrtTermDet"] = [{"FrtTermsID": "AMAZON", "MinOrderVal": 0, "FreightPct": 0, "HandlingChg": 0,
                        "HandlingChgLine": 0, "InvcAmtPct": 0}]
    t["MiscCharge"] = [{"MiscChrgID": m, "Descr": d, "MiscAcct": a, "MiscSub": SUB, "TaxCat": "TAXABLE", "Taxable": 1}
                       for m, d, a in MISC_CHARGES]
    t["SOAddress"] = [{"CustId": c, "ShipToId": "DEFAULT", "Descr": n, "Name": n, "Country": country,
                       "ShipViaID": "UPSGND", "SiteID": "MAIN", "Status": "A"} for c, n, _, country in MARKETPLACES]
    t["SOType"] = [_sotype("SO", "Sales Order", "SO", "O", "0000001", "S", "I"),
                   _sotype("INVC", "Invoice", "INVC", "IN", "0000001", "S", "I"),
                   _sotype("CM", "Credit Memo", "CM", "CM", "0000001", "S", "C")]
    t["SOStep"] = [{"CpnyID": CPNY, "SOTypeID": "SO", "Seq": s, "EventType": e, "Descr": d, "FunctionID": f,
                    "FunctionClass": c, "Status": st, "Auto": 1 if e == "REL" else 0}
                   for s, e, d, f, c, st in SO_STEPS]
    t["Inventory"], t["ItemSite"], t["ItemXRef"] = [], [], []
    items = [(row["sl_invtid"], row["title"], row["price"], row.get("fulfillment", "MFN"), row["sku"])
             for row in catalog if row.get("sl_invtid")]
    seen = set()
    for invt_id, title, price, fulfillment, sku in items:
        if invt_id not in seen:
            seen.add(invt_id)
            _item(t, rnd, invt_id, title, float(price), fulfillment)
        if sku != invt_id:
            t["ItemXRef"].append({"InvtID": invt_id, "AltIDType": "K", "EntityID": "", "AlternateID": sku,
                                  "Descr": title, "Unit": "EA"})
    for n in range(1, FILLER_ITEMS + 1):
        _item(t, rnd, f"PART-{n:04d}", f"Spare part {n:04d}", round(rnd.uniform(2, 90), 2), "MFN")
    afn = sorted({invt for invt, _, _, fulfillment, _ in items if fulfillment == "AFN"})
    t["TrnsfrDoc"], t["INTran"] = _fba_transfer(afn[:3] or [t["Inventory"][0]["InvtID"]], now)
    return {k: v for k, v in t.items() if v}


def _month_end(year: int, month: int) -> int:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _sotype(type_id, descr, behavior, prefix, last, ship_prefix, invc_prefix) -> dict:
    return {"CpnyID": CPNY, "SOTypeID": type_id, "Descr": descr, "Behavior": behavior, "Active": 1,
            "OrdNbrPrefix": prefix, "LastOrdNbr": last, "ShipperPrefix": ship_prefix, "LastShipperNbr": "0000001",
            "InvcNbrPrefix": invc_prefix, "LastInvcNbr": "0000001", "ShiptoType": "C", "ARAcct": "1050",
            "ARSub": SUB, "SlsAcct": "4090" if behavior == "CM" else "4000", "SlsSub": SUB, "COGSAcct": "5000",
            "COGSSub": SUB, "FrtAcct": "4010", "FrtSub": SUB, "MiscAcct": "4030", "MiscSub": SUB,
            "DiscAcct": "4050", "DiscSub": SUB}


def _item(t: dict, rnd: random.Random, invt_id: str, descr: str, price: float, fulfillment: str) -> None:
    t["Inventory"].append({"InvtID": invt_id, "Descr": descr, "ClassID": "AMZ", "StkUnit": "EA", "DfltSOUnit": "EA",
                           "DfltSite": "MAIN", "TranStatusCode": "AC", "Status": "A", "StkItem": 1, "InvtType": "I",
                           "ValMthd": "A", "TaxCat": "TAXABLE", "StkBasePrc": price, "StkWt": 1.0,
                           "DfltSalesAcct": "4000", "DfltSalesSub": SUB, "COGSAcct": "5000", "COGSSub": SUB,
                           "InvtAcct": "1300", "InvtSub": SUB})
    shape = rnd.random()
    for site in SITES:
        on_hand = float(rnd.randint(0, 120))
        alloc = float(rnd.randint(0, 10))
        if site == "FBA" and fulfillment != "AFN":
            on_hand, alloc = 0.0, 0.0
        elif shape < 0.08:      # nothing left
            on_hand, alloc = 0.0, 0.0
        elif shape < 0.14:      # over-allocated: negative availability, as SL shows in real life
            alloc = on_hand + rnd.randint(1, 6)
        cost = round(price * 0.45, 2)
        t["ItemSite"].append({"InvtID": invt_id, "SiteID": site, "CpnyID": CPNY, "QtyOnHand": on_hand,
                              "QtyAlloc": alloc, "QtyAllocSO": alloc, "QtyCustOrd": alloc,
                              "QtyAvail": on_hand - alloc, "QtyOnPO": float(rnd.choice([0, 0, 24, 48])),
                              "StkItem": 1, "AvgCost": cost, "StdCost": cost, "TotCost": cost * on_hand,
                              "LastCost": cost, "DfltWhseLoc": "BIN1"})


def _fba_transfer(afn: list[str], now: datetime) -> tuple[list[dict], list[dict]]:
    doc = {"TrnsfrDocNbr": "TR000001", "CpnyID": CPNY, "BatNbr": "000301", "SiteID": "MAIN", "ToSiteID": "FBA",
           "TransferType": "2", "Status": "I", "Source": "IN", "ShipViaID": "UPSGND", "TranDate": now,
           "ExpectedDate": now + timedelta(days=5), "RefNbr": "FBA15DEMO01", "Comment": "FBA replenishment"}
    lines = [{"InvtID": invt, "SiteID": "MAIN", "CpnyID": CPNY, "BatNbr": "000301", "RefNbr": "TR000001",
              "LineRef": f"{n:05d}", "LineNbr": -32768 + n, "LineID": n, "TranType": "TR", "JrnlType": "IN",
              "TranDate": now, "Qty": 12.0, "InvtMult": -1, "UnitDesc": "EA", "CnvFact": 1, "UnitMultDiv": "M",
              "ToSiteID": "FBA", "Rlsed": 1, "Acct": "1310", "Sub": SUB, "TranDesc": "To FBA"}
             for n, invt in enumerate(afn, 1)]
    return [doc], lines


def seed(dsn_or_db, *, seed: int = 1, catalog: list[dict] | None = None) -> dict[str, int]:
    """Create SL's tables (whole, as SL's scripts define them) and ours, and seed the demo company once; table ->
    rows written.

    Seeding is skipped when the company already has its GLSetup (running it twice changes nothing).
    """
    db = dsn_or_db if isinstance(dsn_or_db, Database) else Database(dsn_or_db)
    sandbox.create_tables(db, sl=True)
    if sandbox.count(db, "GLSetup") > 0:
        return {}
    rows = seed_rows(seed, catalog)
    sandbox.insert_rows(db, rows)
    return {k: len(v) for k, v in rows.items()}


def ship_order(target, ord_nbr: str, *, quantities: dict | None = None, tracking_numbers: list[str] | None = None,
               ship_via_id: str = "", cpny_id: str = CPNY, boxes: int = 1) -> str:
    """The sandbox warehouse ships an SL order: a confirmed shipper (all open quantities, or ``quantities``
    per LineRef) with tracking numbers (made up per carrier when not given); returns the ShipperID.

    ``target``: an SLGateway, a Database or a DSN.
    """
    db = getattr(target, "db", target)
    db = db if isinstance(db, Database) else Database(db)
    if tracking_numbers is None:
        rnd = random.Random(f"ship:{ord_nbr}:{quantities}")
        tracking_numbers = [_tracking(ship_via_id, rnd) for _ in range(max(1, boxes))]
    return sandbox.create_confirmed_shipper(db, cpny_id, ord_nbr, quantities=quantities,
                                            tracking_numbers=tracking_numbers, ship_via_id=ship_via_id)


def _tracking(ship_via_id: str, rnd: random.Random) -> str:
    if ship_via_id.startswith("FEDEX"):
        return "".join(rnd.choice("0123456789") for _ in range(12))
    if ship_via_id == "USPS":   # 22 digits (USPS Tracking): longer than SOShipPack.TrackingNbr CHAR(20)
        return "9400" + "".join(rnd.choice("0123456789") for _ in range(18))
    return "1Z" + "".join(rnd.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
