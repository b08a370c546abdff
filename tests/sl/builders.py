"""Small builders for SL-side tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from integration.sl import OrderBinding, SalesOrder, SalesOrderLine

_seq = itertools.count(1)


def amazon_id(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"111-{n:07d}-{(n * 7919) % 10**7:07d}"


def an_order(lines: int = 3, order_id: str | None = None, **header) -> SalesOrder:
    order_id = order_id or amazon_id()
    fields = dict(CustID="AMZUS", CustOrdNbr=order_id, OrdDate=datetime(2026, 3, 14, 9, 26, 53),
                  ShipName="Jane Buyer", ShipAddr1="1 Main Street", ShipCity="Seattle", ShipState="WA",
                  ShipZip="98101-1234", ShipCountry="US", ShipViaID="UPSGND", TotFrt=Decimal("4.99"))
    fields.update(header)
    return SalesOrder(lines=[
        SalesOrderLine(f"WIDGET-{n:04d}", Decimal(n), Decimal("10.05") + n, "MAIN", amazon_item_id=f"{order_id[-7:]}{n:03d}")
        for n in range(1, lines + 1)
    ], **fields)


def a_binding(order: SalesOrder, status: str = "UNSHIPPED") -> OrderBinding:
    return OrderBinding(order.CustOrdNbr, "2026-03-14T09:30:00Z", "hash-" + order.CustOrdNbr, status)
