"""GL batches: balanced or nothing, numbered from GLSetup under a lock, period checked, bound once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from integration.errors import NeedsReview
from integration.sl import GLLine, SettlementBinding, sandbox

SUB = "000000"


def _period(gateway) -> str:
    return gateway.db.run(lambda r: r.scalar('SELECT "PerNbr" FROM "GLSetup"'))


def _counter(gateway) -> str:
    return gateway.db.run(lambda r: r.scalar('SELECT "LastBatNbr" FROM "GLSetup"'))


def settlement_lines(credit_fees: str = "15.30") -> list[GLLine]:
    return [GLLine("1050", SUB, dr_amt=Decimal("84.70"), descr="Net payout", ext_ref_nbr="12345678901"),
            GLLine("6100", SUB, dr_amt=Decimal(credit_fees), descr="Referral fees"),
            GLLine("4000", SUB, cr_amt=Decimal("100.00"), descr="Sales")]


def test_a_balanced_batch_is_written_with_its_lines(gateway):
    counter = _counter(gateway)
    bat = gateway.post_gl_batch(settlement_lines(), per_post=_period(gateway), tran_date=datetime(2026, 3, 1),
                                descr="Amazon settlement 12345678901", binding=SettlementBinding("12345678901"))
    assert bat == str(int(counter) + 1).zfill(len(counter)) and _counter(gateway) == bat
    batch = gateway.db.run(lambda r: r.one('SELECT "Status", "Rlsed", "DrTot", "CrTot", "JrnlType" FROM "Batch" '
                                           'WHERE "Module" = ? AND "BatNbr" = ?', ["GL", bat]))
    assert batch == ("H", 0, 100.0, 100.0, "AMZ")
    totals = gateway.db.run(lambda r: r.one('SELECT SUM("DrAmt"), SUM("CrAmt"), COUNT(*) FROM "GLTran" '
                                            'WHERE "BatNbr" = ?', [bat]))
    assert totals == (100.0, 100.0, 3)
    assert gateway.get_settlement_binding("12345678901").batch_nbr == bat


def test_a_batch_that_does_not_balance_is_refused_whole(gateway):
    counter = _counter(gateway)
    with pytest.raises(NeedsReview) as caught:
        gateway.post_gl_batch(settlement_lines("15.31"), per_post=_period(gateway), tran_date=datetime(2026, 3, 1),
                              descr="off by a cent", binding=SettlementBinding("S-UNBALANCED"))
    assert caught.value.reason == "unbalanced_batch"
    assert sandbox.count(gateway.db, "Batch") == 0 and sandbox.count(gateway.db, "GLTran") == 0
    assert sandbox.count(gateway.db, "xAMZSettlement") == 0 and _counter(gateway) == counter


def test_sub_cent_noise_rounds_to_a_balanced_batch(gateway):
    lines = [GLLine("1050", SUB, dr_amt=Decimal("10.004")), GLLine("4000", SUB, cr_amt=Decimal("10.00"))]
    assert gateway.post_gl_batch(lines, per_post=_period(gateway), tran_date=datetime.now(), descr="x")


def test_a_future_or_closed_period_and_an_inactive_account_are_refused(gateway):
    current = _period(gateway)
    future = str(int(current[:4]) + 1) + current[4:]
    closed = str(int(current[:4]) - 1) + "06"
    for per_post, reason in ((future, "future_period"), (closed, "closed_period"), ("2026", "bad_period")):
        with pytest.raises(NeedsReview) as caught:
            gateway.post_gl_batch(settlement_lines(), per_post=per_post, tran_date=datetime.now(), descr="x")
        assert caught.value.reason == reason
    sandbox.update_rows(gateway.db, "Account", {"Active": 0}, {"Acct": "6100"})
    with pytest.raises(NeedsReview) as caught:
        gateway.post_gl_batch(settlement_lines(), per_post=current, tran_date=datetime.now(), descr="x")
    assert caught.value.reason == "inactive_acct"
    assert sandbox.count(gateway.db, "Batch") == 0


def test_posting_a_settlement_twice_returns_the_first_batch(gateway):
    binding = SettlementBinding("S-TWICE", checksum="abc")
    first = gateway.post_gl_batch(settlement_lines(), per_post=_period(gateway), tran_date=datetime.now(),
                                  descr="once", binding=binding, release="released")
    assert gateway.post_gl_batch(settlement_lines(), per_post=_period(gateway), tran_date=datetime.now(),
                                 descr="once", binding=binding) == first
    assert sandbox.count(gateway.db, "Batch") == 1
    assert gateway.db.run(lambda r: r.one('SELECT "Status", "Rlsed" FROM "Batch"')) == ("U", 1)
