"""Each row of the status table, applied to the SL database on SQLite and on PostgreSQL (through psqlODBC).

Orders are created in the simulator and read over HTTP by the real client; SL is the seeded sandbox.
"""

from __future__ import annotations

import html

from integration.sync import orders
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
    sku_unknown,
)


def _import(ctx, oid):
    return orders.import_order(oid, ctx, fresh=True)


def _head(ctx, ord_nbr):
    so = ctx.sl.sales_order(ord_nbr)
    assert so is not None, f"no SL order {ord_nbr}"
    return so


def test_unshipped_mfn_order_becomes_an_open_sales_order(ctx, sim):
    sku = sku_known(ctx)
    made = sim.create_order([{"sku": sku, "quantity": 3}, {"sku": sku_known(ctx, via_xref=True), "quantity": 2}],
                            purchase_order="PO-7781", business=True, prime=True)
    out = _import(ctx, made["orderId"])
    assert out.value == "created"
    so = _head(ctx, out.ord_nbr)
    assert so["CustOrdNbr"] == made["orderId"]
    assert so["CustID"] == "AMZUS"
    assert [(ln["QtyOrd"]) for ln in so["lines"]] == [3, 2]
    binding = ctx.sl.get_order_binding(made["orderId"])
    assert binding.ord_nbr == out.ord_nbr and binding.sl_status == "OPEN"
    assert binding.last_updated == made["lastUpdatedTime"]
    # cross-referenced SKU resolved to the SL item, not to the Amazon SKU
    invt_ids = {ln["InvtID"] for ln in so["lines"]}
    assert sku in invt_ids and not any(i.startswith("AMZ-") for i in invt_ids)


def test_pending_order_waits_then_is_created_when_released(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], status="PENDING")
    assert _import(ctx, made["orderId"]).value == "waiting"
    assert ctx.sl.get_order_binding(made["orderId"]) is None
    sim.change(made["orderId"], "release")
    out = _import(ctx, made["orderId"])
    assert out.value == "created" and ctx.sl.sales_order(out.ord_nbr)


def test_cancelled_before_import_is_skipped_and_never_written(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.change(made["orderId"], "cancel")
    assert _import(ctx, made["orderId"]).value == "skipped"
    assert ctx.sl.get_order_binding(made["orderId"]) is None
    assert [e.action for e in ctx.sl.events_for("order", made["orderId"])] == ["skipped"]


def test_cancelled_after_import_cancels_the_sales_order(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 2}])
    ord_nbr = _import(ctx, made["orderId"]).ord_nbr
    sim.change(made["orderId"], "cancel")
    assert _import(ctx, made["orderId"]).value == "cancelled"
    assert ctx.sl.get_order_binding(made["orderId"]).sl_status == "CANCELLED"
    assert _head(ctx, ord_nbr)["Status"] in ("X", "C")


def test_afn_order_shipped_by_amazon_is_created_and_invoiced(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx, "AFN"), "quantity": 2}], fulfillment="AFN")
    assert _import(ctx, made["orderId"]).value == "waiting"  # Amazon ships it; nothing for SL yet
    sim.change(made["orderId"], "ship")
    out = _import(ctx, made["orderId"])
    assert out.value == "invoiced"
    binding = ctx.sl.get_order_binding(made["orderId"])
    assert binding.sl_status == "INVOICED" and binding.invc_ref_nbr
    assert _head(ctx, out.ord_nbr)["CustOrdNbr"] == made["orderId"]


def test_cancellation_after_invoicing_becomes_a_credit_memo(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    ord_nbr = _import(ctx, made["orderId"]).ord_nbr
    ctx.sl.create_invoice(ord_nbr)  # SL's sales journal invoiced the (prepaid) order
    sim.change(made["orderId"], "cancel")
    out = _import(ctx, made["orderId"])
    assert out.value == "credited"
    binding = ctx.sl.get_order_binding(made["orderId"])
    assert binding.cm_ref_nbr and binding.sl_status == "CREDITED"
    assert binding.status == "CANCELLED"


def test_shipped_mfn_order_unknown_to_sl_is_held_for_review(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    sim.change(made["orderId"], "ship")
    out = _import(ctx, made["orderId"])
    assert out.value == "held" and out.detail == "status_conflict"
    assert ctx.sl.get_order_binding(made["orderId"]) is None


def test_unknown_sku_is_held_then_imported_after_an_itemxref_is_added(ctx, sim):
    unknown = sku_unknown()
    made = sim.create_order([{"sku": unknown, "quantity": 1}])
    out = _import(ctx, made["orderId"])
    assert out.value == "held" and out.detail == "unknown_sku"
    hold = ctx.sl.get_hold(out.hold_id)
    assert hold.reason == "unknown_sku" and hold.payload["payload"]["orderId"] == made["orderId"]
    assert ctx.sl.get_order_binding(made["orderId"]) is None
    # a person adds the cross-reference in SL, then releases the hold
    from integration.sl.sandbox import insert_rows

    insert_rows(ctx.sl.db, {"ItemXRef": [{"InvtID": sku_known(ctx), "AlternateID": unknown, "AltIDType": "K"}]})
    assert ctx.sl.set_hold_status(out.hold_id, "RELEASED", "xref added")
    again = _import(ctx, made["orderId"])
    assert again.value == "created"
    assert {ln["InvtID"] for ln in _head(ctx, again.ord_nbr)["lines"]} == {sku_known(ctx)}


def test_buyer_data_that_looks_like_sql_and_non_ascii_is_stored_safely(ctx, sim):
    """SQL-looking text is data; characters SL's code page (cp1252 in the sandbox) has are kept, others are
    transliterated and the original stays in the order's note."""
    address = {"name": "Zoë O'Brien-Łukasiewicz", "addressLine1": "1'; DROP TABLE SOHeader;--",
               "addressLine2": "Straße 5", "city": "Montréal", "stateOrRegion": "QC", "postalCode": "H2X 1Y4",
               "countryCode": "CA"}
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], address=address)
    out = _import(ctx, made["orderId"])
    assert out.value == "created", out
    so = _head(ctx, out.ord_nbr)
    assert so["ShipName"] == "Zoë O'Brien-Lukasiewicz"   # ë is in cp1252, Ł is not
    note = ctx.sl.db.run(lambda r: r.scalar('SELECT n."sNoteText" FROM "Snote" n JOIN "SOHeader" h ON h."NoteId" = '
                                            'n."nID" WHERE h."OrdNbr" = ?', [out.ord_nbr]), write=False)
    assert "SOHeader.ShipName: Zoë O'Brien-Łukasiewicz" in html.unescape(note).splitlines()
    assert "1'; DROP TABLE SOHeader;--" in so["ShipAddr1"]  # verbatim (line 2 may be folded in beside it)
    assert "Straße 5" in so["ShipAddr1"] + " " + so["ShipAddr2"]
    assert so["ShipCity"] == "Montréal"
    assert ctx.sl.sales_order(out.ord_nbr) is not None  # the table is, of course, still there


def test_reimporting_an_unchanged_order_writes_nothing(ctx, sim):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}])
    first = _import(ctx, made["orderId"])
    events = len(ctx.sl.events_for("order", made["orderId"]))
    for _ in range(3):
        assert _import(ctx, made["orderId"]).value == "unchanged"
    assert len(ctx.sl.events_for("order", made["orderId"])) == events
    assert ctx.sl.get_order_binding(made["orderId"]).ord_nbr == first.ord_nbr
