"""What a person must decide becomes a hold with its reason; the work is never half done and never lost."""

from __future__ import annotations

import dataclasses

from integration.sandbox import sl_seed
from integration.sync import orders
from tests.orders.conftest import sku_known, sku_unknown
from tests.support import alerts


def test_missing_required_field_is_held_naming_it_and_alerts(ctx, sim, r):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    payload = dict(made)
    payload.pop("orderItems")
    out = orders.apply_order(payload, ctx)
    assert out.value == "held" and out.detail == "missing_field"
    hold = ctx.sl.get_hold(out.hold_id)
    assert "orderItems" in " ".join(hold.payload["error"]["fields"])
    assert ctx.sl.get_order_binding(made["orderId"]) is None
    assert [a["subject"] for a in alerts.recorded(r)] == ["order held: missing_field"]


def test_cancel_of_an_order_sl_already_shipped_is_held(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=["1Z999"])
    sim.change(made["orderId"], "cancel")
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "held" and out.detail == "cancel_after_ship"
    assert ctx.sl.get_order_binding(made["orderId"]).sl_status == "OPEN"


def test_ghost_item_policy_books_the_order_and_flags_it(ctx, sim):
    data = {**ctx.mapping.data, "sku": {**ctx.mapping.data["sku"], "unknown_sku": "ghost",
                                        "ghost_item": sku_known(ctx)}}
    ghostly = dataclasses.replace(ctx, mapping=dataclasses.replace(ctx.mapping, data=data))
    made = sim.create_order([{"sku": sku_unknown(), "quantity": 1}])
    out = orders.import_order(made["orderId"], ghostly, fresh=True)
    assert out.value == "created"
    holds = ctx.sl.list_holds(reason="ghost_item")
    assert [h.key for h in holds] == [made["orderId"]]
    assert {ln["InvtID"] for ln in ctx.sl.sales_order(out.ord_nbr)["lines"]} == {sku_known(ctx)}
