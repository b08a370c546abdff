"""Shipments that need a person, or that Amazon keeps refusing, become holds on the shipper; released once the cause
is fixed, they are confirmed exactly once. A real worker, the simulator over HTTP, the CLI's release."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from integration.commands.holds import holds
from integration.sandbox import sl_seed
from integration.sl import sandbox
from integration.sync import orders
from tests.orders.conftest import sku_known, start_worker, wait_until


@pytest.fixture
def patient_worker(env):
    """Few retries (so a refusal that does not stop ends as a hold quickly); the breaker stays out of it."""
    proc = start_worker({**env, "TASK_MAX_RETRIES": "2", "BREAKER_MIN_CALLS": "1000"}, name="shipholds")
    yield proc
    proc.stop()


def _shipped_order(ctx, sim, tracking: list[str]) -> tuple[str, str, str]:
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = orders.import_order(made["orderId"], ctx, fresh=True).ord_nbr
    return made["orderId"], ord_nbr, sl_seed.ship_order(ctx.sl, ord_nbr, tracking_numbers=tracking)


def _sweep_to_workers(ctx) -> None:
    from integration.sync import fulfillment
    from workers.tasks.fulfillment import enqueue_confirmations

    fulfillment.sweep(ctx, enqueue=enqueue_confirmations)


def _release(hold_id: int) -> None:
    result = CliRunner().invoke(holds, ["release", str(hold_id), "--note", "fixed"])
    assert result.exit_code == 0, result.output


def test_a_shipper_without_a_tracking_number_is_held_then_confirmed_once_after_the_fix(ctx, sim, patient_worker):
    oid, ord_nbr, shipper = _shipped_order(ctx, sim, tracking=[])
    _sweep_to_workers(ctx)
    hold = wait_until(lambda: ctx.sl.list_holds(entity="shipper"), timeout=30, what="a hold on the shipper")[0]
    assert (hold.key, hold.reason) == (f"AMZDEMO:{shipper}", "missing_field") and "tracking" in hold.message
    assert sim.confirmations() == []
    sandbox.insert_rows(ctx.sl.db, {"SOShipPack": [{"CpnyID": "AMZDEMO", "ShipperID": shipper, "BoxRef": "00001",
                                                    "TrackingNbr": "1Z999AA10123456784", "Wght": 1.0}]})
    _release(hold.hold_id)
    wait_until(lambda: (ctx.sl.get_shipment_binding(shipper) or {}).get("status") == "PUSHED", timeout=30,
               what="the shipment confirmed")
    _sweep_to_workers(ctx)       # a later sweep finds nothing more to do
    time.sleep(1.0)
    sent = sim.confirmations()
    assert [c["packageDetail"]["trackingNumber"] for c in sent] == ["1Z999AA10123456784"]


def test_a_confirmation_amazon_keeps_refusing_is_held_then_confirmed_once_when_it_clears(ctx, sim, patient_worker):
    oid, ord_nbr, shipper = _shipped_order(ctx, sim, tracking=["1Z999AA10123456785"])
    sim.faults([{"op": "confirmShipment", "kind": "500"}])
    _sweep_to_workers(ctx)
    hold = wait_until(lambda: ctx.sl.list_holds(entity="shipper", reason="retries_exhausted"), timeout=60,
                      what="a hold once the retries ran out")[0]
    assert hold.key == f"AMZDEMO:{shipper}" and hold.payload["task"] == "slsync.fulfillment.confirm"
    assert sim.confirmations() == []
    _sweep_to_workers(ctx)       # a held shipper is not handed out again by the sweep
    assert len(ctx.sl.list_holds(entity="shipper")) == 1
    sim.faults([])
    _release(hold.hold_id)
    wait_until(lambda: (ctx.sl.get_shipment_binding(shipper) or {}).get("status") == "PUSHED", timeout=30,
               what="the shipment confirmed")
    time.sleep(1.0)
    assert [c["packageDetail"]["trackingNumber"] for c in sim.confirmations()] == ["1Z999AA10123456785"]
