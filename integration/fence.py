"""The fencing token an entity task carries into SL (DESIGN §5): the guarantee behind the lease.

A lease in Redis can be lost (an outage, a failover, a pause, a flush) while its holder goes on working, so
every SL write for an entity locks the entity's binding row, compares the fencing number stored there with the
writer's, and stamps its own, all in the one transaction that writes the document. A lower number, or the same
number from another owner (possible after a Redis failover lost some increments), is a stale holder: its write
is refused with ``Superseded``. Numbers are ``epoch * EPOCH_SPAN + counter``; the epoch comes from SL and goes up
whenever Redis has lost the counters (a flush), so a number handed out after a flush is above every earlier one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from integration.errors import Superseded

EPOCH_SPAN = 1_000_000_000


@dataclass(frozen=True)
class Fence:
    entity: str
    key: str
    number: int
    owner: str
    alive: Callable[[], bool] = field(default=lambda: True, compare=False, repr=False)

    def check(self, stored_number: int | None, stored_owner: str | None) -> None:
        """Raise ``Superseded`` unless this holder may write over what the binding row says."""
        if not self.alive():
            raise Superseded(f"{self.entity} {self.key}: the lease (fence {self.number}) was lost; not writing",
                             details={"entity": self.entity, "key": self.key, "fence": self.number})
        stored = int(stored_number or 0)
        if stored > self.number or (stored == self.number and (stored_owner or "").strip() not in ("", self.owner)):
            raise Superseded(f"{self.entity} {self.key}: a newer holder wrote (fence {stored} > {self.number})",
                             details={"entity": self.entity, "key": self.key, "fence": self.number, "stored": stored})

    def matches(self, entity: str, key: str) -> bool:
        return self.entity == entity and self.key == str(key)
