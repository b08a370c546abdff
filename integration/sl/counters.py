"""SL's next-number counters, taken under a row lock in the caller's transaction.

Sales orders imitate ``DMG_NextOrdNbr`` (SL's own procedure; reference §5.1): the SOType row is read
with an update lock (the ``OrdNbrType`` row when the type shares another's counter), the prefix tokens
``&cu`` / ``&da`` are substituted, the number keeps the width of ``LastOrdNbr`` (minimum 3) with the
prefix cut so the whole stays within 10 characters, numbers already used in SOHeader are skipped, and
``LastOrdNbr`` is written back. On SQL Server, where the database has ``DMG_NextOrdNbr``, we call it.

Batch numbers imitate ``pp_NextGLBatNbr`` / ``Process_Contract_Revenue_Recognition``: lock the setup
row, increment keeping the width, skip numbers Batch already holds for the module, write it back.
Because the lock is held until our transaction commits, a rolled-back document leaves no gap.
"""

from __future__ import annotations

from datetime import datetime

from integration.errors import NeedsReview
from integration.sl.rows import Rows
from integration.sl.text import next_number

MAX_ORDNBR = 10   # DMG_NextOrdNbr keeps the whole number within 10 characters (OrdNbr is CHAR(15))
_HAS_PROC: dict[int, bool] = {}


def next_order_number(rows: Rows, cpny_id: str, sotype_id: str, cust_id: str, doc_date: datetime) -> str:
    if rows.dialect.name == "mssql" and _has_dmg_next_ord_nbr(rows):
        return _dmg_next_ord_nbr(rows, cpny_id, sotype_id, cust_id, doc_date)
    row = rows.lock("SOType", ["OrdNbrPrefix", "OrdNbrType", "LastOrdNbr"],
                    {"CpnyID": cpny_id, "SOTypeID": sotype_id})
    if row is None:
        raise NeedsReview("unknown_order_type", f"SOType {sotype_id!r} does not exist for company {cpny_id!r}",
                          fields=("SOTypeID",))
    prefix, counter_type, last = row
    counter_type = counter_type or sotype_id
    if counter_type != sotype_id:
        shared = rows.lock("SOType", ["LastOrdNbr"], {"CpnyID": cpny_id, "SOTypeID": counter_type})
        last = shared[0] if shared else last
    prefix = prefix.replace("&cu", cust_id.strip()).replace("&da", doc_date.strftime("%y%m%d"))
    number, width = next_number(last)
    prefix = prefix[: max(0, MAX_ORDNBR - width)]
    for _ in range(10 ** min(width, 6)):
        if len(str(number)) > width:
            number = 1   # the counter wraps, as DMG_NextOrdNbr's does
        candidate = prefix + str(number).zfill(width)
        used = rows.scalar('SELECT 1 FROM "SOHeader" WHERE "CpnyID" = ? AND "OrdNbr" = ?', [cpny_id, candidate])
        if not used:
            rows.update("SOType", {"LastOrdNbr": str(number).zfill(width)},
                        {"CpnyID": cpny_id, "SOTypeID": counter_type})
            return candidate
        number += 1
    raise NeedsReview("order_numbers_exhausted", f"every order number of SOType {sotype_id} is used",
                      fields=("SOType.LastOrdNbr",))


def _has_dmg_next_ord_nbr(rows: Rows) -> bool:
    key = id(rows.conn)
    if key not in _HAS_PROC:
        _HAS_PROC[key] = bool(rows.scalar("SELECT CASE WHEN OBJECT_ID('dbo.DMG_NextOrdNbr') IS NULL THEN 0 ELSE 1 END"))
    return _HAS_PROC[key]


def _dmg_next_ord_nbr(rows: Rows, cpny_id, sotype_id, cust_id, doc_date) -> str:
    # Its BEGIN TRAN nests inside ours, so the SOType lock is held until we commit.
    sql = ("SET NOCOUNT ON; DECLARE @n CHAR(15); "
           "EXEC dbo.DMG_NextOrdNbr ?, ?, ?, ?, ?, ?, @n OUTPUT; SELECT @n")
    number = rows.scalar(sql, [cpny_id, sotype_id, cust_id, doc_date, "", "AMZSYNC"])
    if not number:
        raise NeedsReview("order_numbers_exhausted", f"DMG_NextOrdNbr returned no number for {sotype_id}",
                          fields=("SOType.LastOrdNbr",))
    return number


def next_batch_number(rows: Rows, setup_table: str, module: str, column: str = "LastBatNbr") -> str:
    """The next batch number of ``module`` from ``<setup_table>.<column>`` (GLSetup, ARSetup, INSetup); a number
    a Batch of the module holds is skipped, and for IN one that INTran rows hold (transactions whose batch header
    another program never wrote must not be joined to ours)."""
    row = rows.lock(setup_table, [column, "SetupId"], {"SetupId": _setup_id(rows, setup_table)})
    if row is None:
        raise NeedsReview("missing_setup", f"{setup_table} has no row", fields=(f"{setup_table}.{column}",))
    number, width = next_number(row[0], 6)
    for _ in range(100000):
        candidate = str(number).zfill(width)
        used = rows.scalar('SELECT 1 FROM "Batch" WHERE "Module" = ? AND "BatNbr" = ?', [module, candidate]) or \
            (module == "IN" and rows.scalar('SELECT 1 FROM "INTran" WHERE "BatNbr" = ?', [candidate]))
        if not used:
            rows.update(setup_table, {column: candidate}, {"SetupId": _setup_id(rows, setup_table)})
            return candidate
        number += 1
    raise NeedsReview("batch_numbers_exhausted", f"no free {module} batch number", fields=(column,))


def next_reference(rows: Rows, setup_table: str, column: str) -> str:
    """The next document reference (ARSetup.LastRefNbr / LastCrMemoNbr), same pattern."""
    row = rows.lock(setup_table, [column, "SetupId"], {"SetupId": _setup_id(rows, setup_table)})
    if row is None:
        raise NeedsReview("missing_setup", f"{setup_table} has no row", fields=(f"{setup_table}.{column}",))
    number, width = next_number(row[0], 6)
    candidate = str(number).zfill(width)
    rows.update(setup_table, {column: candidate}, {"SetupId": _setup_id(rows, setup_table)})
    return candidate


_SETUP_IDS: dict[tuple[int, str], str] = {}


def _setup_id(rows: Rows, setup_table: str) -> str:
    """The key of a one-row setup table (SL ships it as e.g. 'GL'; read it rather than assume it)."""
    key = (id(rows.conn), setup_table)
    if key not in _SETUP_IDS:
        found = rows.scalar(f'SELECT "SetupId" FROM "{setup_table}"')
        if found is None:
            raise NeedsReview("missing_setup", f"{setup_table} has no row", fields=(setup_table,))
        _SETUP_IDS[key] = found
    return _SETUP_IDS[key]


def next_invoice_number(rows: Rows, cpny_id: str, sotype_id: str) -> str:
    """The invoice number SL's shipper screen would give an invoice of order type ``sotype_id``.

    ``ADG_SOType_InvcNbr``: with ``SOType.InvcNbrAR`` set the number is ARSetup's (``LastRefNbr``), else the order
    type's own: ``rtrim(InvcNbrPrefix) + LastInvcNbr`` of the ``InvcNbrType`` row when the type shares another's
    counter (``ADG_SOPrintQueue_RollbackNbrs`` reads the pair that way). The counter row is locked until our
    transaction ends; a number any ARDoc already holds (SL's own screens or another module) is skipped.
    """
    row = rows.lock("SOType", ["InvcNbrAR", "InvcNbrPrefix", "InvcNbrType", "LastInvcNbr"],
                    {"CpnyID": cpny_id, "SOTypeID": sotype_id})
    if row is None:
        raise NeedsReview("unknown_order_type", f"SOType {sotype_id!r} does not exist for company {cpny_id!r}",
                          fields=("SOTypeID",))
    from_ar, prefix, counter_type, last = row
    if from_ar:
        return next_ar_reference(rows, "LastRefNbr")
    counter_type = (counter_type or "").strip() or sotype_id
    if counter_type != sotype_id:
        shared = rows.lock("SOType", ["LastInvcNbr"], {"CpnyID": cpny_id, "SOTypeID": counter_type})
        last = shared[0] if shared else last
    prefix = (prefix or "").strip()
    number, width = next_number(last, 6)
    for _ in range(10 ** min(width, 6)):
        candidate = prefix + str(number).zfill(width)
        if len(candidate) > MAX_REFNBR:
            break
        if not _ref_used(rows, candidate):
            rows.update("SOType", {"LastInvcNbr": str(number).zfill(width)},
                        {"CpnyID": cpny_id, "SOTypeID": counter_type})
            return candidate
        number += 1
    raise NeedsReview("invoice_numbers_exhausted", f"no free invoice number for SOType {sotype_id}",
                      fields=("SOType.LastInvcNbr",))


MAX_REFNBR = 10   # ARDoc.RefNbr is CHAR(10)


def next_shipper_number(rows: Rows, cpny_id: str, sotype_id: str) -> str:
    """The ShipperID SL's shipper screen would give (``ADG_SOType_ShipperNbr`` / ``ADG_SOType_UpdtLastShipperNbr``):
    ``rtrim(ShipperPrefix) + LastShipperNbr + 1`` of the order type, keeping the width; a number SOShipHeader
    already holds is skipped. The SOType row stays locked until our transaction ends."""
    row = rows.lock("SOType", ["ShipperPrefix", "LastShipperNbr"], {"CpnyID": cpny_id, "SOTypeID": sotype_id})
    if row is None:
        raise NeedsReview("unknown_order_type", f"SOType {sotype_id!r} does not exist for company {cpny_id!r}",
                          fields=("SOTypeID",))
    prefix, (number, width) = (row[0] or "").strip(), next_number(row[1], 6)
    for _ in range(100000):
        candidate = prefix + str(number).zfill(width)
        if not rows.scalar('SELECT 1 FROM "SOShipHeader" WHERE "CpnyID" = ? AND "ShipperID" = ?',
                           [cpny_id, candidate]):
            rows.update("SOType", {"LastShipperNbr": str(number).zfill(width)},
                        {"CpnyID": cpny_id, "SOTypeID": sotype_id})
            return candidate
        number += 1
    raise NeedsReview("shipper_numbers_exhausted", f"no free shipper number for SOType {sotype_id}",
                      fields=("SOType.LastShipperNbr",))


def next_ar_reference(rows: Rows, column: str) -> str:
    """The next ``ARSetup.<column>`` (LastRefNbr, LastCrMemoNbr) that no ARDoc holds yet, written back."""
    row = rows.lock("ARSetup", [column, "SetupId"], {"SetupId": _setup_id(rows, "ARSetup")})
    if row is None:
        raise NeedsReview("missing_setup", "ARSetup has no row", fields=(f"ARSetup.{column}",))
    number, width = next_number(row[0], 6)
    for _ in range(100000):
        candidate = str(number).zfill(width)
        if not _ref_used(rows, candidate):
            rows.update("ARSetup", {column: candidate}, {"SetupId": _setup_id(rows, "ARSetup")})
            return candidate
        number += 1
    raise NeedsReview("ar_numbers_exhausted", f"no free AR reference from ARSetup.{column}",
                      fields=(f"ARSetup.{column}",))


def _ref_used(rows: Rows, ref_nbr: str) -> bool:
    return bool(rows.scalar('SELECT 1 FROM "ARDoc" WHERE "RefNbr" = ?', [ref_nbr]))
