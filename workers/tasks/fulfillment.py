"""Fulfillment tasks: find confirmed SL shippers, confirm each one at Amazon."""

from __future__ import annotations

from integration.guard import keys, redis_client
from integration.sync import fulfillment
from integration.sync.orders import now_utc
from workers.app import app
from workers.base import run_for_entity
from workers.context import task_context

CONFIRM = "slsync.fulfillment.confirm"


def enqueue_confirmations(shippers: list[tuple[str, str]]) -> None:
    with app.producer_or_acquire() as producer:
        for cpny_id, shipper_id in shippers:
            app.send_task(CONFIRM, args=[cpny_id, shipper_id], queue="amazon", producer=producer)


@app.task(name=CONFIRM, bind=True, queue="amazon")
def confirm_shipment(self, cpny_id: str, shipper_id: str) -> str | None:
    outcome = run_for_entity(self, "shipper", f"{cpny_id}:{shipper_id}",
                             lambda: fulfillment.confirm(task_context(self), cpny_id, shipper_id))
    return outcome.value if outcome else None


@app.task(name="slsync.fulfillment.sweep", bind=True, queue="sl")
def sweep_shipments(self) -> int | None:
    found = run_for_entity(self, "sweep", "fulfillment",
                           lambda: fulfillment.sweep(task_context(self), enqueue=enqueue_confirmations))
    if found is not None:
        redis_client().set(keys.last_success("fulfillment.sweep"), now_utc().isoformat(timespec="seconds"),
                           ex=keys.LAST_OK_TTL)
    return found
