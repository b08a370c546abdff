"""Sellers API: the marketplaces the simulated seller participates in."""

from __future__ import annotations

from integration.sandbox.amazon.state import MARKETPLACES
from integration.sandbox.amazon.wire import Reply, Req


def get_marketplace_participations(sim, req: Req) -> Reply:
    rows = [{"marketplace": {"id": m, **{k: v for k, v in MARKETPLACES.get(m, MARKETPLACES["ATVPDKIKX0DER"]).items()}},
             "participation": {"isParticipating": True, "hasSuspendedListings": False},
             "storeName": "Sandbox Widgets Store"} for m in sim.state.marketplace_ids]
    return Reply(200, {"payload": rows})
