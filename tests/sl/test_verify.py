"""``slsync db verify`` on SQLite and on PostgreSQL through ODBC: each rule finds the SL invariant it protects broken
in an order the product wrote, names the order and exits non-zero; a clean database, and other people's broken
orders, pass."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner

from integration.commands.db import db as db_command
from integration.sl import OrderBinding, state
from integration.sl.rows import Rows
from integration.sl.verify import RULES
from tests.sl.builders import a_binding, an_order

CPNY = "AMZDEMO"


def verify(dsn: str, *args: str, env: dict | None = None) -> tuple[int, dict[str, str], str]:
    """Exit code, {rule: its line}, and the whole output of `slsync db verify`."""
    result = CliRunner().invoke(db_command, ["verify", "--dsn", dsn, "--cpny", CPNY, "--examples", "10", *args],
                                env=env)
    lines = {}
    for line in result.output.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] in ("OK", "FAIL", "ERROR"):
            lines[words[1]] = line
    return result.exit_code, lines, result.output


def sql(gateway, statement: str, *params) -> None:
    def work(rows: Rows) -> None:
        rows.execute(statement, list(params))
    gateway.db.run(work)


def new_order(gateway, **header) -> tuple[str, str]:
    """An order the product writes (its Amazon id, its OrdNbr)."""
    order = an_order(**header)
    return order.CustOrdNbr, gateway.create_sales_order(order, a_binding(order))


def test_a_clean_database_passes_every_rule(gateway, dsn):
    """Orders as the product writes them (open, cancelled, invoiced) satisfy every rule: exit 0, one OK line each,
    and --json says the same."""
    oid, open_nbr = new_order(gateway)
    cancelled_oid, cancelled = new_order(gateway)
    gateway.cancel_sales_order(cancelled, OrderBinding(cancelled_oid, "2026-03-14T10:00:00Z", "h2", "CANCELED"))
    _, invoiced = new_order(gateway)
    gateway.create_invoice(invoiced)
    fba = an_order(lines=1)      # an Amazon-fulfilled sale: created closed, shipped, issued and invoiced at once
    fba.lines = [replace(fba.lines[0], site_id="FBA")]
    gateway.book_fba_sale(replace(a_binding(fba, "SHIPPED"), shipped_at="2026-03-15T10:00:00Z"), order=fba,
                          ship_date=datetime(2026, 3, 15))

    code, lines, output = verify(dsn)
    assert code == 0, output
    assert list(lines) == [r.name for r in RULES]
    assert all(line.startswith("OK ") for line in lines.values()), output
    assert "checked 6" in lines["schedules_not_expired"]   # the cancelled order's schedules are closed
    assert "checked 10" in lines["line_money"] and "checked 4" in lines["header_total"]
    assert "checked 1" in lines["cancelled_consistent"] and "checked 1" in lines["fba_sales_booked"]

    code, _, output = verify(dsn, "--json")
    report = json.loads(output)
    assert code == 0 and report["ok"] is True
    assert [(r["rule"], r["status"]) for r in report["rules"]] == [(r.name, "OK") for r in RULES]
    assert all(r["protects"] and r["checked"] for r in report["rules"] if r["rule"] != "ghost_items_on_hold")


def test_schedules_not_expired(gateway, dsn):
    """SL (ADG_ProcessMgr_ExpiredSchedules, ADG_UpdtShip_GetZeroScheds) treats an open schedule whose CancelDate is
    on or before today as expired: SL's 1900-01-01 default and today itself fail, tomorrow passes."""
    _, ord_nbr = new_order(gateway)
    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for line_ref, cancel in (("00001", datetime(1900, 1, 1)), ("00002", today), ("00003", today + timedelta(days=1))):
        sql(gateway, 'UPDATE "SOSched" SET "CancelDate" = ? WHERE "OrdNbr" = ? AND "LineRef" = ?',
            cancel, ord_nbr, line_ref)

    code, lines, output = verify(dsn)
    line = lines["schedules_not_expired"]
    assert code == 1 and line.startswith("FAIL") and "2 of 3" in line, output
    assert f"{ord_nbr}/00001/00001 (CancelDate 1900-01-01)" in line
    assert f"{ord_nbr}/00002/00001 (CancelDate {today.date().isoformat()})" in line
    assert f"{ord_nbr}/00003/" not in line


def test_line_money(gateway, dsn):
    """ADG_Book_Order prices a line as SlsPrice x QtyOrd x (1 - DiscPct/100): a promotion taken off TotOrd while the
    price stays gross and DiscPct is 0 fails; the same promotion stated as DiscPct passes."""
    _, ord_nbr = new_order(gateway)
    # line 1: 1 x 11.05, promotion 1.00 subtracted from TotOrd only (the bug issue 12 found)
    sql(gateway, 'UPDATE "SOLine" SET "TotOrd" = 10.05, "CuryTotOrd" = 10.05, "DiscPct" = 0 '
                 'WHERE "OrdNbr" = ? AND "LineRef" = ?', ord_nbr, "00001")
    # line 2: 2 x 12.05 = 24.10 less 10% = 21.69, as SL would price it
    sql(gateway, 'UPDATE "SOLine" SET "SlsPrice" = 12.05, "CurySlsPrice" = 12.05, "DiscPct" = 10, "TotOrd" = 21.69, '
                 '"CuryTotOrd" = 21.69 WHERE "OrdNbr" = ? AND "LineRef" = ?', ord_nbr, "00002")

    code, lines, output = verify(dsn)
    line = lines["line_money"]
    assert code == 1 and line.startswith("FAIL") and "1 of 3" in line, output
    assert f"{ord_nbr}/00001 (TotOrd 10.05 vs 11.05" in line
    assert f"{ord_nbr}/00002" not in line


def test_header_total(gateway, dsn):
    """TotOrd = TotMerch + TotFrt + TotMisc + TotTax, TotMisc = its SOMisc, TotTax = its SOTax (a tax with no SOTax
    row fails: SL or a tax engine would add it again); an order whose misc charge and tax have their rows passes."""
    _, dropped = new_order(gateway)      # Amazon's 26.58 vs SL's 23.59: a charge in the total but nowhere else
    sql(gateway, 'UPDATE "SOHeader" SET "TotOrd" = "TotOrd" + 2.99, "CuryTotOrd" = "CuryTotOrd" + 2.99 '
                 'WHERE "OrdNbr" = ?', dropped)
    _, untaxed = new_order(gateway)      # tax in the header, no SOTax row
    sql(gateway, 'UPDATE "SOHeader" SET "TotTax" = 1.23, "CuryTotTax" = 1.23, "TotOrd" = "TotOrd" + 1.23, '
                 '"CuryTotOrd" = "CuryTotOrd" + 1.23 WHERE "OrdNbr" = ?', untaxed)
    _, composed = new_order(gateway)     # the same amounts with their SOMisc and SOTax rows
    sql(gateway, 'UPDATE "SOHeader" SET "TotMisc" = 2.99, "CuryTotMisc" = 2.99, "TotTax" = 1.23, "CuryTotTax" = 1.23, '
                 '"TotOrd" = "TotOrd" + 4.22, "CuryTotOrd" = "CuryTotOrd" + 4.22 WHERE "OrdNbr" = ?', composed)

    def rows_of(rows: Rows) -> None:
        rows.insert("SOMisc", {"CpnyID": CPNY, "OrdNbr": composed, "MiscChrgRef": "00001", "MiscChrg": 2.99,
                               "CuryMiscChrg": 2.99, "Descr": "Gift wrap"})
        rows.insert("SOTax", {"CpnyID": CPNY, "OrdNbr": composed, "TaxID": "AMZFAC", "TotTax": 1.23,
                              "CuryTotTax": 1.23})
    gateway.db.run(rows_of)

    code, lines, output = verify(dsn)
    line = lines["header_total"]
    assert code == 1 and line.startswith("FAIL") and "2 of 3" in line, output
    assert f"{dropped} (TotOrd " in line and "= TotMerch + TotFrt + TotMisc + TotTax" in line
    assert f"{untaxed} (TotTax 1.23 vs 0.00 = sum of SOTax.TotTax)" in line
    assert composed not in line


def test_header_total_catches_negative_freight_and_schedule_tax_that_is_not_the_orders(gateway, dsn):
    """A negative freight (a shipping promotion's VAT taken off the freight twice) and schedules whose TaxAmt00 do not
    add up to SOTax.MerchTax both fail, though TotOrd still adds up."""
    _, negative = new_order(gateway)
    sql(gateway, 'UPDATE "SOHeader" SET "TotFrt" = -0.76, "CuryTotFrt" = -0.76, "TotMerch" = "TotMerch" + 5.75, '
                 '"CuryTotMerch" = "CuryTotMerch" + 5.75 WHERE "OrdNbr" = ?', negative)
    sql(gateway, 'UPDATE "SOLine" SET "TotOrd" = "TotOrd" + 5.75, "CuryTotOrd" = "CuryTotOrd" + 5.75, '
                 '"SlsPrice" = "SlsPrice" + 5.75, "CurySlsPrice" = "CurySlsPrice" + 5.75 '
                 'WHERE "OrdNbr" = ? AND "LineRef" = ?', negative, "00001")
    _, spread = new_order(gateway)
    sql(gateway, 'UPDATE "SOSched" SET "TaxAmt00" = "TaxAmt00" + 0.50 WHERE "OrdNbr" = ? AND "LineRef" = ?',
        spread, "00001")
    code, lines, output = verify(dsn)
    line = lines["header_total"]
    assert code == 1 and line.startswith("FAIL") and "2 of" in line, output
    assert "TotFrt -0.76 is negative" in line and "SOSched.TaxAmt00 sum" in line


def test_bindings_documents(gateway, dsn):
    """The bindings keep an order from being written twice: a binding to a missing order, an order whose
    CustOrdNbr is not its Amazon id, an order of ours with no binding, and an AR document binding without its
    ARDoc each fail, naming their key."""
    _, renamed = new_order(gateway)
    renamed_oid = next(b.amazon_order_id for b in gateway.order_bindings() if b.ord_nbr == renamed)
    sql(gateway, 'UPDATE "SOHeader" SET "CustOrdNbr" = ? WHERE "OrdNbr" = ?', "999-0000000-0000000", renamed)
    unbound_oid, unbound = new_order(gateway)
    sql(gateway, 'DELETE FROM "xAMZOrder" WHERE "AmazonOrderId" = ?', unbound_oid)

    def strays(rows: Rows) -> None:
        state.insert_order_binding(rows, OrderBinding("111-0000001-9999999", ord_nbr="O9999999", cpny_id=CPNY))
        state.record_document(rows, "111-0000001-9999999", "IN", "ORDER", cpny_id=CPNY, ord_nbr="O9999999",
                              ref_nbr="IN99999", bat_nbr="999999", amount=Decimal("1.00"))
    gateway.db.run(strays)

    code, lines, output = verify(dsn)
    line = lines["bindings_documents"]
    assert code == 1 and line.startswith("FAIL") and line.split()[2] == "4", output
    assert "111-0000001-9999999 (bound to SOHeader O9999999, which does not exist)" in line
    assert f"{renamed_oid} (SOHeader {renamed} has CustOrdNbr '999-0000000-0000000')" in line
    assert f"{unbound} (0 xAMZOrder bindings)" in line
    assert "IN/IN99999 (no ARDoc for Amazon order 111-0000001-9999999)" in line


def test_ghost_items_on_hold(gateway, dsn, tmp_path, fresh_settings, monkeypatch):
    """An open order with a line on the mapping's ghost item must be on admin hold, or SL ships the placeholder."""
    from integration.mapping.rules import default_mapping_text

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(default_mapping_text().replace('unknown_sku: hold', 'unknown_sku: ghost')
                       .replace('ghost_item: ""', 'ghost_item: "WIDGET-0002"'))
    monkeypatch.setenv("SLSYNC_MAPPING_FILE", str(mapping))
    fresh_settings.cache_clear()
    _, shipped_as_is = new_order(gateway)
    _, held = new_order(gateway, AdminHold=1)
    _, no_ghost = new_order(gateway, lines=1)

    code, lines, output = verify(dsn)
    line = lines["ghost_items_on_hold"]
    assert code == 1 and line.startswith("FAIL") and "1 of 3" in line, output
    assert f"{shipped_as_is} (line on ghost item WIDGET-0002, AdminHold 0)" in line
    assert held not in line and no_ghost not in line


def test_cancelled_consistent(gateway, dsn):
    """WS_CANCELSALESORDER / ADG_UpdtShip_CancelOrder close header, lines and schedules together: a cancelled order
    with a schedule left open fails; one cancelled by the product passes."""
    oid, reopened = new_order(gateway)
    gateway.cancel_sales_order(reopened, OrderBinding(oid, "2026-03-14T10:00:00Z", "h2", "CANCELED"))
    sql(gateway, 'UPDATE "SOSched" SET "Status" = \'O\' WHERE "OrdNbr" = ? AND "LineRef" = ?', reopened, "00002")
    other_oid, cancelled = new_order(gateway)
    gateway.cancel_sales_order(cancelled, OrderBinding(other_oid, "2026-03-14T10:00:00Z", "h2", "CANCELED"))

    code, lines, output = verify(dsn)
    line = lines["cancelled_consistent"]
    assert code == 1 and line.startswith("FAIL") and "1 of 2" in line, output
    assert f"{reopened} (1 SOSched not closed)" in line and cancelled not in line


def test_other_peoples_broken_orders_are_not_reported(gateway, dsn, tmp_path, fresh_settings, monkeypatch):
    """An order typed in SL (Crtd_Prog 40100) or one in another company, broken every way the rules know, fails
    nothing: only what the product wrote in the checked company is looked at."""
    from integration.mapping.rules import default_mapping_text

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(default_mapping_text().replace('ghost_item: ""', 'ghost_item: "WIDGET-0001"'))
    monkeypatch.setenv("SLSYNC_MAPPING_FILE", str(mapping))
    fresh_settings.cache_clear()
    _, ours = new_order(gateway, AdminHold=1)

    def broken(rows: Rows, cpny: str, ord_nbr: str, program: str) -> None:
        audit = {"Crtd_Prog": program, "Crtd_User": "SYSADMIN"}
        rows.insert("SOHeader", {"CpnyID": cpny, "OrdNbr": ord_nbr, "Status": "O", "Cancelled": 1, "CustID": "AMZUS",
                                 "CustOrdNbr": "PO-1", "CuryID": "USD", "TotMerch": 5, "TotTax": 1, "TotOrd": 99,
                                 **audit})
        rows.insert("SOLine", {"CpnyID": cpny, "OrdNbr": ord_nbr, "LineRef": "00001", "InvtID": "WIDGET-0001",
                               "Status": "O", "QtyOrd": 2, "SlsPrice": 10, "CurySlsPrice": 10, "TotOrd": 3, **audit})
        rows.insert("SOSched", {"CpnyID": cpny, "OrdNbr": ord_nbr, "LineRef": "00001", "SchedRef": "00001",
                                "Status": "O", "QtyOrd": 2, **audit})
        if cpny != CPNY:   # an AR document binding of the other company, without its ARDoc
            rows.insert("xAMZDocument", {"AmazonOrderId": "111-0000002-9999999", "DocType": "IN", "EventKey": "ORDER",
                                         "CpnyID": cpny, "RefNbr": "IN88888"})

    gateway.db.run(lambda rows: broken(rows, CPNY, "S0001234", "40100"))
    gateway.db.run(lambda rows: broken(rows, "OTHERCO", "O0001234", "AMZSYNC"))

    code, lines, output = verify(dsn)
    assert code == 0, output
    assert "S0001234" not in output and "O0001234" not in output and "IN88888" not in output
    # the product's own order was checked, and passed
    assert "checked 1" in lines["header_total"] and "checked 1" in lines["ghost_items_on_hold"] and ours


def test_a_rule_that_cannot_run_is_an_error(gateway, dsn):
    """A database without a table a rule reads (here SOMisc) gives that rule ERROR and exit 1; the others still
    run."""
    new_order(gateway)
    sql(gateway, 'DROP TABLE "SOMisc"')

    code, lines, output = verify(dsn)
    assert code == 1, output
    assert lines["header_total"].startswith("ERROR") and "could not run" in lines["header_total"]
    assert lines["line_money"].startswith("OK") and lines["bindings_documents"].startswith("OK")

