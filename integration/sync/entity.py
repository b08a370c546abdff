"""Holding one entity while working on it: the lease in Redis, the fence checked in SL (DESIGN §5).

``hold_entity`` is what every entity task and the CLI's one-off commands go through. The lease keeps two
workers from interleaving on one order most of the time; the fence makes it safe when they do: every SL write
for the entity inside the block is checked against the holder's fencing number in SL's own transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from integration.errors import Superseded, Transient
from integration.guard import Lease, LeaseLost
from integration.sync.context import Context

log = logging.getLogger("slsync.entity")


@contextmanager
def hold_entity(ctx: Context, entity: str, key: str, *, ttl: float | None = None,
                keepalive: bool = True) -> Iterator[Lease]:
    """``with hold_entity(ctx, "order", oid): ...``; raises ``LeaseBusy`` (Transient) when someone holds it.

    A write refused because this holder's lease was lost (the keep-alive found it gone) is retried once the
    lease can be had again: nothing says another holder did the work. A write refused because SL holds a higher
    fence than Redis handed out while Redis still says we hold the lease means Redis is behind SL (restored from
    an old snapshot, a failover that lost increments): the counter is lifted above SL's number and the work is
    retried as ``Transient``. A refusal while Redis says
    the lease is someone else's (or gone) is a stale holder: ``Superseded`` goes up and the work stops.
    A lease found expired at release, after the work finished, is logged: the fence guarded every write.
    """
    ttl = ttl or ctx.settings.lease_seconds
    # Only entities with a binding in SL are fenced there; the others (sweeps, pacers) need no epoch from SL.
    fenced = entity in ctx.sl.FENCED_ENTITIES
    lease = Lease(ctx.redis, entity, key, ttl=ttl, keepalive=keepalive,
                  epoch_source=ctx.sl.next_fence_epoch if fenced else None)
    with lease:
        try:
            with ctx.sl.fenced(lease.fence_token() if fenced else None):
                yield lease
        except Superseded as exc:
            stored = exc.details.get("stored")
            if stored is None:
                # our lease was lost (a pause, an outage) and nothing says anyone else did the work: do it again
                # once the lease can be had; the fence keeps that safe if someone else holds it by then
                raise Transient(f"{entity} {key}: {exc.message}; trying again under a new lease",
                                retry_after=ttl) from exc
            if not lease.lost and lease.held() and lease.raise_floor(int(stored)):
                raise Transient(f"{entity} {key}: Redis's fencing counter was behind SL's ({stored}); lifted, "
                                "retrying with a new number", retry_after=0.05) from exc
            raise
        finally:
            try:   # released here, so a lease found expired after the work is a warning (the ``with`` is then a no-op)
                lease.release()
            except LeaseLost as lost:
                log.warning("%s", lost.message)
