"""Slow-changing SL set-up read once per gateway: base currency and its decimals, periods, order types,
workflow steps, known customers, items and ship vias. Only positive answers are cached, so a customer or
item created in SL after a miss is found on the next call.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration.errors import NeedsReview
from integration.sl.rows import Rows


@dataclass(frozen=True)
class OrderType:
    sotype_id: str
    behavior: str
    ar_acct: str
    ar_sub: str
    sls_acct: str
    sls_sub: str
    next_function_id: str
    next_function_class: str
    frt_acct: str = ""
    frt_sub: str = ""
    misc_acct: str = ""
    misc_sub: str = ""
    disc_acct: str = ""
    disc_sub: str = ""
    cogs_acct: str = ""
    cogs_sub: str = ""
    cancel_days: int = 0


@dataclass(frozen=True)
class Item:
    invt_id: str
    descr: str
    stk_unit: str
    tax_cat: str
    stk_item: int
    tran_status: str
    cogs_acct: str = ""
    cogs_sub: str = ""
    invt_acct: str = ""
    invt_sub: str = ""


@dataclass(frozen=True)
class Customer:
    """What an order takes from its SL customer: terms, salesperson, the bill-to block and the default ship-to id
    (SOHeader.ShiptoID with ShiptoType C names an SOAddress row; ShipAddrSpecial 1 says the order carries its own
    one-time address, as every Amazon order does)."""

    cust_id: str
    terms: str
    slsper_id: str
    ship_to_id: str
    name: str
    attn: str
    addr1: str
    addr2: str
    city: str
    state: str
    zip: str
    country: str
    phone: str


@dataclass(frozen=True)
class MiscChargeSetup:
    misc_chrg_id: str
    descr: str
    acct: str
    sub: str
    tax_cat: str


class Lookups:
    def __init__(self):
        self._gl: tuple | None = None
        self._types: dict[tuple[str, str], OrderType] = {}
        self._customers: set[str] = set()
        self._ship_vias: set[tuple[str, str]] = set()
        self._items: dict[str, Item] = {}
        self._decimals: dict[str, int] = {}
        self._cps_off: int | None = None
        self._customer_rows: dict[str, Customer] = {}
        self._price_places: int | None = None
        self._taxes: set[str] = set()
        self._freight_terms: set[str] = set()
        self._misc: dict[str, MiscChargeSetup] = {}

    def gl(self, rows: Rows) -> tuple[str, str, str, str]:
        """(BaseCuryId, LedgerID, PerNbr, LastClosePerNbr) from GLSetup (periods are not cached)."""
        row = rows.one('SELECT "BaseCuryId", "LedgerID", "PerNbr", "LastClosePerNbr" FROM "GLSetup"')
        if row is None:
            raise NeedsReview("missing_setup", "GLSetup has no row", fields=("GLSetup",))
        return row

    def base_currency(self, rows: Rows) -> str:
        if self._gl is None:
            self._gl = self.gl(rows)
        return self._gl[0]

    def decimals(self, rows: Rows, cury_id: str) -> int:
        if cury_id not in self._decimals:
            places = rows.scalar('SELECT "DecPl" FROM "Currncy" WHERE "CuryId" = ?', [cury_id])
            if places is None:
                raise NeedsReview("unknown_currency", f"currency {cury_id!r} is not in Currncy", fields=("CuryID",))
            self._decimals[cury_id] = int(places)
        return self._decimals[cury_id]

    def cps_off(self, rows: Rows) -> int:
        if self._cps_off is None:
            on = rows.scalar('SELECT "CPSOnOff" FROM "INSetup"')
            self._cps_off = 1 - int(on or 0)
        return self._cps_off

    def order_type(self, rows: Rows, cpny_id: str, sotype_id: str) -> OrderType:
        key = (cpny_id, sotype_id)
        if key not in self._types:
            row = rows.one('SELECT "Behavior", "ARAcct", "ARSub", "SlsAcct", "SlsSub", "Active", "FrtAcct", "FrtSub", '
                           '"MiscAcct", "MiscSub", "DiscAcct", "DiscSub", "COGSAcct", "COGSSub", "CancelDays" '
                           'FROM "SOType" WHERE "CpnyID" = ? AND "SOTypeID" = ?', [cpny_id, sotype_id])
            if row is None or not row[5]:
                raise NeedsReview("unknown_order_type", f"SOType {sotype_id!r} is missing or inactive in {cpny_id}",
                                  fields=("SOTypeID",))
            # The order is entered (step ENT); its next step is the first enabled step after it (§3.3).
            step = rows.one('SELECT "FunctionID", "FunctionClass" FROM "SOStep" WHERE "CpnyID" = ? AND "SOTypeID" = ? '
                            'AND "Status" <> ? AND "EventType" <> ? ORDER BY "Seq"', [cpny_id, sotype_id, "D", "ENT"])
            self._types[key] = OrderType(sotype_id, row[0], row[1], row[2], row[3], row[4], *(step or ("", "")),
                                         *row[6:14], int(row[14] or 0))
        return self._types[key]

    def require_customer(self, rows: Rows, cust_id: str) -> None:
        if cust_id in self._customers:
            return
        if rows.scalar('SELECT 1 FROM "Customer" WHERE "CustId" = ?', [cust_id]) is None:
            raise NeedsReview("unknown_customer", f"customer {cust_id!r} does not exist in SL", fields=("CustID",))
        self._customers.add(cust_id)

    def require_ship_via(self, rows: Rows, cpny_id: str, ship_via_id: str) -> None:
        if not ship_via_id or (cpny_id, ship_via_id) in self._ship_vias:
            return
        if rows.scalar('SELECT 1 FROM "ShipVia" WHERE "CpnyID" = ? AND "ShipViaID" = ?', [cpny_id, ship_via_id]) is None:
            raise NeedsReview("unknown_ship_via", f"ShipVia {ship_via_id!r} does not exist for {cpny_id}",
                              fields=("ShipViaID",))
        self._ship_vias.add((cpny_id, ship_via_id))

    def items(self, rows: Rows, invt_ids: list[str]) -> dict[str, Item]:
        missing = sorted({i for i in invt_ids if i not in self._items})
        if missing:
            marks = ", ".join("?" for _ in missing)
            for row in rows.all('SELECT "InvtID", "Descr", "StkUnit", "TaxCat", "StkItem", "TranStatusCode", '
                                '"COGSAcct", "COGSSub", "InvtAcct", "InvtSub" '
                                f'FROM "Inventory" WHERE "InvtID" IN ({marks})', missing):
                self._items[row[0]] = Item(*row)
        unknown = [i for i in invt_ids if i not in self._items]
        if unknown:
            raise NeedsReview("unknown_item", f"no SL item {', '.join(unknown)}", fields=("InvtID",),
                              details={"invt_ids": unknown})
        return {i: self._items[i] for i in invt_ids}

    def customer(self, rows: Rows, cust_id: str) -> Customer:
        """The customer's terms, bill-to block and default ship-to; NeedsReview when SL has no such customer."""
        found = self._customer_rows.get(cust_id)
        if found is None:
            row = rows.one('SELECT "Terms", "SlsperId", "DfltShipToId", "BillName", "BillAttn", "BillAddr1", '
                           '"BillAddr2", "BillCity", "BillState", "BillZip", "BillCountry", "BillPhone" '
                           'FROM "Customer" WHERE "CustId" = ?', [cust_id])
            if row is None:
                raise NeedsReview("unknown_customer", f"customer {cust_id!r} does not exist in SL", fields=("CustID",))
            found = self._customer_rows[cust_id] = Customer(cust_id, *(x or "" for x in row))
            self._customers.add(cust_id)
        return found

    def price_places(self, rows: Rows) -> int:
        """INSetup.DecPlPrcCst: the decimals SL keeps on unit prices and costs."""
        if self._price_places is None:
            self._price_places = int(rows.scalar('SELECT "DecPlPrcCst" FROM "INSetup"') or 2)
        return self._price_places

    def require_tax(self, rows: Rows, tax_id: str) -> str:
        """A tax id the order's SOTax row may name: it must exist in SalesTax (SL's tax master, with its GL accounts)."""
        if tax_id in self._taxes:
            return tax_id
        row = rows.one('SELECT "PrcTaxIncl" FROM "SalesTax" WHERE "TaxId" = ?', [tax_id]) if tax_id else None
        if row is None:
            raise NeedsReview("unknown_tax_id", f"tax id {tax_id!r} (the mapping's marketplaces.*.tax_id) is not in "
                              "SL's SalesTax", fields=("TaxID",))
        if (row[0] or "").strip().upper() == "Y":
            # The product writes prices without the tax and the tax in SOTax; a tax id whose prices include the tax
            # would have SL's AR release take it off the sales a second time (vp_08220SalesTaxARPrcTaxIncl).
            raise NeedsReview("tax_id_price_includes_tax", f"tax id {tax_id!r} says prices include the tax "
                              "(SalesTax.PrcTaxIncl Y); the product writes net prices with the tax beside them: use a "
                              "tax id with PrcTaxIncl N for Amazon's tax", fields=("TaxID",))
        self._taxes.add(tax_id)
        return tax_id

    def misc_charge(self, rows: Rows, chrg_id: str) -> MiscChargeSetup:
        """SL's MiscCharge master row (description, account, tax category) for an SOMisc line."""
        found = self._misc.get(chrg_id)
        if found is None:
            row = rows.one('SELECT "Descr", "MiscAcct", "MiscSub", "TaxCat" FROM "MiscCharge" WHERE "MiscChrgID" = ?',
                           [chrg_id])
            if row is None:
                raise NeedsReview("unknown_misc_charge", f"misc charge {chrg_id!r} (the mapping's charges) is not in "
                                  "SL's MiscCharge", fields=("MiscChrgID",))
            found = self._misc[chrg_id] = MiscChargeSetup(chrg_id, *(x or "" for x in row))
        return found

    def require_freight_terms(self, rows: Rows, terms_id: str) -> None:
        """Freight terms that add nothing to Amazon's freight: they must exist (FrtTerms) and every FrtTermDet step
        must compute 0 (FreightPct, HandlingChg, HandlingChgLine, InvcAmtPct), else SL's shipper would charge the
        buyer freight of its own on top of what Amazon charged (ADG_Freight_FrtDet)."""
        if terms_id in self._freight_terms:
            return
        if rows.scalar('SELECT 1 FROM "FrtTerms" WHERE "FrtTermsID" = ?', [terms_id]) is None:
            raise NeedsReview("unknown_freight_terms", f"freight terms {terms_id!r} (the mapping's shipping."
                              "freight_terms) are not in SL's FrtTerms", fields=("FrtTermsID",))
        adds = rows.scalar('SELECT COUNT(*) FROM "FrtTermDet" WHERE "FrtTermsID" = ? AND ("FreightPct" <> 0 OR '
                           '"HandlingChg" <> 0 OR "HandlingChgLine" <> 0 OR "InvcAmtPct" <> 0)', [terms_id])
        if adds:
            raise NeedsReview("freight_terms_add_freight", f"freight terms {terms_id!r} compute freight of their own "
                              "(FrtTermDet amounts not 0); Amazon already charged the buyer's shipping",
                              fields=("FrtTermsID",))
        self._freight_terms.add(terms_id)
