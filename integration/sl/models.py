"""SL-shaped values the gateway takes and returns. No cursor or row leaves ``sl/``; these do.

Header fields of ``SalesOrder`` carry SL's SOHeader column names so a mapping table can name its target
directly. Money is ``Decimal`` until it is written (rounded to the currency's places).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class SalesOrderLine:
    invt_id: str
    qty: Decimal
    unit_price: Decimal
    site_id: str
    line_ref: str = ""           # SOLine.LineRef; blank = numbered 00001, 00002, ...
    description: str = ""        # SOLine.Descr (blank = the item's description)
    amazon_item_id: str = ""     # Amazon OrderItemId, kept in SOLine.User1 (and SOSched.User1)
    alternate_id: str = ""       # the Amazon SKU when it differs from InvtID (SOLine.AlternateID)
    alt_id_type: str = ""        # SOLine.AltIDType of that alternate id
    discount: Decimal = Decimal(0)
    net: Decimal | None = None   # the line's merchandise after its promotions, before tax (None: qty x price - discount)
    qty_shipped: Decimal | None = None   # what Amazon shipped (a history document records it; None: all or nothing)


@dataclass
class MiscCharge:
    """One SOMisc row: an Amazon charge that is neither merchandise nor freight (gift wrap, COD fee, other)."""

    misc_chrg_id: str            # SL MiscCharge.MiscChrgID (the mapping's ``charges``)
    amount: Decimal              # before tax
    descr: str = ""


@dataclass
class OrderTax:
    """The order's tax as Amazon computed it, for one SOTax row under ``tax_id`` (SalesTax.TaxId)."""

    tax_id: str
    merch: Decimal = Decimal(0)
    freight: Decimal = Decimal(0)
    misc: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.merch + self.freight + self.misc


@dataclass
class SalesOrder:
    CustID: str
    CustOrdNbr: str              # the Amazon order id (CHAR(25))
    OrdDate: datetime
    lines: list[SalesOrderLine] = field(default_factory=list)
    SOTypeID: str = "SO"
    ShipName: str = ""
    ShipAttn: str = ""
    ShipAddr1: str = ""
    ShipAddr2: str = ""
    ShipAddr3: str = ""          # SL has no third line: wrapped into 1-2, the rest kept in the note
    ShipCity: str = ""
    ShipState: str = ""
    ShipZip: str = ""
    ShipCountry: str = ""
    ShipPhone: str = ""
    ShipViaID: str = ""
    ShipSiteID: str = ""
    CuryID: str = ""             # blank = GLSetup.BaseCuryId
    TotFrt: Decimal = Decimal(0)
    TotTax: Decimal = Decimal(0)   # used only without ``tax``: tax with no SOTax detail (older callers, tests)
    misc: list[MiscCharge] = field(default_factory=list)
    tax: OrderTax | None = None
    expected_total: Decimal | None = None   # Amazon's order total: SL's must equal it to the cent, else held
    ReqDate: datetime | None = None         # blank = OrdDate
    PromDate: datetime | None = None
    ShipDate: datetime | None = None        # the date it must leave (Amazon's ship-by)
    FrtTermsID: str = ""                    # SL freight terms that add nothing to Amazon's freight (mapping)
    cancel_days: int = 0                    # SOSched.CancelDate = the later of ReqDate/PromDate + this (0: SOType)
    AdminHold: int = 0
    User1: str = ""
    User2: str = ""
    User3: str = ""
    User4: str = ""
    User5: Decimal = Decimal(0)
    User6: Decimal = Decimal(0)
    User7: str = ""
    User8: str = ""
    User9: datetime | None = None
    User10: datetime | None = None
    note: str = ""               # SOHeader.NoteId -> Snote


@dataclass
class OrderBinding:
    """xAMZOrder: which SL order an Amazon order became, and the Amazon state last applied."""

    amazon_order_id: str
    last_updated: str = ""       # Amazon lastUpdatedTime (ISO 8601, as received)
    payload_hash: str = ""
    status: str = ""             # Amazon order status last applied
    ord_nbr: str = ""
    cpny_id: str = ""
    sl_status: str = ""          # OPEN, CANCELLED, INVOICED, CREDITED, HISTORY (before go-live)
    invc_ref_nbr: str = ""
    cm_ref_nbr: str = ""
    fence: int = 0               # fencing number of the last lease holder that wrote it
    shipped_at: str = ""         # FBA: lastUpdatedTime of the first version seen shipped (the invoice's date)
    shipper_id: str = ""         # FBA: the shipper that booked Amazon's shipment (with its IN batch and invoice)
    in_bat_nbr: str = ""         # FBA: that shipment's IN issue batch
    original_order_id: str = ""  # a replacement or exchange order: the Amazon order it replaces


@dataclass
class Event:
    """One line of the xAMZEvent audit trail."""

    entity: str
    key: str
    action: str
    task_id: str = ""
    detail: dict | str = ""


@dataclass
class ShipperLine:
    line_ref: str
    ord_line_ref: str
    invt_id: str
    qty: Decimal
    amazon_item_id: str = ""


@dataclass
class Package:
    """One box of a shipper (SOShipPack; a shipper without boxes has one, its SOShipHeader.TrackingNbr)."""

    box_ref: str                 # SOShipPack.BoxRef; blank for the header's number
    tracking_nbr: str            # the whole number: xAMZTracking's where one is recorded, else SL's
    weight: float = 0.0
    sl_tracking_nbr: str = ""    # the number as SL's column holds it
    sl_width: int = 0            # that column's width (SOShipPack 20, SOShipHeader 25)
    recorded_by: str = ""        # xAMZTracking.Source when the whole number was recorded there

    @property
    def looks_cut(self) -> bool:
        """SL's column is full to its width and nobody recorded the whole number: it may have been cut."""
        return not self.recorded_by and self.sl_width > 0 and len(self.sl_tracking_nbr) >= self.sl_width


@dataclass
class Shipper:
    cpny_id: str
    shipper_id: str
    ord_nbr: str
    cust_ord_nbr: str
    ship_via_id: str
    carrier: str                 # ShipVia.CarrierID (else SCAC, else Descr)
    scac: str
    ship_via_descr: str
    ship_date: datetime
    lines: list[ShipperLine]
    packages: list[Package]
    changed_at: datetime         # SOShipHeader.LUpd_DateTime: the watermark to keep


@dataclass
class Transfer:
    trnsfr_doc_nbr: str
    invt_id: str
    qty: Decimal
    from_site: str
    to_site: str
    expected_date: datetime


@dataclass
class GLLine:
    acct: str
    sub: str
    dr_amt: Decimal = Decimal(0)
    cr_amt: Decimal = Decimal(0)
    descr: str = ""
    ref_nbr: str = ""            # GLTran.RefNbr CHAR(10)
    ext_ref_nbr: str = ""        # GLTran.ExtRefNbr CHAR(15), e.g. the settlement id


@dataclass
class SettlementBinding:
    """xAMZSettlement: which GL batch a settlement became."""

    settlement_id: str
    checksum: str = ""
    total: Decimal = Decimal(0)
    batch_nbr: str = ""
    status: str = ""


@dataclass
class Hold:
    hold_id: int
    entity: str
    key: str
    reason: str
    message: str
    payload: dict
    status: str
    note: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ItemPolicy:
    """How an Amazon SKU finds its SL item, tried in ``order``:

    ``invtid``: Inventory.InvtID equal to the SKU; ``xref``: an ItemXRef alternate id of one of
    ``xref_types`` (``C`` rows only for ``entity_id``, the Amazon customer); ``map``: ``mapping``
    (from the mapping file; the only way for SKUs longer than SL's 30 characters).
    """

    order: tuple[str, ...] = ("invtid", "xref", "map")
    xref_types: tuple[str, ...] = ("K", "G", "C", "U")
    entity_id: str = ""
    mapping: dict[str, str] = field(default_factory=dict, hash=False)
