"""``slsync db verify``: is what the product wrote into SL something SL's own processes accept?

Each rule states one invariant that SL's stored procedures rely on, and finds, in one set-based query per part,
the rows that break it. Only rows the product wrote are looked at: SL rows created by our program
(``Crtd_Prog = 'AMZSYNC'``, ``rows.PROGRAM_ID``) and rows reached from our xAMZ* bindings, in one company, so
orders typed in SL or written by other integrations never fail the check. Everything is read in read-only
transactions (``Database.run(write=False)``), one per rule, at SL's default isolation: safe on a production
database, and a rule that cannot run (a table or column the database lacks) is reported as ERROR without
stopping the others.

A rule is a name, the SL invariant it protects (one sentence naming the SL procedure), and one or more parts.
A part is a query returning every row in the rule's scope with its key columns and the values the check needs,
plus a condition on those values that marks a row as breaking the rule; the rule's count is the rows in scope,
its failures the rows meeting the condition, and the first few (by key) are shown as examples. The next issues
add theirs to ``RULES``.

Amounts are compared with half a unit of the currency's last place (``Currncy.DecPl``; 0.005 for two places)
as tolerance, since SL stores them as FLOAT.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from integration.errors import SyncError
from integration.sl.rows import PROGRAM_ID, Rows
from integration.sl.text import NO_DATE, trim

OURS = f"'{PROGRAM_ID}'"   # a constant of ours, inlined: Crtd_Prog = 'AMZSYNC'


@dataclass(frozen=True)
class Context:
    """What the queries are run with: the company, today's date (SL's ``@TodaysDate``: midnight), and the
    mapping's ghost items (InvtIDs that stand in for an unknown SKU)."""

    cpny_id: str
    today: datetime
    ghost_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """``query(ctx)``: (SQL, parameters) of every row in scope, or (None, why) when there is nothing to check;
    ``bad``: a condition on its columns (as ``v."Col"``) true for a row that breaks the rule; ``keys``: the columns
    that name a row (shown joined by ``/``); ``describe(row)``: what is wrong with it, e.g. ``TotOrd 26.58 vs 23.59``.
    The query has no ORDER BY (it is used as a derived table); its columns are named with quoted aliases."""

    query: Callable[[Context], tuple[str | None, object]]
    bad: str
    keys: tuple[str, ...]
    describe: Callable[[dict], str]


@dataclass(frozen=True)
class Rule:
    name: str
    protects: str
    parts: tuple[Part, ...]


@dataclass
class Result:
    rule: str
    protects: str
    status: str = "OK"            # OK, FAIL (rows break the rule) or ERROR (the check could not run)
    checked: int = 0
    failed: int = 0
    examples: list[dict] = field(default_factory=list)   # {"key": "SO000123", "detail": "..."}
    note: str = ""

    def as_dict(self) -> dict:
        return {"rule": self.rule, "protects": self.protects, "status": self.status, "checked": self.checked,
                "failed": self.failed, "examples": self.examples, **({"note": self.note} if self.note else {})}


# -- helpers ----------------------------------------------------------------------------------------------
def _tolerance(places: str) -> str:
    """Half a unit of the last place for a ``DecPl`` expression (2 -> 0.005), plus a hair for FLOAT noise."""
    cases = " ".join(f"WHEN {n} THEN {0.5 * 10 ** -n + 1e-7!r}" for n in range(0, 7))
    return f"(CASE COALESCE({places}, 2) {cases} ELSE 0.0050001 END)"


def _amount(value, places) -> str:
    places = 2 if places is None else int(places)
    return str(Decimal(repr(float(value or 0))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _off(a, b, places) -> bool:
    """True when two amounts differ by more than the rule's tolerance (the same test as in SQL)."""
    places = 2 if places is None else int(places)
    return abs(float(a or 0) - float(b or 0)) > 0.5 * 10 ** -places + 1e-7


def _date(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


# -- schedules_not_expired --------------------------------------------------------------------------------
def _schedules(ctx: Context):
    return ('SELECT s."OrdNbr" AS "OrdNbr", s."LineRef" AS "LineRef", s."SchedRef" AS "SchedRef", '
            's."CancelDate" AS "CancelDate", CASE WHEN s."CancelDate" <= ? THEN 1 ELSE 0 END AS "Expired" '
            f'FROM "SOSched" s WHERE s."CpnyID" = ? AND s."Crtd_Prog" = {OURS} AND s."Status" <> \'C\'',
            [ctx.today, ctx.cpny_id])


SCHEDULES_NOT_EXPIRED = Rule(
    "schedules_not_expired",
    "A schedule that is not closed has CancelDate after today: ADG_ProcessMgr_ExpiredSchedules and "
    "ADG_UpdtShip_GetZeroScheds treat CancelDate <= today as expired, so planning and shipping skip it.",
    (Part(_schedules, 'v."Expired" = 1', ("OrdNbr", "LineRef", "SchedRef"),
          lambda r: f"CancelDate {_date(r['CancelDate'])}"),),
)


# -- line_money -------------------------------------------------------------------------------------------
_LINE_TOL = _tolerance('c."DecPl"')


def _lines(ctx: Context):
    return ('SELECT l."OrdNbr" AS "OrdNbr", l."LineRef" AS "LineRef", l."QtyOrd" AS "QtyOrd", '
            'l."SlsPrice" AS "SlsPrice", l."CurySlsPrice" AS "CurySlsPrice", l."DiscPct" AS "DiscPct", '
            'l."TotOrd" AS "TotOrd", l."CuryTotOrd" AS "CuryTotOrd", '
            'l."SlsPrice" * l."QtyOrd" * (1 - l."DiscPct" / 100) AS "Priced", '
            'l."CurySlsPrice" * l."QtyOrd" * (1 - l."DiscPct" / 100) AS "CuryPriced", '
            f'COALESCE(c."DecPl", 2) AS "DecPl", {_LINE_TOL} AS "Tol" '
            'FROM "SOLine" l LEFT JOIN "SOHeader" h ON h."CpnyID" = l."CpnyID" AND h."OrdNbr" = l."OrdNbr" '
            'LEFT JOIN "Currncy" c ON c."CuryId" = h."CuryID" '
            f'WHERE l."CpnyID" = ? AND l."Crtd_Prog" = {OURS}', [ctx.cpny_id])


def _line_detail(r: dict) -> str:
    p = r["DecPl"]
    out = []
    if _off(r["TotOrd"], r["Priced"], p):
        out.append(f"TotOrd {_amount(r['TotOrd'], p)} vs {_amount(r['Priced'], p)} = SlsPrice "
                   f"{r['SlsPrice']:g} x QtyOrd {r['QtyOrd']:g} less DiscPct {r['DiscPct']:g}%")
    if _off(r["CuryTotOrd"], r["CuryPriced"], p):
        out.append(f"CuryTotOrd {_amount(r['CuryTotOrd'], p)} vs {_amount(r['CuryPriced'], p)}")
    return "; ".join(out)


LINE_MONEY = Rule(
    "line_money",
    "A line's TotOrd is round(SlsPrice x QtyOrd x (1 - DiscPct/100)) and CuryTotOrd the same of CurySlsPrice: "
    "ADG_Book_Order prices a line that way, so a discount kept anywhere else is lost when SL books and bills it.",
    (Part(_lines, 'ABS(v."TotOrd" - v."Priced") > v."Tol" OR ABS(v."CuryTotOrd" - v."CuryPriced") > v."Tol"',
          ("OrdNbr", "LineRef"), _line_detail),),
)


# -- header_total -----------------------------------------------------------------------------------------
_HEADER_TOL = _tolerance('c."DecPl"')
_SUMS = (("Lines", "SOLine", "TotOrd"), ("Misc", "SOMisc", "MiscChrg"), ("Taxes", "SOTax", "TotTax"),
         ("SchedTax", "SOSched", "TaxAmt00"), ("MerchTax", "SOTax", "MerchTax"))
_TWINS = ("TotMerch", "TotFrt", "TotMisc", "TotTax", "TotOrd")


def _headers(ctx: Context):
    sums = ", ".join(f'COALESCE((SELECT SUM(x."{col}") FROM "{table}" x WHERE x."CpnyID" = h."CpnyID" '
                     f'AND x."OrdNbr" = h."OrdNbr"), 0) AS "{alias}"' for alias, table, col in _SUMS)
    amounts = ", ".join(f'h."{c}" AS "{c}", h."Cury{c}" AS "Cury{c}"' for c in _TWINS)
    return (f'SELECT h."OrdNbr" AS "OrdNbr", {amounts}, {sums}, '
            'CASE WHEN h."CuryID" = (SELECT MAX(g."BaseCuryId") FROM "GLSetup" g) THEN 1 ELSE 0 END AS "Base", '
            f'COALESCE(c."DecPl", 2) AS "DecPl", {_HEADER_TOL} AS "Tol" '
            'FROM "SOHeader" h LEFT JOIN "Currncy" c ON c."CuryId" = h."CuryID" '
            f'WHERE h."CpnyID" = ? AND h."Crtd_Prog" = {OURS}', [ctx.cpny_id])


_HEADER_BAD = " OR ".join([
    'ABS(v."TotMerch" - v."Lines") > v."Tol"',
    'ABS(v."TotMisc" - v."Misc") > v."Tol"',
    'ABS(v."TotTax" - v."Taxes") > v."Tol"',
    'ABS(v."TotOrd" - (v."TotMerch" + v."TotFrt" + v."TotMisc" + v."TotTax")) > v."Tol"',
    'ABS(v."SchedTax" - v."MerchTax") > v."Tol"',
    'v."TotMerch" < -v."Tol" OR v."TotFrt" < -v."Tol" OR v."TotMisc" < -v."Tol"',
    *(f'(v."Base" = 1 AND ABS(v."Cury{c}" - v."{c}") > v."Tol")' for c in _TWINS),
])


def _header_detail(r: dict) -> str:
    p = r["DecPl"]
    expected = [("TotMerch", r["Lines"], "sum of SOLine.TotOrd"), ("TotMisc", r["Misc"], "sum of SOMisc.MiscChrg"),
                ("TotTax", r["Taxes"], "sum of SOTax.TotTax"),
                ("TotOrd", sum(float(r[c] or 0) for c in ("TotMerch", "TotFrt", "TotMisc", "TotTax")),
                 "TotMerch + TotFrt + TotMisc + TotTax")]
    out = [f"{col} {_amount(r[col], p)} vs {_amount(want, p)} = {why}" for col, want, why in expected
           if _off(r[col], want, p)]
    if _off(r["SchedTax"], r["MerchTax"], p):
        out.append(f"SOSched.TaxAmt00 sum {_amount(r['SchedTax'], p)} vs SOTax.MerchTax {_amount(r['MerchTax'], p)}")
    out += [f"{c} {_amount(r[c], p)} is negative" for c in ("TotMerch", "TotFrt", "TotMisc")
            if float(r[c] or 0) < -0.5 * 10 ** -p]
    if r["Base"]:
        out += [f"Cury{c} {_amount(r['Cury' + c], p)} vs {c} {_amount(r[c], p)}" for c in _TWINS
                if _off(r["Cury" + c], r[c], p)]
    return "; ".join(out)


HEADER_TOTAL = Rule(
    "header_total",
    "An order's TotMerch is the sum of its SOLine.TotOrd, TotMisc of its SOMisc.MiscChrg, TotTax of its SOTax.TotTax "
    "(none: 0), TotOrd = TotMerch + TotFrt + TotMisc + TotTax, the schedules' TaxAmt00 add up to SOTax.MerchTax, "
    "merchandise, freight and misc charges are not negative, and the Cury* twins equal them in the base currency: "
    "SL's order entry keeps the header as the sum of these detail tables (screen logic, no procedure) while shippers "
    "and invoices are built from the details, so a header that disagrees shows one total and bills another.",
    (Part(_headers, _HEADER_BAD, ("OrdNbr",), _header_detail),),
)


# -- bindings_documents ----------------------------------------------------------------------------------
def _bound_orders(ctx: Context):
    return ('SELECT b."AmazonOrderId" AS "AmazonOrderId", b."OrdNbr" AS "OrdNbr", '
            'CASE WHEN h."OrdNbr" IS NULL THEN 0 ELSE 1 END AS "Found", h."CustOrdNbr" AS "CustOrdNbr" '
            'FROM "xAMZOrder" b LEFT JOIN "SOHeader" h ON h."CpnyID" = b."CpnyID" AND h."OrdNbr" = b."OrdNbr" '
            'WHERE b."CpnyID" = ? AND b."OrdNbr" <> \'\'', [ctx.cpny_id])


def _our_headers(ctx: Context):
    return ('SELECT h."OrdNbr" AS "OrdNbr", (SELECT COUNT(*) FROM "xAMZOrder" b WHERE b."CpnyID" = h."CpnyID" '
            'AND b."OrdNbr" = h."OrdNbr") AS "Bindings" '
            f'FROM "SOHeader" h WHERE h."CpnyID" = ? AND h."Crtd_Prog" = {OURS}', [ctx.cpny_id])


def _documents(ctx: Context):
    return ('SELECT x."DocType" AS "DocType", x."RefNbr" AS "RefNbr", x."AmazonOrderId" AS "AmazonOrderId", '
            '(SELECT COUNT(*) FROM "ARDoc" d WHERE d."CpnyID" = x."CpnyID" AND d."DocType" = x."DocType" '
            'AND d."RefNbr" = x."RefNbr") AS "Docs" '
            'FROM "xAMZDocument" x WHERE x."CpnyID" = ?', [ctx.cpny_id])


def _bound_detail(r: dict) -> str:
    if not r["Found"]:
        return f"bound to SOHeader {r['OrdNbr']}, which does not exist"
    return f"SOHeader {r['OrdNbr']} has CustOrdNbr {trim(r['CustOrdNbr'])!r}"


BINDINGS_DOCUMENTS = Rule(
    "bindings_documents",
    "Every xAMZOrder with an OrdNbr names an SOHeader whose CustOrdNbr is the Amazon order id, every SOHeader we "
    "wrote has exactly one xAMZOrder, and every xAMZDocument names its ARDoc: SL numbers a second import anew "
    "(DMG_NextOrdNbr), so only the binding keeps an Amazon order from becoming two SL orders, and only a binding "
    "naming a real SOHeader or ARDoc lets shipments, cancellations and refunds find the document.",
    (Part(_bound_orders, 'v."Found" = 0 OR v."CustOrdNbr" <> v."AmazonOrderId"', ("AmazonOrderId",), _bound_detail),
     Part(_our_headers, 'v."Bindings" <> 1', ("OrdNbr",), lambda r: f"{r['Bindings']} xAMZOrder bindings"),
     Part(_documents, 'v."Docs" = 0', ("DocType", "RefNbr"),
          lambda r: f"no ARDoc for Amazon order {r['AmazonOrderId']}")),
)


# -- ghost_items_on_hold ---------------------------------------------------------------------------------
def _ghost_orders(ctx: Context):
    if not ctx.ghost_items:
        return None, "the mapping names no ghost item"
    marks = ", ".join("?" for _ in ctx.ghost_items)
    return ('SELECT h."OrdNbr" AS "OrdNbr", h."AdminHold" AS "AdminHold", '
            f'(SELECT MIN(l."InvtID") FROM "SOLine" l WHERE l."CpnyID" = h."CpnyID" AND l."OrdNbr" = h."OrdNbr" '
            f'AND l."InvtID" IN ({marks})) AS "Ghost" '
            f'FROM "SOHeader" h WHERE h."CpnyID" = ? AND h."Crtd_Prog" = {OURS} AND h."Status" = \'O\'',
            [*ctx.ghost_items, ctx.cpny_id])


GHOST_ITEMS_ON_HOLD = Rule(
    "ghost_items_on_hold",
    "An open order with a line on the mapping's ghost item has SOHeader.AdminHold = 1: the placeholder is not the "
    "goods, and ADG_ProcessMgr_CreateShippers makes shippers only for orders with AdminHold = 0.",
    (Part(_ghost_orders, 'v."Ghost" IS NOT NULL AND v."AdminHold" = 0', ("OrdNbr",),
          lambda r: f"line on ghost item {trim(r['Ghost'])}, AdminHold 0"),),
)


# -- cancelled_consistent / cancellations_complete ---------------------------------------------------------
def _cancelled(ctx: Context):
    open_rows = ", ".join(f'(SELECT COUNT(*) FROM "{t}" x WHERE x."CpnyID" = h."CpnyID" AND x."OrdNbr" = h."OrdNbr" '
                          f'AND x."Status" <> \'C\') AS "Open{t}"' for t in ("SOLine", "SOSched"))
    return (f'SELECT h."OrdNbr" AS "OrdNbr", h."Status" AS "Status", {open_rows} '
            f'FROM "SOHeader" h WHERE h."CpnyID" = ? AND h."Crtd_Prog" = {OURS} AND h."Cancelled" = 1', [ctx.cpny_id])


def _cancelled_detail(r: dict) -> str:
    out = [f"Status {trim(r['Status'])!r}"] if trim(r["Status"]) != "C" else []
    out += [f"{r['Open' + t]} {t} not closed" for t in ("SOLine", "SOSched") if r["Open" + t]]
    return ", ".join(out)


CANCELLED_CONSISTENT = Rule(
    "cancelled_consistent",
    "A cancelled order (Cancelled = 1) is closed with all its lines and schedules: WS_CANCELSALESORDER and "
    "ADG_UpdtShip_CancelOrder set Status 'C' on SOHeader, SOLine and SOSched together.",
    (Part(_cancelled, 'v."Status" <> \'C\' OR v."OpenSOLine" > 0 OR v."OpenSOSched" > 0', ("OrdNbr",),
          _cancelled_detail),),
)


def _cancellations(ctx: Context):
    return ('SELECT h."OrdNbr" AS "OrdNbr", CASE WHEN h."CancelDate" > ? THEN 1 ELSE 0 END AS "Dated", '
            'h."NextFunctionID" AS "NextFunctionID", h."NextFunctionClass" AS "NextFunctionClass", '
            'h."UnshippedBalance" AS "UnshippedBalance", h."CuryUnshippedBalance" AS "CuryUnshippedBalance", '
            '(SELECT COUNT(*) FROM "SOShipHeader" s WHERE s."CpnyID" = h."CpnyID" AND s."OrdNbr" = h."OrdNbr" '
            'AND s."Cancelled" = 0 AND s."ShippingConfirmed" = 0 AND s."Status" = \'O\') AS "OpenShippers", '
            f'{_HEADER_TOL} AS "Tol" '
            'FROM "SOHeader" h LEFT JOIN "Currncy" c ON c."CuryId" = h."CuryID" '
            f'WHERE h."CpnyID" = ? AND h."Crtd_Prog" = {OURS} AND h."Cancelled" = 1', [NO_DATE, ctx.cpny_id])


def _cancellation_detail(r: dict) -> str:
    out = [] if r["Dated"] else ["CancelDate not set"]
    step = f"{trim(r['NextFunctionID'])}/{trim(r['NextFunctionClass'])}".strip("/")
    out += [f"next step {step}"] if step else []
    out += [f"{c} {float(r[c] or 0):g}" for c in ("UnshippedBalance", "CuryUnshippedBalance")
            if abs(float(r[c] or 0)) > float(r["Tol"])]
    out += [f"{r['OpenShippers']} open shipper(s)"] if r["OpenShippers"] else []
    return ", ".join(out)


CANCELLATIONS_COMPLETE = Rule(
    "cancellations_complete",
    "A cancelled order has CancelDate set, no next step (NextFunctionID/Class blank), UnshippedBalance and "
    "CuryUnshippedBalance 0, and no open shipper: WS_CANCELSALESORDER dates it, ADG_UpdtShip_CancelOrder clears its "
    "step and balance and CancelShippersWS cancels its open shippers, else the Process Manager and the warehouse "
    "still ship it and the customer's open-order balance still counts it.",
    (Part(_cancellations, 'v."Dated" = 0 OR RTRIM(v."NextFunctionID") <> \'\' OR RTRIM(v."NextFunctionClass") <> \'\' '
          'OR ABS(v."UnshippedBalance") > v."Tol" OR ABS(v."CuryUnshippedBalance") > v."Tol" '
          'OR v."OpenShippers" > 0', ("OrdNbr",), _cancellation_detail),),
)


# -- ar_documents -----------------------------------------------------------------------------------------
def _ar_docs(ctx: Context):
    return ('SELECT x."DocType" AS "DocType", x."RefNbr" AS "RefNbr", d."BankAcct" AS "BankAcct", '
            'd."BankSub" AS "BankSub", d."CuryMultDiv" AS "CuryMultDiv", d."CuryRate" AS "CuryRate", '
            '(SELECT COUNT(*) FROM "ARTran" t WHERE t."CustId" = d."CustId" AND t."TranType" = d."DocType" '
            'AND t."RefNbr" = d."RefNbr" AND (t."CuryMultDiv" NOT IN (\'M\', \'D\') OR t."CuryRate" <= 0)) '
            'AS "BadTrans" '
            'FROM "xAMZDocument" x JOIN "ARDoc" d ON d."CpnyID" = x."CpnyID" AND d."DocType" = x."DocType" '
            'AND d."RefNbr" = x."RefNbr" WHERE x."CpnyID" = ?', [ctx.cpny_id])


def _ar_doc_detail(r: dict) -> str:
    out = [f"blank {c}" for c in ("BankAcct", "BankSub") if not trim(r[c])]
    if trim(r["CuryMultDiv"]) not in ("M", "D") or not r["CuryRate"]:
        out.append(f"CuryMultDiv {trim(r['CuryMultDiv'])!r} CuryRate {r['CuryRate']}")
    if r["BadTrans"]:
        out.append(f"{r['BadTrans']} ARTran without CuryMultDiv/CuryRate")
    return ", ".join(out)


def _our_invoices(ctx: Context):
    return ('SELECT b."AmazonOrderId" AS "AmazonOrderId", '
            '(SELECT COUNT(*) FROM "ARDoc" d WHERE d."CpnyID" = b."CpnyID" AND d."OrdNbr" = b."OrdNbr" '
            f'AND d."DocType" = \'IN\' AND d."Crtd_Prog" = {OURS} AND NOT EXISTS (SELECT 1 FROM "xAMZDocument" x '
            'WHERE x."CpnyID" = d."CpnyID" '
            'AND x."DocType" = d."DocType" AND x."RefNbr" = d."RefNbr")) AS "Unbound", '
            '(SELECT COUNT(*) FROM "xAMZDocument" x WHERE x."AmazonOrderId" = b."AmazonOrderId" '
            'AND x."DocType" = \'IN\' AND x."EventKey" = \'ORDER\') AS "Whole", '
            '(SELECT COUNT(*) FROM "xAMZDocument" x WHERE x."AmazonOrderId" = b."AmazonOrderId" '
            'AND x."DocType" = \'IN\' AND x."EventKey" <> \'ORDER\') AS "Shipments" '
            'FROM "xAMZOrder" b WHERE b."CpnyID" = ? AND b."OrdNbr" <> \'\'', [ctx.cpny_id])


def _memos(ctx: Context):
    return ('SELECT x."RefNbr" AS "RefNbr", x."AmazonOrderId" AS "AmazonOrderId", '
            '(SELECT COUNT(*) FROM "xAMZDocument" i WHERE i."AmazonOrderId" = x."AmazonOrderId" '
            'AND i."DocType" = \'IN\') AS "Invoices", '
            '(SELECT COUNT(*) FROM "ARAdjust" j WHERE j."AdjgDocType" = \'CM\' AND j."AdjgRefNbr" = x."RefNbr") '
            '+ (SELECT COUNT(*) FROM "ARTran" t WHERE t."TranType" = \'CM\' AND t."RefNbr" = x."RefNbr" '
            'AND t."DrCr" = \'U\') AS "Applications" '
            'FROM "xAMZDocument" x WHERE x."CpnyID" = ? AND x."DocType" = \'CM\'', [ctx.cpny_id])


AR_DOCUMENTS = Rule(
    "ar_documents",
    "Our AR documents are what AR Release needs: ARDoc.BankAcct/BankSub set (pp_08400PrepWrk refuses a blank one, "
    "pp_08400CreateOffset posts the receivable to it), CuryMultDiv/CuryRate set on ARDoc and ARTran (release "
    "converts with them); one invoice per order and shipment, each bound in xAMZDocument; and each credit memo of "
    "an invoiced order applied (an ARAdjust once released, pp_08400InsertARAdjust, else its DrCr 'U' line).",
    (Part(_ar_docs, 'v."BankAcct" IS NULL OR v."BankAcct" = \'\' OR v."BankSub" IS NULL OR v."BankSub" = \'\' '
          'OR v."CuryMultDiv" NOT IN (\'M\', \'D\') OR v."CuryRate" IS NULL OR v."CuryRate" <= 0 '
          'OR v."BadTrans" > 0', ("DocType", "RefNbr"), _ar_doc_detail),
     Part(_our_invoices, 'v."Unbound" > 0 OR (v."Whole" > 0 AND v."Shipments" > 0)', ("AmazonOrderId",),
          lambda r: f"{r['Unbound']} invoices not bound, {r['Whole']} whole-order and {r['Shipments']} "
                    "per-shipment invoices"),
     Part(_memos, 'v."Invoices" > 0 AND v."Applications" = 0', ("RefNbr",),
          lambda r: f"credit memo for invoiced order {r['AmazonOrderId']} not applied")),
)


# -- fba_sales_booked -------------------------------------------------------------------------------------
def _fba_sales(ctx: Context):
    return ('SELECT b."AmazonOrderId" AS "AmazonOrderId", h."Status" AS "Status", '
            'h."UnshippedBalance" AS "UnshippedBalance", h."TotOrd" AS "TotOrd", '
            '(SELECT COUNT(*) FROM "SOSched" s WHERE s."CpnyID" = h."CpnyID" AND s."OrdNbr" = h."OrdNbr" '
            'AND (s."Status" <> \'C\' OR s."QtyOpenShip" <> 0)) AS "OpenScheds", '
            '(SELECT COUNT(*) FROM "SOShipHeader" p WHERE p."CpnyID" = b."CpnyID" AND p."ShipperID" = b."ShipperID" '
            'AND p."OrdNbr" = b."OrdNbr" AND p."Status" = \'C\' AND p."ShippingConfirmed" = 1 '
            'AND p."INBatNbr" = b."INBatNbr") AS "Shippers", '
            '(SELECT COALESCE(SUM(l."QtyShip"), 0) FROM "SOShipLine" l WHERE l."CpnyID" = b."CpnyID" '
            'AND l."ShipperID" = b."ShipperID") AS "Shipped", '
            '(SELECT COALESCE(SUM(t."Qty"), 0) FROM "INTran" t WHERE t."CpnyID" = b."CpnyID" '
            'AND t."BatNbr" = b."INBatNbr" AND t."ShipperID" = b."ShipperID" AND t."TranType" = \'IN\' '
            'AND t."InvtMult" = -1) AS "Issued", '
            '(SELECT COUNT(*) FROM "ARDoc" d WHERE d."CpnyID" = b."CpnyID" AND d."DocType" = \'IN\' '
            'AND d."RefNbr" = b."InvcRefNbr" AND d."OrdNbr" = b."OrdNbr") AS "Invoices" '
            'FROM "xAMZOrder" b JOIN "SOHeader" h ON h."CpnyID" = b."CpnyID" AND h."OrdNbr" = b."OrdNbr" '
            'WHERE b."CpnyID" = ? AND b."ShipperID" <> \'\'', [ctx.cpny_id])


def _fba_detail(r: dict) -> str:
    out = [] if trim(r["Status"]) == "C" else [f"order Status {trim(r['Status'])}"]
    out += [f"{r['OpenScheds']} open schedule(s)"] if r["OpenScheds"] else []
    out += [f"UnshippedBalance {float(r['UnshippedBalance'] or 0):g}"] if float(r["UnshippedBalance"] or 0) else []
    out += [] if r["Shippers"] == 1 else ["no confirmed shipper with its IN batch"]
    if float(r["Issued"] or 0) != float(r["Shipped"] or 0):
        out.append(f"INTran issues {float(r['Issued'] or 0):g} of {float(r['Shipped'] or 0):g} shipped")
    if float(r["TotOrd"] or 0) > 0 and r["Invoices"] != 1:
        out.append(f"{r['Invoices']} invoices")
    return ", ".join(out)


def _invoiced_open(ctx: Context):
    return ('SELECT b."AmazonOrderId" AS "AmazonOrderId", h."Status" AS "Status" FROM "xAMZOrder" b '
            'JOIN "SOHeader" h ON h."CpnyID" = b."CpnyID" AND h."OrdNbr" = b."OrdNbr" '
            'WHERE b."CpnyID" = ? AND b."Status" = \'INVOICED\' AND b."AmazonStatus" = \'SHIPPED\' '
            'AND NOT EXISTS (SELECT 1 FROM "SOShipHeader" p WHERE p."CpnyID" = h."CpnyID" '
            'AND p."OrdNbr" = h."OrdNbr" AND p."Cancelled" = 0)', [ctx.cpny_id])


FBA_SALES_BOOKED = Rule(
    "fba_sales_booked",
    "An order Amazon fulfilled is booked as SL books a shipped sale: the order and its schedules closed with no "
    "unshipped balance (else SL's planning keeps its demand and a shipper could bill it again), one confirmed "
    "shipper whose IN batch issues exactly the shipped quantity (the Sales Journal's INTran, JrnlType OM, that "
    "DMG_10400_Upd_Shipper costs), and one invoice for it; no order invoiced for Amazon's shipment without one.",
    (Part(_fba_sales, 'v."Status" <> \'C\' OR v."OpenScheds" > 0 OR v."UnshippedBalance" <> 0 OR v."Shippers" <> 1 '
          'OR v."Issued" <> v."Shipped" OR (v."TotOrd" > 0 AND v."Invoices" <> 1)', ("AmazonOrderId",), _fba_detail),
     Part(_invoiced_open, 'v."Status" <> \'C\'', ("AmazonOrderId",),
          lambda r: f"invoiced for Amazon's shipment with no shipper, order still {trim(r['Status'])}")),
)


RULES: list[Rule] = [SCHEDULES_NOT_EXPIRED, LINE_MONEY, HEADER_TOTAL, BINDINGS_DOCUMENTS, GHOST_ITEMS_ON_HOLD,
                     CANCELLED_CONSISTENT, AR_DOCUMENTS, CANCELLATIONS_COMPLETE, FBA_SALES_BOOKED]


# -- running ----------------------------------------------------------------------------------------------
def _run_part(rows: Rows, part: Part, ctx: Context, examples: int) -> tuple[int, int, list[dict], str]:
    sql, params = part.query(ctx)
    if sql is None:
        return 0, 0, [], str(params)
    counts = rows.one(f'SELECT COUNT(*), COALESCE(SUM(CASE WHEN {part.bad} THEN 1 ELSE 0 END), 0) FROM ({sql}) v',
                      params)
    checked, failed = int(counts[0] or 0), int(counts[1] or 0)
    found: list[dict] = []
    if failed and examples > 0:
        order = ", ".join(f'v."{k}"' for k in part.keys)
        cur = rows.execute(f"SELECT * FROM ({sql}) v WHERE {part.bad} ORDER BY {order}", params)
        names = [d[0] for d in cur.description]
        for raw in cur.fetchmany(examples):
            row = dict(zip(names, (trim(x) for x in raw), strict=True))
            found.append({"key": "/".join(str(row[k]) for k in part.keys),
                          "columns": {k: row[k] for k in part.keys}, "detail": part.describe(row)})
    return checked, failed, found, ""


def check(db, rule: Rule, ctx: Context, examples: int = 3) -> Result:
    """Run one rule in its own read-only transaction."""
    result = Result(rule.name, rule.protects)

    def work(rows: Rows) -> None:
        notes = []
        for part in rule.parts:
            checked, failed, found, note = _run_part(rows, part, ctx, examples - len(result.examples))
            result.checked += checked
            result.failed += failed
            result.examples += found
            notes += [note] if note else []
        result.note = "; ".join(notes)

    try:
        db.run(work, write=False)
    except SyncError as exc:
        return Result(rule.name, rule.protects, status="ERROR", note=f"could not run: {exc.message}")
    result.status = "FAIL" if result.failed else "OK"
    return result


def verify(db, cpny_id: str, *, ghost_items=(), today: datetime | None = None, examples: int = 3,
           rules: list[Rule] | None = None) -> list[Result]:
    """Every rule (default ``RULES``) on ``db`` (a ``Database``) for company ``cpny_id``; one ``Result`` each."""
    today = today or datetime.now()
    ctx = Context(cpny_id, datetime(today.year, today.month, today.day),
                  tuple(sorted({g.strip() for g in ghost_items if g and g.strip()})))
    return [check(db, rule, ctx, examples) for rule in (RULES if rules is None else rules)]


def failed(results: list[Result]) -> bool:
    return any(r.status != "OK" for r in results)


def report_lines(results: list[Result]) -> list[str]:
    """One line per rule: ``OK    schedules_not_expired  checked 1,234`` or
    ``FAIL  header_total  3 of 1,234  e.g. SO000123 (TotOrd 26.58 vs 23.59 ...)``."""
    width = max((len(r.rule) for r in results), default=0)
    lines = []
    for r in results:
        head = f"{r.status:5} {r.rule:{width}}  "
        if r.status == "ERROR":
            lines.append(head + r.note)
            continue
        text = f"checked {r.checked:,}" if r.status == "OK" else f"{r.failed:,} of {r.checked:,}"
        if r.examples:
            text += "  e.g. " + "; ".join(f"{e['key']} ({e['detail']})" for e in r.examples)
        if r.note:
            text += f" ({r.note})"
        lines.append(head + text)
    return lines


def report_json(results: list[Result]) -> str:
    return json.dumps({"ok": not failed(results), "rules": [r.as_dict() for r in results]}, indent=2, default=str)
