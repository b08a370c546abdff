"""What a settlement file says, as the parts of ``integration.settlements`` exchange it.

A parsed file is a ``SettlementHeader`` (from the summary row) and a stream of ``SettlementRow`` (one per amount
component), read again from the file each time they are needed, so memory stays flat whatever the file's size.
Money is ``Decimal`` in the settlement's currency; times are aware (UTC) datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from integration.errors import NeedsReview

LAYOUTS = ("v2", "v1-36", "v1-33")   # the flat file V2 (24 columns or fewer), the retired V1 layouts


@dataclass(frozen=True)
class SettlementHeader:
    """The summary row: the payout."""

    settlement_id: str
    start: datetime | None
    end: datetime | None
    deposit_date: datetime | None
    total: Decimal                 # total-amount: the payout (negative: the seller owes Amazon)
    currency: str
    layout: str                    # one of LAYOUTS
    report_id: str = ""            # Amazon's report id (not the settlement id) when the file came from getReports
    marketplaces: tuple[str, ...] = ()   # marketplace-name values seen in the rows
    warnings: tuple[str, ...] = ()       # e.g. "ids re-saved by a spreadsheet (7.8E+12): taken from the summary row"


@dataclass(frozen=True)
class SettlementRow:
    """One amount component of a transaction."""

    line_no: int                   # 1-based line in the file (the header is line 1)
    transaction_type: str          # Order, Refund, other-transaction, ServiceFee, Chargeback, ...
    amount_type: str               # ItemPrice, ItemFees, Promotion, other-transaction, ...
    amount_description: str        # Principal, Commission, FBAPerUnitFulfillmentFee, Previous Reserve Amount Balance ...
    amount: Decimal
    currency: str = ""
    posted: datetime | None = None # posted-date-time, else posted-date (midnight UTC)
    order_id: str = ""
    merchant_order_id: str = ""
    adjustment_id: str = ""
    shipment_id: str = ""
    marketplace_name: str = ""
    fulfillment_id: str = ""       # AFN / MFN
    order_item_code: str = ""
    merchant_order_item_id: str = ""
    merchant_adjustment_item_id: str = ""
    sku: str = ""
    quantity: int = 0
    promotion_id: str = ""


class SettlementFileLike(Protocol):
    """What ``parse.open_settlement`` returns."""

    path: str
    charset: str
    checksum: str                  # sha256 of the file's bytes as received (after gunzip)
    header: SettlementHeader

    def rows(self) -> Iterator[SettlementRow]: ...


class SettlementProblem(NeedsReview):
    """A settlement that cannot be posted as it is: held with the reason (``total_mismatch``, ``mixed_currency``,
    ``unreadable_settlement``, ``no_summary`` ...) and the details a person needs (the difference, the line)."""


@dataclass
class Totals:
    """Sums while streaming: per (transaction type, amount type, description), the grand sum, row count."""

    by_type: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)
    rows: int = 0
