"""Availability follows SL's formula for every INSetup switch combination, and never goes negative."""

from __future__ import annotations

import itertools

from integration.sl import sandbox
from integration.sl.availability import SWITCHES

# Each ItemSite quantity gets its own power of two, so every term of the formula shows in the result.
QUANTITIES = {
    "QtyOnHand": 100000, "QtyNotAvail": 1, "QtyAllocBM": 2, "QtyAllocIN": 4, "QtyAllocPORet": 8, "QtyAllocSD": 16,
    "QtyShipNotInv": 32, "QtyAllocProjIN": 64, "PrjINQtyShipNotInv": 128, "PrjINQtyAllocIN": 256,
    "PrjINQtyAllocPORet": 512, "QtyInTransit": 1024, "QtyOnTransferOrders": 2048, "QtyOnPO": 4096,
    "QtyOnKitAssyOrders": 8192, "QtyWOFirmSupply": 16384, "QtyWORlsedSupply": 32768, "QtyCustOrd": 65536,
    "PrjINQtyCustOrd": 3, "QtyOnBO": 5, "QtyAlloc": 6000, "PrjINQtyAlloc": 7, "QtyWOFirmDemand": 9,
    "QtyWORlsedDemand": 11,
}
# The formula of reference §7 as a table: always-on terms, then terms each switch adds.
ALWAYS = {"QtyOnHand": 1, "QtyNotAvail": -1, "QtyAllocBM": -1, "QtyAllocIN": -1, "QtyAllocPORet": -1,
          "QtyAllocSD": -1, "QtyShipNotInv": -1, "QtyAllocProjIN": -1, "PrjINQtyShipNotInv": 1,
          "PrjINQtyAllocIN": 1, "PrjINQtyAllocPORet": 1}
GATED = {"InclQtyInTransit": {"QtyInTransit": 1, "QtyOnTransferOrders": 1}, "InclQtyOnPO": {"QtyOnPO": 1},
         "InclQtyOnWO": {"QtyOnKitAssyOrders": 1}, "InclWOFirmSupply": {"QtyWOFirmSupply": 1},
         "InclWORlsedSupply": {"QtyWORlsedSupply": 1}, "InclWOFirmDemand": {"QtyWOFirmDemand": -1},
         "InclWORlsedDemand": {"QtyWORlsedDemand": -1}}


def expected(switches: dict[str, int], q: dict[str, float]) -> float:
    terms = dict(ALWAYS)
    for switch, extra in GATED.items():
        if switches[switch]:
            terms.update(extra)
    if switches["InclQtyCustOrd"]:
        terms.update({"QtyCustOrd": -1, "PrjINQtyCustOrd": 1})
    else:
        if switches["InclQtyOnBO"]:
            terms["QtyOnBO"] = -1
        if switches["InclAllocQty"]:
            terms.update({"QtyAlloc": -1, "PrjINQtyAlloc": 1})
    return sum(sign * q[col] for col, sign in terms.items())


SHORT = {**{k: 0 for k in QUANTITIES}, "QtyOnHand": 3, "QtyAlloc": 10, "QtyCustOrd": 10, "QtyOnBO": 4}


def _items(gateway):
    short = SHORT   # negative in SL whenever allocations or customer orders count
    rows = {"Inventory": [], "ItemSite": []}
    for invt, stk, q in (("AV-FULL", 1, QUANTITIES), ("AV-SHORT", 1, short), ("AV-NONSTOCK", 0, QUANTITIES)):
        rows["Inventory"].append({"InvtID": invt, "Descr": invt, "StkItem": stk, "TranStatusCode": "AC"})
        for site in ("MAIN", "WEST", "FBA"):
            rows["ItemSite"].append({"InvtID": invt, "SiteID": site, "CpnyID": "AMZDEMO", **q})
    sandbox.insert_rows(gateway.db, rows)


def _item_sites(gateway):
    return gateway.db.run(lambda r: r.all('SELECT * FROM "ItemSite" ORDER BY "InvtID", "SiteID"'))


def test_availability_follows_the_formula_for_every_switch_combination(gateway):
    _items(gateway)
    before = _item_sites(gateway)
    negative_seen = False
    for combo in itertools.product((0, 1), repeat=len(SWITCHES)):
        switches = dict(zip(SWITCHES, combo, strict=True))
        sandbox.update_rows(gateway.db, "INSetup", switches)
        got = gateway.available_quantities(["AV-FULL", "AV-SHORT", "AV-NONSTOCK"], ["MAIN", "WEST"])
        full = expected(switches, QUANTITIES)
        assert got["AV-FULL"] == max(0, 2 * int(full)), switches   # two sites of the group, FBA not in it
        assert got["AV-SHORT"] == 2 * max(0, int(expected(switches, SHORT))), switches
        assert got["AV-NONSTOCK"] == 0
        negative_seen = negative_seen or expected(switches, SHORT) < 0
    assert negative_seen
    assert _item_sites(gateway) == before   # ItemSite is never written


def test_a_short_site_does_not_eat_another_sites_stock(gateway):
    sandbox.insert_rows(gateway.db, {
        "Inventory": [{"InvtID": "AV-SPLIT", "Descr": "split", "StkItem": 1, "TranStatusCode": "AC"}],
        "ItemSite": [{"InvtID": "AV-SPLIT", "SiteID": "MAIN", "QtyOnHand": 5, "QtyAlloc": 2},
                     {"InvtID": "AV-SPLIT", "SiteID": "WEST", "QtyOnHand": 1, "QtyAlloc": 9}],
    })
    sandbox.update_rows(gateway.db, "INSetup", {s: 0 for s in SWITCHES} | {"InclAllocQty": 1})
    assert gateway.available_qty("AV-SPLIT", ["MAIN", "WEST"]) == 3
    assert gateway.available_qty("AV-SPLIT", ["WEST"]) == 0


def test_unsaleable_unknown_and_seeded_negative_items_have_nothing_available(gateway):
    sandbox.insert_rows(gateway.db, {
        "Inventory": [{"InvtID": "AV-HOLD", "Descr": "inactive", "StkItem": 1, "TranStatusCode": "IN"}],
        "ItemSite": [{"InvtID": "AV-HOLD", "SiteID": "MAIN", "QtyOnHand": 50}],
    })
    assert gateway.available_qty("AV-HOLD", ["MAIN"]) == 0
    assert gateway.available_qty("NO-SUCH", ["MAIN"]) == 0
    seeded = gateway.db.run(lambda r: r.all('SELECT "InvtID" FROM "ItemSite" WHERE "QtyAlloc" > "QtyOnHand"'))
    assert seeded, "the demo company has over-allocated items"
    got = gateway.available_quantities(sorted({r[0] for r in seeded}), ["MAIN", "WEST", "FBA"])
    assert all(v >= 0 for v in got.values())


def test_availability_by_sku_uses_the_item_policy(gateway):
    from integration.sl import ItemPolicy

    xref = gateway.db.run(lambda r: r.one('SELECT "AlternateID", "InvtID" FROM "ItemXRef"'))
    assert gateway.available_qty(xref[0], ["MAIN", "WEST"], ItemPolicy()) == \
        gateway.available_qty(xref[1], ["MAIN", "WEST"])
