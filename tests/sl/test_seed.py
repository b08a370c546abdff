"""The demo company: what the order-to-cash demo and the inventory flow need."""

from __future__ import annotations

from integration.sandbox import sl_seed


def test_the_demo_company_has_what_the_flows_need():
    rows = sl_seed.seed_rows(seed=3)
    assert len(rows["Inventory"]) >= 200
    assert {r["SiteID"] for r in rows["ItemSite"]} == {"MAIN", "WEST", "FBA"}
    assert {r["ShipViaID"] for r in rows["ShipVia"]} >= {"UPSGND", "FEDEX2D", "USPS"}
    assert {r["SOTypeID"] for r in rows["SOType"]} == {"SO", "INVC", "CM"}
    assert {r["CustId"] for r in rows["Customer"]} >= {"AMZUS", "AMZCA", "AMZMX"}
    assert rows["GLSetup"][0]["BaseCuryId"] == "USD" and rows["GLSetup"][0]["FiscalPerEnd11"] == "1231"
    assert {"1050", "4000", "6100", "6110", "4090"} <= {a["Acct"] for a in rows["Account"]}
    assert any(r["QtyAlloc"] > r["QtyOnHand"] for r in rows["ItemSite"])
    assert any(r["QtyOnHand"] == 0 and r["SiteID"] == "MAIN" for r in rows["ItemSite"])
    assert all(x["AlternateID"] != x["InvtID"] for x in rows["ItemXRef"]) and rows["ItemXRef"]


def test_the_seed_follows_a_given_catalog():
    catalog = [{"sku": "ABC", "sl_invtid": "ABC", "title": "A", "price": "1.00", "fulfillment": "MFN"},
               {"sku": "AMZ-DEF", "sl_invtid": "DEF", "title": "D", "price": "2.00", "fulfillment": "AFN"},
               {"sku": "NEW", "sl_invtid": None, "title": "N", "price": "3.00", "fulfillment": "MFN"}]
    rows = sl_seed.seed_rows(catalog=catalog)
    ids = {r["InvtID"] for r in rows["Inventory"]}
    assert {"ABC", "DEF"} <= ids and "NEW" not in ids and "AMZ-DEF" not in ids
    assert [(x["AlternateID"], x["InvtID"]) for x in rows["ItemXRef"]] == [("AMZ-DEF", "DEF")]
    assert rows["TrnsfrDoc"][0]["ToSiteID"] == "FBA" and rows["INTran"][0]["InvtID"] == "DEF"


def test_the_sandbox_warehouse_ships_an_order_with_made_up_tracking(sqlite_dsn):
    from decimal import Decimal

    from integration.sl import open_gateway
    from tests.sl.builders import a_binding, an_order

    gw = open_gateway(sqlite_dsn, "AMZDEMO")
    order = an_order(lines=2)
    ord_nbr = gw.create_sales_order(order, a_binding(order))
    shipper_id = sl_seed.ship_order(gw, ord_nbr, quantities={"00002": Decimal(1)}, ship_via_id="USPS")
    shipper = gw.shipper(shipper_id)
    assert [ln.ord_line_ref for ln in shipper.lines] == ["00002"]
    box = shipper.packages[0]   # 22 digits: SOShipPack holds the first 20, xAMZTracking the whole number
    assert box.tracking_nbr.startswith("9400") and len(box.tracking_nbr) == 22 and not box.looks_cut
    assert box.sl_tracking_nbr == box.tracking_nbr[:20]
    gw.close()
