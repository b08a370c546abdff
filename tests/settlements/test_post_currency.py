"""A settlement in a foreign currency posted with SL's multi-currency fields, held without a rate or while SL's
multi-currency is off; every batch and line carries the settlement's references."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from integration.errors import NeedsReview
from integration.mapping.rules import load_mapping
from integration.settlements.accounts import build_accounts
from integration.settlements.model import SettlementHeader, SettlementRow
from integration.settlements.post import post_settlement
from integration.sl import sandbox
from tests.sl.conftest import dsn, gateway, pg_database, pg_template, sqlite_dsn  # noqa: F401

D = Decimal
CENT = D("0.01")


def current_period(gw) -> str:
    return gw.db.run(lambda r: r.scalar('SELECT "PerNbr" FROM "GLSetup"'), write=False).strip()


def a_settlement(currency: str, amounts: list[tuple[str, str, str, str]], sid="11800000042",
                 marketplace="Amazon.de"):
    """A settlement in ``currency`` of rows (transaction type, amount type, description, amount), all posted on the
    10th of SL's current period; it ends there and is paid two days later."""
    rows, when = [], None
    for n, (ttype, atype, desc, amount) in enumerate(amounts, 2):
        when = when or datetime.now(UTC).replace(day=10, hour=12, minute=0, second=0, microsecond=0)
        rows.append(SettlementRow(n, ttype, atype, desc, D(amount), currency, when, marketplace_name=marketplace))
    total = sum((r.amount for r in rows), D(0))
    header = SettlementHeader(sid, when - timedelta(days=9), when, when + timedelta(days=2), total, currency, "v2",
                              marketplaces=(marketplace,))
    return header, (lambda: iter(rows))


# 10.01 of sales, two fees of 1.01: at 1.085 each fee rounds up (1.09585 -> 1.10) and the payout (7.99 -> 8.66915 ->
# 8.67), so the converted debits (10.87) exceed the converted sale (10.86) by a cent: the rounding line.
SMALL = [("Order", "ItemPrice", "Principal", "10.01"), ("Order", "ItemFees", "Commission", "-1.01"),
         ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "-1.01")]


def multi_currency(gw, on: bool = True) -> None:
    gw.db.run(lambda r: r.execute('UPDATE "GLSetup" SET "MCActive" = ?', [1 if on else 0]))


def a_rate(gw, cury: str, rate: str, eff: datetime, rate_type: str = "SPOT", mult_div: str = "M") -> None:
    gw.db.run(lambda r: r.insert("CuryRate", {"FromCuryId": cury, "ToCuryId": "USD", "RateType": rate_type,
                                              "EffDate": eff, "MultDiv": mult_div, "Rate": float(rate),
                                              "RateReciprocal": 1 / float(rate)}))


@pytest.fixture
def accounts(gateway):  # noqa: F811
    return build_accounts(load_mapping(""), "EUR", tax_accounts=gateway.sales_tax_accounts())


def the_batch(gw, bat_nbr):
    cols = ("CuryId", "BaseCuryID", "CuryRate", "CuryMultDiv", "CuryRateType", "CuryEffDate", "DrTot", "CrTot",
            "CuryDrTot", "CuryCrTot", "Descr", "User1", "User2", "User5", "User7", "User8")
    sql = (f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "Batch" WHERE "Module" = \'GL\' '
           f'AND "BatNbr" = ?')
    return dict(zip(cols, gw.db.run(lambda r: r.one(sql, [bat_nbr]), write=False), strict=True))


def the_lines(gw, bat_nbr):
    cols = ("Acct", "DrAmt", "CrAmt", "CuryDrAmt", "CuryCrAmt", "CuryId", "BaseCuryID", "CuryRate", "CuryMultDiv",
            "CuryRateType", "CuryEffDate", "TranDesc", "RefNbr", "ExtRefNbr", "User1", "User2", "User7", "User8")
    sql = (f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "GLTran" WHERE "Module" = \'GL\' '
           f'AND "BatNbr" = ? ORDER BY "LineId"')
    return [dict(zip(cols, row, strict=True)) for row in gw.db.run(lambda r: r.all(sql, [bat_nbr]), write=False)]


def money(value) -> Decimal:
    return D(str(value)).quantize(CENT)


def text(value) -> str:
    return str(value or "").strip()


def day(value) -> str:
    return str(value)[:10]


def test_a_euro_settlement_posts_in_euro_and_dollars_balanced_with_the_rates_fields(gateway, accounts):  # noqa: F811
    multi_currency(gateway)
    header, factory = a_settlement("EUR", SMALL)
    # SL picks the latest rate effective on or before the deposit date: not the older seeded one, not a later one
    paid = header.deposit_date.replace(tzinfo=None, hour=0)
    a_rate(gateway, "EUR", "1.085", paid - timedelta(days=1))
    a_rate(gateway, "EUR", "1.5", paid + timedelta(days=1))
    result = post_settlement(gateway, header, factory, accounts)

    assert result.status == "posted" and result.rate["rate"] == "1.085" and result.rate["rate_type"] == "SPOT"
    [b] = result.batches
    batch, lines = the_batch(gateway, b["bat_nbr"]), the_lines(gateway, b["bat_nbr"])
    assert (text(batch["CuryId"]), text(batch["BaseCuryID"]), text(batch["CuryMultDiv"]),
            text(batch["CuryRateType"])) == ("EUR", "USD", "M", "SPOT")
    assert D(str(batch["CuryRate"])) == D("1.085")
    assert day(batch["CuryEffDate"]) == str((paid - timedelta(days=1)).date())
    # balanced in both currencies, to the cent
    assert money(batch["CuryDrTot"]) == money(batch["CuryCrTot"]) == D("10.01")
    assert money(batch["DrTot"]) == money(batch["CrTot"]) == D("10.87") == b["debit"]
    assert sum(money(ln["CuryDrAmt"]) for ln in lines) == sum(money(ln["CuryCrAmt"]) for ln in lines) == D("10.01")
    assert sum(money(ln["DrAmt"]) for ln in lines) == sum(money(ln["CrAmt"]) for ln in lines) == D("10.87")
    for ln in lines:
        assert (text(ln["CuryId"]), text(ln["BaseCuryID"]), text(ln["CuryMultDiv"]), text(ln["CuryRateType"])) == \
            ("EUR", "USD", "M", "SPOT")
        assert D(str(ln["CuryRate"])) == D("1.085") and day(ln["CuryEffDate"]) == day(batch["CuryEffDate"])
    # each line's dollars are its euros at the rate, rounded to the cent; the cent left goes to the rounding account
    by_acct = {text(ln["Acct"]): ln for ln in lines}
    for acct, euros, dollars in (("1050", "10.01", "10.86"), ("6100", "1.01", "1.10"), ("6110", "1.01", "1.10"),
                                 ("1070", "7.99", "8.67")):
        ln = by_acct[acct]
        assert money(ln["CuryDrAmt"]) + money(ln["CuryCrAmt"]) == D(euros), acct
        assert money(ln["DrAmt"]) + money(ln["CrAmt"]) == D(dollars), acct
        assert (D(euros) * D("1.085")).quantize(CENT, ROUND_HALF_UP) == D(dollars)
    rounding = by_acct["6080"]   # the mapping's settlements.rounding
    assert money(rounding["CrAmt"]) == CENT and money(rounding["DrAmt"]) == 0
    assert money(rounding["CuryDrAmt"]) == money(rounding["CuryCrAmt"]) == 0
    assert "EUR rounding" in text(rounding["TranDesc"]) and header.settlement_id in text(rounding["TranDesc"])


def test_a_divide_rate_converts_by_dividing_and_without_a_rounding_account_uses_sls_realised_gain_loss(
        gateway):  # noqa: F811
    multi_currency(gateway)
    accounts = replace(build_accounts(load_mapping(""), "CAD", tax_accounts=gateway.sales_tax_accounts()),
                       rounding=None)
    header, factory = a_settlement("CAD", [("Order", "ItemPrice", "Principal", "50.00"),
                                           ("Order", "ItemFees", "Commission", "-15.00")], marketplace="Amazon.ca")
    [b] = post_settlement(gateway, header, factory, accounts).batches     # the seeded CAD rate: D 1.36
    lines = {text(ln["Acct"]): ln for ln in the_lines(gateway, b["bat_nbr"])}
    assert money(lines["1050"]["CrAmt"]) == D("36.76")      # 50 / 1.36 = 36.764...
    assert money(lines["6100"]["DrAmt"]) == D("11.03")      # 15 / 1.36 = 11.029...
    assert money(lines["1070"]["DrAmt"]) == D("25.74")      # 35 / 1.36 = 25.735...
    assert text(lines["1070"]["CuryMultDiv"]) == "D"
    # debits 36.77, credits 36.76: the balancing credit goes to Currncy CAD RealGainAcct (seeded 6080)
    assert money(lines["6080"]["CrAmt"]) == CENT and money(lines["6080"]["CuryCrAmt"]) == 0
    assert sum(money(ln["DrAmt"]) for ln in lines.values()) == sum(money(ln["CrAmt"]) for ln in lines.values())


def test_no_rate_for_the_settlements_currency_rate_type_and_date_holds_it(gateway, accounts):  # noqa: F811
    multi_currency(gateway)
    batches_before = sandbox.count(gateway.db, "Batch")
    header, factory = a_settlement("GBP", SMALL, marketplace="Amazon.co.uk")
    monthly = replace(accounts, rate_type="MONTH")           # the mapping's settlements.rate_type: no MONTH rates
    with pytest.raises(NeedsReview) as err:
        post_settlement(gateway, header, factory, monthly)
    paid = header.deposit_date.date().isoformat()
    assert err.value.reason == "no_exchange_rate"
    assert "GBP" in err.value.message and "MONTH" in err.value.message and paid in err.value.message
    assert sandbox.count(gateway.db, "Batch") == batches_before and sandbox.count(gateway.db, "xAMZSettlement") == 0
    [hold] = gateway.list_holds(reason="no_exchange_rate")
    assert hold.key == header.settlement_id
    # a rate dated after the deposit does not count either
    a_rate(gateway, "GBP", "1.27", header.deposit_date.replace(tzinfo=None) + timedelta(days=1), rate_type="MONTH")
    with pytest.raises(NeedsReview, match="MONTH"):
        post_settlement(gateway, header, factory, monthly)


def test_a_foreign_settlement_is_held_while_sl_multi_currency_is_off(gateway, accounts):  # noqa: F811
    multi_currency(gateway, on=False)
    header, factory = a_settlement("EUR", SMALL)
    with pytest.raises(NeedsReview) as err:
        post_settlement(gateway, header, factory, accounts)
    assert err.value.reason == "foreign_currency" and "MCActive 0" in err.value.message
    assert sandbox.count(gateway.db, "xAMZSettlement") == 0


def test_every_batch_and_line_carries_the_settlement_id_dates_and_marketplace(gateway):  # noqa: F811
    accounts = build_accounts(load_mapping(""), "USD", tax_accounts=gateway.sales_tax_accounts())
    header, factory = a_settlement("USD", SMALL, sid="11800000077", marketplace="Amazon.com")
    [b] = post_settlement(gateway, header, factory, accounts).batches
    batch, lines = the_batch(gateway, b["bat_nbr"]), the_lines(gateway, b["bat_nbr"])
    start, end, paid = (header.start.strftime("%y%m%d"), header.end.strftime("%y%m%d"),
                        header.deposit_date.strftime("%Y%m%d"))
    assert text(batch["Descr"]) == f"AMZ 11800000077 {start}-{end}"
    assert (text(batch["User1"]), text(batch["User2"]), text(batch["User5"])) == ("11800000077", "Amazon.com", paid)
    assert (day(batch["User7"]), day(batch["User8"])) == (str(header.start.date()), str(header.end.date()))
    assert text(batch["CuryId"]) == "USD" and D(str(batch["CuryRate"])) == 1      # base currency as before
    for ln in lines:
        assert text(ln["TranDesc"]).startswith("AMZ 11800000077")
        assert (text(ln["ExtRefNbr"]), text(ln["RefNbr"]), text(ln["User1"]), text(ln["User2"])) == \
            ("11800000077", paid, "11800000077", "Amazon.com")
        assert (day(ln["User7"]), day(ln["User8"])) == (str(header.start.date()), str(header.end.date()))
    assert text(next(ln for ln in lines if text(ln["Acct"]) == "1070")["TranDesc"]) == "AMZ 11800000077 payout"
