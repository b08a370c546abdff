"""SL shippers go back to Amazon as shipment confirmations: partial, several boxes, once only, never AFN."""

from __future__ import annotations

from integration.sandbox import sl_seed
from integration.sync import fulfillment, orders
from tests.orders.conftest import sku_known


def _sweep(ctx) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    fulfillment.sweep(ctx, enqueue=found.extend)
    return found


def _confirm_all(ctx) -> list[str]:
    return [fulfillment.confirm(ctx, cpny, sid).value for cpny, sid in _sweep(ctx)]


def _order(ctx, sim, lines, **spec):
    made = sim.create_order(lines, **spec)
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "created", out
    return made, out.ord_nbr


def test_partial_shipment_makes_two_confirmations_with_the_right_items_and_nothing_twice(ctx, sim):
    made, ord_nbr = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 3},
                                      {"sku": sku_known(ctx, via_xref=True), "quantity": 2}])
    item_ids = [i["orderItemId"] for i in made["orderItems"]]
    first = sl_seed.ship_order(ctx.sl, ord_nbr, quantities={"00001": 1}, tracking_numbers=["1Z0000000000000001"])
    assert _confirm_all(ctx) == ["confirmed"]
    second = sl_seed.ship_order(ctx.sl, ord_nbr, quantities={"00001": 2, "00002": 2},
                                tracking_numbers=["1Z0000000000000002"])
    assert _confirm_all(ctx) == ["confirmed"]
    assert _sweep(ctx) == []  # both pushed: nothing left to find
    assert fulfillment.confirm(ctx, "AMZDEMO", first).value == "already_confirmed"
    sent = sim.confirmations()
    assert len(sent) == 2
    by_tracking = {c["packageDetail"]["trackingNumber"]: c["packageDetail"] for c in sent}
    assert {(i["orderItemId"], i["quantity"]) for i in by_tracking["1Z0000000000000001"]["orderItems"]} == {
        (item_ids[0], 1)}
    assert {(i["orderItemId"], i["quantity"]) for i in by_tracking["1Z0000000000000002"]["orderItems"]} == {
        (item_ids[0], 2), (item_ids[1], 2)}
    assert by_tracking["1Z0000000000000001"]["carrierCode"] == "UPS"
    assert sim.orders()[made["orderId"]]["status"] == "SHIPPED"
    assert ctx.sl.get_shipment_binding(second)["status"] == "PUSHED"


def test_a_confirmation_whose_answer_was_lost_is_not_sent_again(ctx, sim):
    made, ord_nbr = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1}])
    shipper = sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=["9400100000000000000017"])
    assert fulfillment.confirm(ctx, "AMZDEMO", shipper).value == "confirmed"
    # the worker died after Amazon accepted but before our binding said so
    ctx.sl.bind_shipment(shipper, ord_nbr=ord_nbr, amazon_order_id=made["orderId"], status="SENDING")
    assert fulfillment.confirm(ctx, "AMZDEMO", shipper).value == "confirmed"
    assert len(sim.confirmations()) == 1
    assert ctx.sl.get_shipment_binding(shipper)["status"] == "PUSHED"


def test_one_box_per_line_sends_each_line_with_its_tracking_number(ctx, sim):
    made, ord_nbr = _order(ctx, sim, [{"sku": sku_known(ctx), "quantity": 1},
                                      {"sku": sku_known(ctx, via_xref=True), "quantity": 1}])
    sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=["TRACK-A", "TRACK-B"])
    assert _confirm_all(ctx) == ["confirmed"]
    sent = {c["packageDetail"]["trackingNumber"]: c["packageDetail"]["orderItems"] for c in sim.confirmations()}
    assert set(sent) == {"TRACK-A", "TRACK-B"}
    assert all(len(items) == 1 for items in sent.values())


def test_amazon_fulfilled_orders_are_never_confirmed_by_us(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx, "AFN"), "quantity": 1}], fulfillment="AFN")
    sim.change(made["orderId"], "ship")
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "invoiced"
    shipper = sl_seed.ship_order(ctx.sl, out.ord_nbr, tracking_numbers=["AMZN-FBA-1"])
    assert fulfillment.confirm(ctx, "AMZDEMO", shipper).value == "skipped_afn"
    assert sim.confirmations() == []
    assert _sweep(ctx) == []
