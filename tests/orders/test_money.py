"""Money equal to Amazon's, composed the SL way (issue 12), on SQLite and on PostgreSQL.

Orders with promotions, shipping promotions, gift wrap, COD, tax and VAT-inclusive prices are created in the
simulator, read over HTTP and imported. For every one: SL's order total equals Amazon's ``grandTotal`` to the cent,
each line's money is what SL's own pricing gives (``ADG_Book_Order``: SlsPrice x QtyOrd x (1 - DiscPct/100)), and
the header is its lines + freight (SOHeader.TotFrt) + misc charges (SOMisc) + tax (SOTax).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from integration.sync import orders
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
)

DE = "A1PA6795UKMFR9"
GERMAN = {"name": "Jörg Müller", "addressLine1": "Hauptstraße 5", "city": "Berlin", "postalCode": "10115",
          "countryCode": "DE"}


def _cents(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _read(ctx, ord_nbr: str) -> dict:
    def work(r):
        head = r.one('SELECT "TotMerch", "TotFrt", "TotMisc", "TotTax", "TotOrd", "CuryTotOrd", "TaxID00", '
                     '"UnshippedBalance" FROM "SOHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ?', ["AMZDEMO", ord_nbr])
        lines = r.all('SELECT "SlsPrice", "QtyOrd", "DiscPct", "TotOrd", "ManualPrice", "Taxable" FROM "SOLine" '
                      'WHERE "CpnyID" = ? AND "OrdNbr" = ? ORDER BY "LineRef"', ["AMZDEMO", ord_nbr])
        misc = r.all('SELECT "MiscChrgID", "MiscChrg", "MiscAcct" FROM "SOMisc" WHERE "CpnyID" = ? AND "OrdNbr" = ? '
                     'ORDER BY "MiscChrgRef"', ["AMZDEMO", ord_nbr])
        tax = r.all('SELECT "TaxID", "MerchTax", "FrtTax", "MiscTax", "TotTax" FROM "SOTax" '
                    'WHERE "CpnyID" = ? AND "OrdNbr" = ?', ["AMZDEMO", ord_nbr])
        sched_tax = r.scalar('SELECT SUM("TaxAmt00") FROM "SOSched" WHERE "CpnyID" = ? AND "OrdNbr" = ?',
                             ["AMZDEMO", ord_nbr])
        return {"head": head, "lines": lines, "misc": misc, "tax": tax, "sched_tax": sched_tax}
    return ctx.sl.db.run(work, write=False)


def _assert_sl_way(got: dict, amazon_total: str) -> None:
    merch, frt, misc, tax, total, cury_total, tax_id, unshipped = got["head"]
    assert _cents(total) == Decimal(amazon_total), f"SL {total} vs Amazon {amazon_total}"
    assert _cents(cury_total) == _cents(total) == _cents(unshipped)
    for price, qty, pct, tot, manual, _ in got["lines"]:   # SL prices a line itself, and must get the same cents
        assert _cents(Decimal(str(price)) * Decimal(str(qty)) * (1 - Decimal(str(pct)) / 100)) == _cents(tot)
        assert manual == 1 and pct >= 0
    assert _cents(merch) == sum((_cents(ln[3]) for ln in got["lines"]), Decimal(0))
    assert _cents(misc) == sum((_cents(m[1]) for m in got["misc"]), Decimal(0))
    assert len(got["tax"]) == 1 and got["tax"][0][0] == tax_id
    assert _cents(got["tax"][0][4]) == _cents(tax)
    assert _cents(got["sched_tax"]) == _cents(got["tax"][0][1])   # merchandise tax spread over the schedules
    assert _cents(total) == _cents(merch) + _cents(frt) + _cents(misc) + _cents(tax)


def _import(ctx, sim, lines, **spec):
    made = sim.create_order(lines, **spec)
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "created", out
    return made, _read(ctx, out.ord_nbr)


def test_a_promotion_is_the_lines_discount_percent_and_the_total_is_amazons(ctx, sim):
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 3, "price": "19.99", "discount": "5.00"}])
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    price, qty, pct, tot, _, _ = got["lines"][0]
    assert (price, qty, _cents(tot)) == (19.99, 3, Decimal("54.97")) and 0 < pct < 10   # 59.97 less 5.00


def test_a_shipping_promotion_lowers_freight_not_merchandise(ctx, sim):
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1, "price": "25.00", "ship_price": "6.99",
                                    "ship_discount": "6.99"}])
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    merch, frt = got["head"][0], got["head"][1]
    assert (_cents(merch), _cents(frt)) == (Decimal("25.00"), Decimal("0.00"))
    assert got["lines"][0][2] == 0   # no discount on the goods


def test_gift_wrap_is_a_misc_charge_with_its_tax_and_the_total_is_amazons(ctx, sim):
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 2, "price": "10.00", "gift_wrap": "3.99"}],
                        gift_message="Happy birthday")
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    assert [(m[0], _cents(m[1]), m[2]) for m in got["misc"]] == [("GIFTWRAP", Decimal("3.99"), "4020")]
    assert got["tax"][0][3] > 0   # the gift wrap's tax is SOTax.MiscTax


def test_vat_inclusive_prices_become_net_prices_with_the_vat_in_sotax(ctx, sim):
    from integration.sl import sandbox

    sandbox.update_rows(ctx.sl.db, "GLSetup", {"BaseCuryId": "EUR"})   # a German seller's SL books in euros
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 2, "price": "23.80", "gift_wrap": "2.38",
                                    "discount": "4.76"}],
                        marketplace_id=DE, address=GERMAN, gift_message="Alles Gute")
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    # 47.60 gross less 4.76 is 42.84 with 19 % VAT inside: 36.00 net + 6.84 VAT
    assert _cents(got["head"][0]) == Decimal("36.00") and got["head"][6] == "AMZVAT"
    assert _cents(got["tax"][0][1]) == Decimal("6.84")


def test_a_cod_fee_is_a_misc_charge(ctx, sim):
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1, "price": "12.00", "cod_fee": "3.30"}])
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    assert [m[0] for m in got["misc"]] == ["CODFEE"]


def test_an_order_whose_parts_do_not_add_up_to_amazons_total_is_held_with_the_difference(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1, "price": "20.00"}])
    payload = ctx.amazon.orders.get(made["orderId"])
    payload = payload.get("order", payload)
    total = Decimal(payload["proceeds"]["grandTotal"]["amount"])
    payload["proceeds"]["grandTotal"]["amount"] = str(total + Decimal("2.99"))   # a charge we were not told about
    out = orders.apply_order(payload, ctx)
    assert out.value == "held" and out.detail == "total_mismatch"
    hold = ctx.sl.get_hold(out.hold_id)
    assert "by 2.99" in hold.message and ctx.sl.get_order_binding(made["orderId"]) is None


def test_order_dates_are_the_marketplaces_and_the_schedule_follows_amazons_promise(ctx, sim):
    """OrdDate is the purchase date where the marketplace is (Amazon.com: Pacific time), not the UTC date; the
    schedule's dates are Amazon's ship-by (ShipDate) and deliver-by (ReqDate/PromDate) in that zone."""
    from datetime import datetime

    from integration.amazon.order_shape import order_from_amazon

    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    payload = ctx.amazon.orders.get(made["orderId"])
    payload = payload.get("order", payload)
    payload["createdTime"] = "2026-03-15T05:30:00Z"          # still the 14th in Seattle
    payload["fulfillment"]["shipByWindow"] = {"earliestDateTime": "2026-03-15T05:30:00Z",
                                              "latestDateTime": "2026-03-17T06:59:59Z"}
    payload["fulfillment"]["deliverByWindow"] = {"earliestDateTime": "2026-03-18T07:00:00Z",
                                                 "latestDateTime": "2026-03-21T06:59:59Z"}
    so, _ = orders.build_sales_order(ctx, order_from_amazon(payload))
    assert so.OrdDate == datetime(2026, 3, 14)
    assert (so.ShipDate, so.ReqDate, so.PromDate) == (datetime(2026, 3, 16), datetime(2026, 3, 20),
                                                      datetime(2026, 3, 20))


def test_a_three_line_address_with_a_long_street_loses_nothing(ctx, sim):
    """SL has two street lines of 60: a third line is folded in at a word boundary, nothing is cut mid-word, and
    whatever does not fit is in the order's note."""
    street = "Building 7, Harborview Residential Complex, North Tower Unit"   # 60 characters
    address = {"name": "Ana Souza", "addressLine1": street, "addressLine2": "Floor 12, Apartment 1204",
               "addressLine3": "c/o Reception Desk", "city": "Seattle", "stateOrRegion": "WA",
               "postalCode": "98101", "countryCode": "US"}
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], address=address)
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    head = ctx.sl.sales_order(out.ord_nbr)
    assert head["ShipAddr1"] == street and head["ShipAddr2"] == "Floor 12, Apartment 1204, c/o Reception Desk"


def test_an_eu_free_shipping_promotion_leaves_no_freight_and_net_goods(ctx, sim):
    """Amazon states the VAT of shipping in full and the VAT its promotion takes off as a negative DISCOUNT tax: the
    freight is 0, not minus the shipping's VAT, and the goods are net of their own VAT only."""
    from integration.sl import sandbox

    sandbox.update_rows(ctx.sl.db, "GLSetup", {"BaseCuryId": "EUR"})
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1, "price": "23.80", "ship_price": "4.76",
                                    "ship_discount": "4.76"}], marketplace_id=DE, address=GERMAN)
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"])
    assert (_cents(got["head"][0]), _cents(got["head"][1])) == (Decimal("20.00"), Decimal("0.00"))


def test_a_yen_order_with_gift_wrap_and_cod_balances_to_the_yen(ctx, sim):
    """JPY has no minor unit: every part is whole yen, each charge's own consumption tax comes out of it."""
    from integration.sl import sandbox

    sandbox.update_rows(ctx.sl.db, "GLSetup", {"BaseCuryId": "JPY"})
    tokyo = {"name": "Sato Hanako", "addressLine1": "1-2-3 Chiyoda", "city": "Chiyoda-ku", "stateOrRegion": "Tokyo",
             "postalCode": "100-0001", "countryCode": "JP"}
    made, got = _import(ctx, sim, [{"sku": sku_known(ctx), "quantity": 3, "price": "1980", "discount": "200",
                                    "gift_wrap": "863", "cod_fee": "1358"}],
                        marketplace_id="A1VC38T7YXB528", address=tokyo, gift_message="おめでとう")
    assert made["proceeds"]["grandTotal"]["currencyCode"] == "JPY"
    _assert_sl_way(got, made["proceeds"]["grandTotal"]["amount"].split(".")[0] + ".00")
    assert all(_cents(m[1]) == _cents(m[1]).to_integral_value() for m in got["misc"])   # whole yen
    assert [m[0] for m in got["misc"]] == ["GIFTWRAP", "CODFEE"] and got["head"][6] == "AMZJCT"


def test_a_total_that_changes_after_the_order_reached_sl_is_held_with_the_difference(ctx, sim):
    """A delivery tip Amazon finalises after checkout (OrderProceedsBreakdown DELIVERY_TIP) changes the order total
    after SL has the order: held for a person with the difference, never left silently short."""
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1, "price": "20.00"}])
    assert orders.import_order(made["orderId"], ctx, fresh=True).value == "created"
    payload = ctx.amazon.orders.get(made["orderId"])
    payload = payload.get("order", payload)
    total = Decimal(payload["proceeds"]["grandTotal"]["amount"])
    payload["proceeds"]["breakdowns"].append({"type": "DELIVERY_TIP", "status": "FINALIZED",
                                              "subtotal": {"amount": "3.00", "currencyCode": "USD"}})
    payload["proceeds"]["grandTotal"]["amount"] = str(total + 3)
    payload["lastUpdatedTime"] = payload["lastUpdatedTime"].replace("Z", ".5Z")
    out = orders.apply_order(payload, ctx)
    assert (out.value, out.detail) == ("held", "total_changed")
    assert "difference 3.00" in ctx.sl.get_hold(out.hold_id).message
