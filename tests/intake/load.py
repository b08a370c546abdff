"""The 1,000-notification scenario shared by the HTTP and SQS tests (and the benchmark's builder).

100 orders in the simulator; its own ORDER_CHANGE notifications (creation, then cancel or ship for some) plus
schema-conformant repeats of earlier events with new NotificationIds, 10 per order; every one delivered 1-3
times, shuffled, in two waves: before the orders change and after.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import datetime, timedelta

from tests.intake.conftest import subscribe_in_process

N_ORDERS, PER_ORDER = 100, 10


def _older(note: dict, rnd: random.Random) -> dict:
    """The same event told again, a little earlier, as another notification instance."""
    twin = copy.deepcopy(note)
    t = datetime.fromisoformat(note["EventTime"].replace("Z", "+00:00")) - timedelta(seconds=rnd.randint(1, 600))
    twin["EventTime"] = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    twin["NotificationMetadata"]["NotificationId"] = str(uuid.UUID(int=rnd.getrandbits(128)))
    twin["Payload"]["OrderChangeNotification"]["OrderChangeType"] = rnd.choice(["OrderStatusChange",
                                                                                "BuyerRequestedChange"])
    return twin


def _deliveries(notes: list[dict], rnd: random.Random) -> list[dict]:
    out = [n for n in notes for _ in range(rnd.randint(1, 3))]
    rnd.shuffle(out)
    return out


class Scenario:
    FIRST_REPEATS = 4

    def __init__(self, sim, sku: str, seed: int = 6):
        self.sim, self.sku, self.rnd = sim, sku, random.Random(seed)
        self.notes: dict[str, list[dict]] = {}
        self.notifications = 0
        self.sent_ids: set[str] = set()     # every NotificationId handed to the receiver or the queue

    def _collect(self, since: int) -> dict[str, list[dict]]:
        fresh: dict[str, list[dict]] = {}
        for note in self.sim.sim.outbox.sent[since:]:
            if note.get("NotificationType") == "ORDER_CHANGE":
                oid = note["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
                fresh.setdefault(oid, []).append(note)
                self.notes.setdefault(oid, []).append(note)
        return fresh

    def _with_repeats(self, fresh: dict[str, list[dict]], repeats) -> list[dict]:
        out = []
        for oid in self.order_ids:
            out.extend(fresh.get(oid, []))
            out.extend(_older(self.rnd.choice(self.notes[oid]), self.rnd) for _ in range(repeats(oid)))
        self.notifications += len(out)
        self.sent_ids.update(n["NotificationMetadata"]["NotificationId"] for n in out)
        return out

    def first_wave(self) -> list[dict]:
        """Create the orders; their notifications (and repeats), each delivered 1-3 times, shuffled."""
        subscribe_in_process(self.sim)
        self.order_ids = [self.sim.create_order([{"sku": self.sku, "quantity": self.rnd.randint(1, 3)}])["orderId"]
                          for _ in range(N_ORDERS)]
        self._mark = len(self.sim.sim.outbox.sent)
        self.first = _deliveries(self._with_repeats(self._collect(0), lambda oid: self.FIRST_REPEATS), self.rnd)
        return self.first

    def second_wave(self) -> list[dict]:
        """Cancel 20 orders and ship 30; their notifications and the remaining repeats, plus a fifth of the
        first wave's deliveries again, late (old events arriving after new ones)."""
        for oid in self.order_ids[:20]:
            self.sim.change(oid, "cancel")
        for oid in self.order_ids[20:50]:
            self.sim.change(oid, "ship")
        fresh = self._collect(self._mark)
        notes = self._with_repeats(fresh, lambda oid: PER_ORDER - len(self.notes[oid]) - self.FIRST_REPEATS)
        late = self.rnd.sample(self.first, k=len(self.first) // 5)
        return _deliveries(notes, self.rnd) + late

    def final(self) -> dict[str, dict]:
        ids = set(self.order_ids)
        return {oid: o for oid, o in self.sim.orders().items() if oid in ids}


def unsettled(ctx, final: dict[str, dict]) -> list[tuple]:
    """Orders not (yet) bound in SL at Amazon's final lastUpdatedTime and status: (id, Amazon, SL)."""
    out = []
    for oid, order in final.items():
        b = ctx.sl.get_order_binding(oid)
        if b is None or b.last_updated != order["lastUpdatedTime"] or b.status != order["status"]:
            out.append((oid, (order["lastUpdatedTime"], order["status"]), b and (b.last_updated, b.status)))
    return out
