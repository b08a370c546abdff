"""The simulator's settlement files look like Amazon's: one per marketplace and period, a report id that is not the
settlement id, sales with FBA fees, storage, advertising, chargebacks, a reserve carried from one period to the
next, negative settlements; and every one passes the product's own parser and check (its rows add up)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from integration.sandbox.amazon import Simulator
from integration.sandbox.amazon.reports import SETTLEMENT
from integration.sandbox.amazon.settlement import V1_COLUMNS, v1_file
from integration.settlements.parse import open_settlement


@pytest.fixture(scope="module")
def settlements(tmp_path_factory) -> list[dict]:
    sim = Simulator(seed=3, orders=80, history_days=40, marketplace_ids=("ATVPDKIKX0DER", "A1PA6795UKMFR9")).start()
    folder = tmp_path_factory.mktemp("sim-settlements")
    try:
        state = sim.state
        with state.lock:
            state.tick()
            reports = [r for r in state.reports.values() if r["reportType"] == SETTLEMENT]
            out = []
            for r in sorted(reports, key=lambda r: r["_created"]):
                path = folder / f"{r['reportId']}.txt"
                path.write_bytes(state.documents[r["reportDocumentId"]]["content"])
                sf = open_settlement(path, marketplace_hint=r["marketplaceIds"][0], report_id=r["reportId"])
                out.append({"report": r, "file": sf, "totals": sf.check(), "rows": list(sf.rows())})
    finally:
        sim.stop()
    return out


def test_each_marketplace_and_period_has_its_own_settlement_under_another_report_id(settlements):
    assert len(settlements) == 6                                   # 3 closed periods x 2 marketplaces
    ids = [s["file"].header.settlement_id for s in settlements]
    assert len(set(ids)) == 6
    assert not set(ids) & {s["report"]["reportId"] for s in settlements}
    currencies = {s["report"]["marketplaceIds"][0]: s["file"].header.currency for s in settlements}
    assert currencies == {"ATVPDKIKX0DER": "USD", "A1PA6795UKMFR9": "EUR"}


def test_sales_fees_chargebacks_and_a_reserve_released_the_next_period(settlements):
    us = [s for s in settlements if s["report"]["marketplaceIds"] == ["ATVPDKIKX0DER"]]
    kinds = {(r.transaction_type, r.amount_description) for s in us for r in s["rows"]}
    assert {("Order", "Principal"), ("Order", "FBAPerUnitFulfillmentFee"), ("Chargeback Refund", "Principal"),
            ("other-transaction", "Storage Fee"), ("other-transaction", "StorageRenewalBilling"),
            ("ServiceFee", "TransactionTotalAmount")} <= kinds
    reserve = defaultdict(Decimal)
    for n, s in enumerate(us):
        for r in s["rows"]:
            reserve[(n, r.amount_description)] += r.amount
    for n in range(1, len(us)):   # what was held at the end of a period is released at the start of the next
        assert reserve[(n, "Previous Reserve Amount Balance")] == -reserve[(n - 1, "Current Reserve Amount")] > 0


def test_every_file_adds_up_and_a_period_without_sales_is_negative(settlements):
    for s in settlements:
        assert s["totals"].total == s["file"].header.total         # the product's check passed, to the cent
    de = [s for s in settlements if s["report"]["marketplaceIds"] == ["A1PA6795UKMFR9"]]
    assert all(s["file"].header.total < 0 for s in de)             # fees only: the seller owes Amazon


@pytest.mark.parametrize("columns", [36, 33])
def test_the_v1_writer_makes_files_the_parser_reads_as_v1(tmp_path, columns):
    from datetime import UTC, datetime

    text, total = v1_file(settlement_id="6016502941", start=datetime(2015, 12, 2, tzinfo=UTC),
                          end=datetime(2015, 12, 16, tzinfo=UTC), columns=columns,
                          rows=[("Order", "ItemPrice", "Principal", "27.99"),
                                ("Order", "ItemFees", "FBAPerOrderFulfillmentFee", "-1.00")])
    assert text.splitlines()[0].split("\t") == V1_COLUMNS[:columns]
    path = tmp_path / "v1.txt"
    path.write_text(text)
    sf = open_settlement(path)
    assert sf.header.layout == f"v1-{columns}" and sf.check().total == total == Decimal("26.99")
