"""Settlements posted to SL's GL: balanced batches, deposit, carry-forward over a period end, re-issues, holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.mapping.rules import load_mapping
from integration.settlements.accounts import build_accounts
from integration.settlements.model import SettlementHeader, SettlementRow
from integration.settlements.post import plan, post_settlement
from integration.sl import sandbox
from tests.sl.conftest import dsn, gateway, pg_database, pg_template, sqlite_dsn  # noqa: F401

D = Decimal


def current_period(gw) -> str:
    return gw.db.run(lambda r: r.scalar('SELECT "PerNbr" FROM "GLSetup"'), write=False).strip()


def day_in(period: str, day: int = 10) -> datetime:
    return datetime(int(period[:4]), int(period[4:]), day, 12, tzinfo=UTC)


def previous(period: str) -> str:
    y, m = int(period[:4]), int(period[4:])
    return f"{y - 1}12" if m == 1 else f"{y}{m - 1:02d}"


def a_row(ttype, atype, desc, amount, posted, n=[0]) -> SettlementRow:  # noqa: B006  (a line counter)
    n[0] += 1
    return SettlementRow(n[0], ttype, atype, desc, D(amount), "USD", posted, marketplace_name="Amazon.com")


def a_settlement(rows, sid="11800000001", currency="USD", total=None):
    total = sum((r.amount for r in rows), D(0)) if total is None else D(total)
    end = max(r.posted for r in rows) if rows else datetime.now(UTC)
    header = SettlementHeader(sid, end - timedelta(days=14), end, end + timedelta(days=2), total, currency, "v2",
                              marketplaces=("Amazon.com",))
    return header, (lambda: iter(rows))


def order_rows(when, principal="100.00", tax="8.25"):
    return [a_row("Order", "ItemPrice", "Principal", principal, when),
            a_row("Order", "ItemPrice", "Tax", tax, when),
            a_row("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", f"-{tax}", when),
            a_row("Order", "ItemFees", "Commission", "-15.00", when),
            a_row("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-3.22", when)]


@pytest.fixture
def accounts(gateway):  # noqa: F811
    return build_accounts(load_mapping(""), "USD", tax_accounts=gateway.sales_tax_accounts())


def gl_lines(gw, bat_nbr):
    sql = ('SELECT "Acct", "DrAmt", "CrAmt", "PerPost" FROM "GLTran" WHERE "Module" = \'GL\' AND "BatNbr" = ? '
           'ORDER BY "LineId"')
    return [(a.strip(), D(str(dr)).quantize(D("0.01")), D(str(cr)).quantize(D("0.01")), p.strip())
            for a, dr, cr, p in gw.db.run(lambda r: r.all(sql, [bat_nbr]), write=False)]


def net(lines, acct):
    return sum((dr - cr for a, dr, cr, _ in lines if a == acct), D(0))


def batch(gw, bat_nbr):
    return gw.db.run(lambda r: r.one('SELECT "Status", "Rlsed", "PerPost", "DrTot", "CrTot" FROM "Batch" '
                                     'WHERE "Module" = \'GL\' AND "BatNbr" = ?', [bat_nbr]), write=False)


def test_a_settlement_becomes_one_balanced_batch_with_the_payout_to_the_deposit_account(gateway, accounts):  # noqa: F811
    when = day_in(current_period(gateway))
    rows = [*order_rows(when), a_row("other-transaction", "other-transaction", "Subscription Fee", "-39.99", when)]
    header, factory = a_settlement(rows)
    result = post_settlement(gateway, header, factory, accounts)

    assert result.status == "posted" and header.total == D("41.79")
    [b] = result.batches
    lines = gl_lines(gateway, b["bat_nbr"])
    debits, credits = sum(dr for _, dr, _, _ in lines), sum(cr for _, _, cr, _ in lines)
    assert debits == credits == D(str(b["debit"])) == D("108.25")
    assert net(lines, "1070") == D("41.79")                     # the payout, to the cent
    assert net(lines, "1050") == D("-108.25")                   # principal + tax clear what the invoice booked
    assert net(lines, "2150") == D("8.25")                      # the facilitator tax clears the tax account
    assert net(lines, "6100") == D("15.00") and net(lines, "6110") == D("3.22") and net(lines, "6150") == D("39.99")
    status, rlsed, per_post, dr_tot, cr_tot = batch(gateway, b["bat_nbr"])
    assert (status.strip(), rlsed, per_post.strip()) == ("H", 0, current_period(gateway))
    assert result.deposit["acct"] == "1070" and result.deposit["amount"] == D("41.79")
    out = json.loads(json.dumps(result.as_dict()))
    assert out["debit"] == out["credit"] == "108.25" and out["total"] == "41.79"
    assert {"transaction_type": "Order", "amount_type": "ItemFees", "amount_description": "Commission",
            "amount": "-15.00"} in out["by_type"]


def test_posting_the_same_settlement_again_writes_nothing(gateway, accounts):  # noqa: F811
    header, factory = a_settlement(order_rows(day_in(current_period(gateway))))
    first = post_settlement(gateway, header, factory, accounts, checksum="abc")
    count = sandbox.count(gateway.db, "Batch")
    again = post_settlement(gateway, header, factory, accounts, checksum="abc")
    assert again.status == "already_posted" and again.batches == first.batches
    assert sandbox.count(gateway.db, "Batch") == count


def test_a_negative_settlement_is_credited_to_the_receivable_from_amazon(gateway, accounts):  # noqa: F811
    when = day_in(current_period(gateway))
    rows = [a_row("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", "-250.00", when),
            a_row("Order", "ItemPrice", "Principal", "20.00", when)]
    header, factory = a_settlement(rows)
    result = post_settlement(gateway, header, factory, accounts)
    lines = gl_lines(gateway, result.batches[0]["bat_nbr"])
    assert net(lines, "1065") == D("-230.00") and net(lines, "1070") == 0
    assert sum(dr for _, dr, _, _ in lines) == sum(cr for _, _, cr, _ in lines) == D("250.00")
    assert result.deposit["account"] == "receivable" and result.deposit["side"] == "credit"


def test_a_settlement_over_a_period_end_is_two_batches_balanced_through_the_carry_forward(gateway, accounts):  # noqa: F811
    now = current_period(gateway)
    before = previous(now)
    sandbox.update_rows(gateway.db, "GLSetup", {"LastClosePerNbr": previous(before)})
    rows = [*order_rows(day_in(before, 27)), *order_rows(day_in(now, 2), principal="50.00", tax="4.00"),
            a_row("other-transaction", "other-transaction", "StorageRenewalBilling", "-12.40", day_in(now, 3))]
    header, factory = a_settlement(rows)
    result = post_settlement(gateway, header, factory, accounts)

    assert [b["period"] for b in result.batches] == [before, now]
    first, second = (gl_lines(gateway, b["bat_nbr"]) for b in result.batches)
    for lines in (first, second):
        assert sum(dr for _, dr, _, _ in lines) == sum(cr for _, _, cr, _ in lines)
    assert {p for *_, p in first} == {before} and {p for *_, p in second} == {now}
    # the first period's net (100 - 15 - 3.22) is carried to the next and cleared there
    assert net(first, "1090") == D("81.78") and net(second, "1090") == D("-81.78")
    assert net(first, "1070") == 0 and net(second, "1070") == header.total == D("101.16")
    assert net(first, "6100") == D("15.00") and net(second, "6140") == D("12.40")


def test_a_reissued_settlement_replaces_its_unreleased_batch(gateway, accounts):  # noqa: F811
    when = day_in(current_period(gateway))
    header, factory = a_settlement(order_rows(when))
    first = post_settlement(gateway, header, factory, accounts, checksum="v1")
    rows = [*order_rows(when), a_row("other-transaction", "other-transaction", "Subscription Fee", "-39.99", when)]
    header2, factory2 = a_settlement(rows)
    second = post_settlement(gateway, header2, factory2, accounts, checksum="v2")

    old = first.batches[0]["bat_nbr"]
    assert second.status == "replaced" and second.replaced == [old]
    assert batch(gateway, old)[0].strip() == "V"                      # voided, never released
    assert [b["bat_nbr"] for b in gateway.settlement_batches(header.settlement_id)] == \
        [b["bat_nbr"] for b in second.batches]
    assert net(gl_lines(gateway, second.batches[0]["bat_nbr"]), "1070") == header2.total
    assert gateway.get_settlement_binding(header.settlement_id).checksum.strip() == "v2"


def test_a_reissued_settlement_whose_batch_is_released_is_held_and_nothing_written(gateway, accounts):  # noqa: F811
    when = day_in(current_period(gateway))
    header, factory = a_settlement(order_rows(when))
    first = post_settlement(gateway, header, factory, accounts, checksum="v1")
    sandbox.update_rows(gateway.db, "Batch", {"Status": "U", "Rlsed": 1},
                        {"Module": "GL", "BatNbr": first.batches[0]["bat_nbr"]})
    count = sandbox.count(gateway.db, "Batch")
    header2, factory2 = a_settlement(order_rows(when, principal="90.00"))
    with pytest.raises(NeedsReview) as err:
        post_settlement(gateway, header2, factory2, accounts, checksum="v2")
    assert err.value.reason == "settlement_released"
    assert sandbox.count(gateway.db, "Batch") == count
    assert [h.key for h in gateway.list_holds(reason="settlement_released")] == [header.settlement_id]


def test_an_unmapped_type_posts_to_suspense_and_holds_the_combination(gateway, accounts):  # noqa: F811
    when = day_in(current_period(gateway))
    rows = [*order_rows(when), a_row("Liquidations", "Liquidations", "LiquidationsProceeds", "7.50", when)]
    header, factory = a_settlement(rows)
    result = post_settlement(gateway, header, factory, accounts)
    lines = gl_lines(gateway, result.batches[0]["bat_nbr"])
    assert net(lines, "6900") == D("-7.50")
    assert net(lines, "1070") == header.total                            # still balanced, nothing lost
    key = f"{header.settlement_id}:Liquidations|Liquidations|LiquidationsProceeds"
    assert [(h.entity, h.key) for h in gateway.list_holds(reason="unmapped_settlement_type")] == [("settlement", key)]
    assert result.unmapped == [{"transaction_type": "Liquidations", "amount_type": "Liquidations",
                                "amount_description": "LiquidationsProceeds", "amount": D("7.50")}]


def test_a_closed_period_is_held_naming_it(gateway, accounts):  # noqa: F811
    now = current_period(gateway)
    closed = previous(now)
    sandbox.update_rows(gateway.db, "GLSetup", {"LastClosePerNbr": closed})
    header, factory = a_settlement(order_rows(day_in(closed, 15)))
    with pytest.raises(NeedsReview) as err:
        post_settlement(gateway, header, factory, accounts)
    assert err.value.reason == "closed_period" and closed in err.value.message
    assert sandbox.count(gateway.db, "xAMZSettlement") == 0
    assert gateway.list_holds(reason="closed_period")[0].key == header.settlement_id


def test_a_foreign_currency_settlement_is_held_while_sl_multi_currency_is_off(gateway, accounts):  # noqa: F811
    header, factory = a_settlement(order_rows(day_in(current_period(gateway))), currency="EUR")
    with pytest.raises(NeedsReview) as err:
        post_settlement(gateway, header, factory, accounts)
    assert err.value.reason == "foreign_currency" and "EUR" in err.value.message
    assert sandbox.count(gateway.db, "xAMZSettlement") == 0


def test_plan_summarises_per_period_and_account_in_one_pass():
    from integration.settlements.accounts import build_accounts as build

    accounts = build(load_mapping(""), "USD", tax_accounts={"AMZMF": ("2150", "000000")})
    when = datetime(2026, 3, 5, tzinfo=UTC)
    rows = (a_row("Order", "ItemFees", "Commission", "-1.00", when) for _ in range(1000))   # a generator: one pass
    header = SettlementHeader("1", when, when, when, D("-1000.00"), "USD", "v2")
    p = plan(header, rows, accounts, lambda d: d.strftime("%Y%m"))
    assert p.rows == 1000 and p.by_account == {("202603", "6100", "000000"): D("-1000.00")}
    [b] = p.batches("x")
    assert b.debit == b.credit == D("1000.00")


def test_after_a_mapping_fix_posting_again_moves_the_amount_out_of_suspense(gateway, accounts, tmp_path):  # noqa: F811
    """The hold on an unmapped type says "map it, then post again": with a rule added, the same file is posted again
    (same checksum) and its unreleased batch is replaced with the amount on the mapped account; unchanged mapping,
    nothing written."""
    from integration.mapping import rules as mapping_rules

    when = day_in(current_period(gateway))
    rows = [*order_rows(when), a_row("Liquidations", "Liquidations", "LiquidationsProceeds", "7.50", when)]
    header, factory = a_settlement(rows, sid="11800000077")
    first = post_settlement(gateway, header, factory, accounts, checksum="file-1")
    assert net(gl_lines(gateway, first.batches[0]["bat_nbr"]), "6900") == D("-7.50")
    text = mapping_rules.default_mapping_text().replace(
        "  rules:\n", '  rules:\n    - {type: Liquidations, acct: "4030"}\n', 1)
    fixed_file = tmp_path / "mapping.yaml"
    fixed_file.write_text(text, encoding="utf-8")
    fixed = build_accounts(load_mapping(str(fixed_file)), "USD", tax_accounts=gateway.sales_tax_accounts())
    again = post_settlement(gateway, header, factory, fixed, checksum="file-1")
    assert again.status == "replaced" and again.replaced == [first.batches[0]["bat_nbr"]]
    lines = gl_lines(gateway, again.batches[0]["bat_nbr"])
    assert net(lines, "6900") == 0 and net(lines, "4030") == D("-7.50")
    assert batch(gateway, first.batches[0]["bat_nbr"])[0].strip() == "V"
    assert post_settlement(gateway, header, factory, fixed, checksum="file-1").status == "already_posted"
