"""Refunds in a settlement become credit memos applied to the order's invoice (issue 14), on SQLite and PostgreSQL.

Orders come from the SP-API simulator over HTTP and are imported and invoiced by the product; the settlement's
Refund rows are built from the same orders.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integration.settlements.refunds import apply_refunds, refunds
from integration.sync import orders
from tests.orders.conftest import on_both_engines, sku_known  # noqa: F401  (SQLite and PostgreSQL)
from tests.settlements.settlement_builders import a_header, order_rows, refund_parts, refund_rows, write_v2


def _invoiced_order(ctx, sim, lines=2):
    skus = [sku_known(ctx), sku_known(ctx, via_xref=True)][:lines]
    made = sim.create_order([{"sku": s, "quantity": q} for s, q in zip(skus, (2, 1), strict=False)])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    invoice = ctx.sl.create_invoice(ord_nbr)
    return made, ord_nbr, invoice


def _all(ctx, sql, params):
    return ctx.sl.db.run(lambda r: r.all(sql, list(params)), write=False)


def _memos(ctx, ord_nbr):
    return _all(ctx, 'SELECT "RefNbr", "OrigDocAmt", "ApplAmt" FROM "ARDoc" WHERE "DocType" = ? AND "OrdNbr" = ?',
                ["CM", ord_nbr])


def test_refunds_are_grouped_by_order_and_adjustment_with_the_tax_amazon_withheld():
    order = {"orderId": "111-0000000-0000001", "orderItems": [
        {"orderItemId": "A1", "proceeds": {"breakdowns": [
            {"type": "ITEM", "subtotal": {"amount": "20.00"}}, {"type": "SHIPPING", "subtotal": {"amount": "4.99"}},
            {"type": "TAX", "subtotal": {"amount": "2.10"}, "detailedBreakdowns": [
                {"subtype": "ITEM", "value": {"amount": "1.70"}}, {"subtype": "SHIPPING", "value": {"amount": "0.40"}}]}]}},
    ]}
    found = refunds(order_rows(order) + refund_rows(order, 0, "ADJ-1") + refund_rows(order, 0, "ADJ-2",
                                                                                     shipping=False))
    assert [(r.order_id, r.adjustment_id) for r in found] == [("111-0000000-0000001", "ADJ-1"),
                                                             ("111-0000000-0000001", "ADJ-2")]
    first, second = found
    item = first.items["A1"]
    assert (item.goods, item.shipping, item.tax, item.withheld) == (Decimal("20.00"), Decimal("4.99"),
                                                                    Decimal("2.10"), Decimal("2.10"))
    assert item.fees == Decimal("3.00") - Decimal("0.60")   # commission returned less the refund commission
    assert first.credit == Decimal("24.99") and first.seller_tax == 0   # facilitator tax: Amazon's, not the memo's
    assert second.credit == Decimal("20.00")


def test_a_refund_for_an_invoiced_order_is_one_credit_memo_applied_to_its_invoice_twice_still_one(ctx, sim):
    made, ord_nbr, invoice = _invoiced_order(ctx, sim)
    rows = order_rows(made) + refund_rows(made, 0, "AMZ-ADJ-7001")
    header = a_header()

    [outcome] = apply_refunds(ctx, header, lambda: iter(rows))
    parts = refund_parts(made, 0)
    assert outcome.value == "credited" and outcome.amount == parts["ITEM"] + parts["SHIPPING"]
    [(memo, amount, applied)] = _memos(ctx, ord_nbr)
    assert memo.strip() == outcome.ref_nbr
    assert amount == pytest.approx(float(parts["ITEM"] + parts["SHIPPING"]))
    assert applied == pytest.approx(amount)           # applied to the invoice, which is larger
    # the refunded item's line and the refunded shipping; the application names the invoice
    line_ref = next(ln["LineRef"] for ln in ctx.sl.sales_order(ord_nbr)["lines"]
                    if ln["User1"].strip() == made["orderItems"][0]["orderItemId"])
    trans = _all(ctx, 'SELECT "TranClass", "LineRef", "TranAmt", "DrCr", "SiteId" FROM "ARTran" WHERE "TranType" = ? '
                      'AND "RefNbr" = ? ORDER BY "LineId"', ["CM", memo])
    assert [(t[0], t[1].strip(), round(t[2], 2), t[3]) for t in trans[:2]] == [
        ("N", line_ref, float(parts["ITEM"]), "D"), ("F", "", float(parts["SHIPPING"]), "D")]
    assert [(t[3], t[4].strip()) for t in trans[2:]] == [("U", invoice)]
    keys = _all(ctx, 'SELECT "EventKey", "RefNbr" FROM "xAMZDocument" WHERE "AmazonOrderId" = ? AND "DocType" = ?',
                [made["orderId"], "CM"])
    assert [(k.strip(), r.strip()) for k, r in keys] == [("AMZ-ADJ-7001", memo.strip())]

    [again] = apply_refunds(ctx, header, lambda: iter(rows))
    assert (again.value, again.ref_nbr) == ("unchanged", outcome.ref_nbr)
    assert len(_memos(ctx, ord_nbr)) == 1


def test_a_refund_for_an_order_sl_does_not_know_is_held_naming_the_order_and_adjustment(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])   # never imported
    [outcome] = apply_refunds(ctx, a_header(), lambda: iter(refund_rows(made, 0, "AMZ-ADJ-404")))
    assert outcome.value == "held" and outcome.detail == "refund_unmatched"
    hold = ctx.sl.get_hold(outcome.hold_id)
    assert (hold.entity, hold.reason) == ("settlement", "refund_unmatched")
    assert hold.key == f"12345678901:{made['orderId']}:AMZ-ADJ-404"   # listed with its settlement
    assert made["orderId"] in hold.message and "AMZ-ADJ-404" in hold.message
    assert hold.payload["adjustment_id"] == "AMZ-ADJ-404" and hold.payload["settlement_id"] == "12345678901"
    assert _all(ctx, 'SELECT COUNT(*) FROM "xAMZDocument" WHERE "DocType" = ?', ["CM"]) == [(0,)]


def test_a_refund_before_the_invoice_is_held_then_credited_once_invoiced_and_the_hold_resolved(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr   # open, not invoiced
    rows = refund_rows(made, 0, "AMZ-ADJ-88", shipping=False)
    [held] = apply_refunds(ctx, a_header(), lambda: iter(rows))
    assert held.value == "held" and "not invoiced" in ctx.sl.get_hold(held.hold_id).message
    assert _memos(ctx, ord_nbr) == []

    ctx.sl.create_invoice(ord_nbr)
    [credited] = apply_refunds(ctx, a_header(), lambda: iter(rows))
    assert credited.value == "credited"
    assert [round(m[1], 2) for m in _memos(ctx, ord_nbr)] == [float(refund_parts(made, 0)["ITEM"])]
    assert ctx.sl.get_hold(held.hold_id).status == "RESOLVED"


def test_tax_the_seller_collected_is_refunded_on_a_hold_not_lost(ctx, sim):
    made, ord_nbr, _ = _invoiced_order(ctx, sim, lines=1)
    rows = [x for x in refund_rows(made, 0, "AMZ-ADJ-TAX", shipping=False) if x.amount_type != "ItemWithheldTax"]
    [outcome] = apply_refunds(ctx, a_header(), lambda: iter(rows))
    parts = refund_parts(made, 0)
    assert outcome.value == "credited" and outcome.amount == parts["ITEM"]   # the memo: merchandise only
    hold = ctx.sl.get_hold(outcome.hold_id)
    assert hold.reason == "refund_not_credited" and f"tax {parts['TAX_ITEM']}" in hold.message
    assert len(_memos(ctx, ord_nbr)) == 1


def test_importing_a_settlement_credits_its_refunds_and_a_released_hold_credits_the_rest(ctx, sim, tmp_path):
    """The whole path a seller runs: the file posted (GL batch), the refund of an invoiced order credited and
    applied; a refund of an order not invoiced yet held; once it is invoiced, the hold's re-run (the settlement
    posted again from its kept file, `slsync holds release`) credits it and resolves the hold, nothing twice."""
    from integration.commands.holds import _rerun
    from integration.settlements import flow

    made, ord_nbr, _ = _invoiced_order(ctx, sim)
    late = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    late_nbr = orders.import_order(late["orderId"], ctx, fresh=True).ord_nbr
    rows = order_rows(made) + refund_rows(made, 0, "amzn1:adj:one") + order_rows(late) + \
        refund_rows(late, 0, "amzn1:adj:two")
    path = write_v2(tmp_path / "s.txt", "22233344455", rows)
    result = flow.import_file(ctx, path)
    assert result.outcome == "posted", result.as_dict()
    assert result.post["refunds"] == {"credited": 1, "held": 1}
    assert len(_memos(ctx, ord_nbr)) == 1 and _memos(ctx, late_nbr) == []
    (hold,) = [h for h in ctx.sl.list_holds(status="OPEN", entity="settlement") if late["orderId"] in h.key]
    assert hold.reason == "refund_unmatched"

    ctx.sl.create_invoice(late_nbr)
    task, _, args = _rerun(hold)
    assert task == "slsync.settlements.post"
    again = flow.repost(ctx, args[0])
    assert again.outcome == "already_posted" and again.post["refunds"] == {"credited": 1, "unchanged": 1}
    assert len(_memos(ctx, ord_nbr)) == 1 and len(_memos(ctx, late_nbr)) == 1
    assert ctx.sl.get_hold(hold.hold_id).status == "RESOLVED"


def test_a_refund_of_an_order_sl_invoiced_itself_is_credited_and_applied_to_sls_invoice(ctx, sim):
    """A merchant order invoiced by SL's Sales Journal (no xAMZDocument): the refund's credit memo is applied to that
    invoice (DrCr 'U' line naming it), as SL's own screen would apply it."""
    from integration.sl import ar, sandbox

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    sl_invoice, _, _ = ctx.sl.db.run(lambda r: ar.create_document(r, ctx.sl.look, ctx.sl.cpny_id, ord_nbr, "IN",
                                                                  doc_date=a_header().end.replace(tzinfo=None)))
    sandbox.update_rows(ctx.sl.db, "ARDoc", {"Crtd_Prog": "40690"}, {"RefNbr": sl_invoice})
    out = apply_refunds(ctx, a_header(), lambda: iter(refund_rows(made, 0, "amzn1:adj:sl")))
    assert [o.value for o in out] == ["credited"], out
    applied = _all(ctx, 'SELECT "SiteId", "CostType" FROM "ARTran" WHERE "TranType" = ? AND "RefNbr" = ? '
                        'AND "DrCr" = ?', ["CM", out[0].ref_nbr, "U"])
    assert [(a.strip(), b.strip()) for a, b in applied] == [(sl_invoice, "IN")]


def test_a_refund_reversed_or_changed_in_a_later_settlement_is_held_not_ignored(ctx, sim):
    """Amazon reverses a refund (positive Principal under a refund's id) or reports the same adjustment id with
    another amount: each is a hold for a person, never `nothing` or `unchanged`."""
    from tests.settlements.settlement_builders import _row

    made, ord_nbr, _ = _invoiced_order(ctx, sim)
    item = made["orderItems"][0]
    first = apply_refunds(ctx, a_header(), lambda: iter(refund_rows(made, 0, "ADJ-SAME")))
    assert [o.value for o in first] == ["credited"]
    changed = [_row("Refund", made["orderId"], item["orderItemId"], "ItemPrice", "Principal", Decimal("-1.00"),
                    "ADJ-SAME")]
    (out,) = apply_refunds(ctx, a_header("12345678902"), lambda: iter(changed))
    assert (out.value, out.detail) == ("held", "refund_changed")
    reversal = [_row("Refund", made["orderId"], item["orderItemId"], "ItemPrice", "Principal", Decimal("5.00"),
                     "ADJ-BACK")]
    (back,) = apply_refunds(ctx, a_header("12345678903"), lambda: iter(reversal))
    assert (back.value, back.detail) == ("held", "refund_reversal")
    assert len(_memos(ctx, ord_nbr)) == 1
