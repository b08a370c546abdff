"""A settlement's GL batches and their binding (xAMZSettlement + one xAMZSettlementBatch row per batch), written in
one transaction: every batch of a settlement, or none.

Re-issued settlements: the batches of the earlier version are voided while SL has not released them (Batch.Status
H or B, Rlsed 0): Status V, as SL's Journal Entry screen voids an unreleased batch. The number stays in SL's batch
sequence (no gap for an auditor to explain) and the replaced entry stays readable; GL release and posting
(pp_01400, pp_01520) pick up only Status B / U batches, so a voided one never reaches the ledger. A released batch
(Rlsed 1) is the accountant's: the settlement is held (``settlement_released``), until the person who reversed it
in SL says so (``replace_released``, ``slsync settlements post ID --replace-released``): then the released batches
are left as SL holds them (released, reversed by the person's own entry) and marked SUPERSEDED in
xAMZSettlementBatch, the unreleased ones voided as above, and the new ones written; an event records the decision.

A settlement whose amounts net to zero on every account writes no batch: it is bound (Status POSTED, BatNbr blank).

References: where SL shows a batch and its lines, each carries the settlement (within SL's widths):

=================  =========================================================================================
Batch.Descr        ``AMZ <settlement id> <start yymmdd>-<end yymmdd>`` (CHAR(30); the dates left out for an id
                   too long to hold them), e.g. ``AMZ 11800000001 260301-260314``
Batch.User1        the settlement id (CHAR(30))
Batch.User2        the marketplace(s), comma-separated (CHAR(30), cut), e.g. ``Amazon.com,Amazon.ca``
Batch.User5        the deposit date, ``YYYYMMDD`` (CHAR(10))
Batch.User7/User8  the settlement's start / end dates (SMALLDATETIME)
GLTran.TranDesc    account lines: as Batch.Descr; ``AMZ <id> payout``, ``AMZ <id> cf to|from <period>``
                   (carry-forward), ``AMZ <id> <currency> rounding`` (a foreign-currency conversion's rounding)
GLTran.ExtRefNbr   the settlement id (CHAR(15); blank for a longer id, which User1 holds)
GLTran.RefNbr      the deposit date, ``YYYYMMDD`` (CHAR(10)): what a bank reconciliation looks for
GLTran.User1/2     the settlement id / the marketplace(s), as on the batch
GLTran.User7/User8 the settlement's start / end dates
=================  =========================================================================================

A foreign-currency settlement (SL multi-currency on): the rate (``integration.sl.gl.find_rate``) is looked up in the
same transaction, before anything is voided or written; no rate: ``no_exchange_rate``, nothing written. The batches
are written in the settlement's currency with SL's Cury* fields (``integration.sl.gl``); xAMZSettlementBatch's
DrTot/CrTot are base-currency amounts, xAMZSettlement.TotalAmt the settlement's own (CuryID).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.fence import Fence
from integration.sl import gl, state
from integration.sl.lookups import Lookups
from integration.sl.models import Event
from integration.sl.rows import Rows
from integration.sl.text import sl_datetime, trim


def bound_batches(rows: Rows, settlement_id: str) -> list[dict]:
    """The settlement's current batches with SL's state of each (period, totals, Status, Rlsed)."""
    found = rows.all('SELECT s."BatNbr", s."PerPost", b."DrTot", b."CrTot", b."Status", b."Rlsed" '
                     'FROM "xAMZSettlementBatch" s LEFT JOIN "Batch" b ON b."Module" = \'GL\' AND b."BatNbr" = s."BatNbr" '
                     'WHERE s."SettlementId" = ? AND s."Status" = \'ACTIVE\' ORDER BY s."PerPost", s."BatNbr"',
                     [settlement_id])
    return [{"bat_nbr": trim(r[0]), "period": trim(r[1]), "debit": Decimal(str(r[2] or 0)),
             "credit": Decimal(str(r[3] or 0)), "status": trim(r[4] or ""), "released": int(r[5] or 0)}
            for r in found]


def _public(batches: list[dict]) -> list[dict]:
    return [{k: b[k] for k in ("bat_nbr", "period", "debit", "credit")} for b in batches]


def write(rows: Rows, look: Lookups, cpny_id: str, settlement_id: str, batches, *, checksum: str, total: Decimal,
          currency: str, release: str, marketplace: str, holds: list[tuple], fence: Fence | None,
          posting_key: str = "", replace_released: bool = False) -> dict:
    state.lock_binding(rows, "settlement", {"SettlementId": settlement_id}, fence)
    bound = state.get_settlement_binding(rows, settlement_id)
    old = bound_batches(rows, settlement_id) if bound is not None else []
    if bound is not None and bound.batch_nbr and not old:   # bound by post_gl_batch (one batch, no batch rows)
        old = [b for b in _batch_rows(rows, [trim(bound.batch_nbr)])]
    key = posting_key or checksum   # the file and what it maps to (settlements.post.posting_key)
    bound_key = (rows.scalar('SELECT "PostingKey" FROM "xAMZSettlement" WHERE "SettlementId" = ?', [settlement_id])
                 or "").strip() if bound is not None else ""
    posted_empty = bound is not None and not (bound.batch_nbr or "").strip() and trim(bound.status or "") == "POSTED"
    if bound is not None and (bound_key or (bound.checksum or "").strip()) == key and (old or posted_empty):
        return {"status": "already_posted", "batches": _public(old)}
    request = next((b.rate for b in batches if getattr(b, "rate", None) is not None), None)
    rate = gl.find_rate(rows, look, request) if request is not None else None
    released = [b["bat_nbr"] for b in old if b["released"] or b["status"] not in ("H", "B")]
    if released and not replace_released:
        raise NeedsReview("settlement_released", f"settlement {settlement_id} was re-issued but its GL batch(es) "
                          f"{', '.join(released)} are released in SL: reverse them in SL, then `slsync settlements "
                          f"post {settlement_id} --replace-released`", fields=("BatNbr",),
                          details={"batches": released, "checksum": checksum})
    for b in old:
        superseded = b["bat_nbr"] in released   # a person reversed it in SL: SL's record of it stays as it is
        if not superseded:
            rows.update("Batch", {"Status": "V"}, {"Module": "GL", "BatNbr": b["bat_nbr"]})
        rows.update("xAMZSettlementBatch", {"Status": "SUPERSEDED" if superseded else "REPLACED"},
                    {"SettlementId": settlement_id, "BatNbr": b["bat_nbr"]})
    ext = settlement_id if len(settlement_id) <= 15 else ""
    written = []
    for batch in batches:
        batch_fields, tran_fields = reference_fields(settlement_id, marketplace, getattr(batch, "references", None))
        descr = getattr(batch, "descr", "") or (batch.lines[0].descr[:30] if batch.lines else settlement_id)
        bat_nbr, debit = gl.post(rows, look, cpny_id, batch.lines, per_post=batch.period, tran_date=batch.tran_date,
                                 descr=descr, release=release, ext_ref_nbr=ext, rate=rate,
                                 batch_fields=batch_fields, tran_fields=tran_fields)
        rows.insert("xAMZSettlementBatch", {"SettlementId": settlement_id, "BatNbr": bat_nbr, "PerPost": batch.period,
                                            "DrTot": debit, "CrTot": debit, "Status": "ACTIVE",
                                            "CreatedAt": datetime.now()})
        written.append({"bat_nbr": bat_nbr, "period": batch.period, "debit": debit, "credit": debit,
                        **({"currency": rate.cury_id, "cury_debit": batch.debit, "cury_credit": batch.credit}
                           if rate is not None else {})})
    values = {"CpnyID": cpny_id, "Module": "GL", "BatNbr": written[0]["bat_nbr"] if written else "",
              "CuryID": currency, "TotalAmt": total, "LineCount": sum(len(b.lines) for b in batches),
              "FileChecksum": checksum, "PostingKey": key, "Status": "POSTED", "PostedAt": datetime.now(), **state.fence_values(fence)}
    if bound is None:
        rows.insert("xAMZSettlement", {"SettlementId": settlement_id, **values})
    else:
        rows.update("xAMZSettlement", values, {"SettlementId": settlement_id})
    hold_ids = []
    for key, reason, message, payload in holds:
        existing = state.open_hold_for(rows, "settlement", key, reason)
        hold_ids.append(int(existing) if existing is not None else
                        state.create_hold(rows, "settlement", key, reason, message, payload))
    replaced = [b["bat_nbr"] for b in old]
    state.record_event(rows, Event("settlement", settlement_id, "settlement_replaced" if old else "settlement_posted",
                                   detail={"batches": [b["bat_nbr"] for b in written], "replaced": replaced,
                                           "superseded": released, "total": str(total), "holds": hold_ids}))
    return {"status": "replaced" if old else "posted", "batches": written, "replaced": replaced,
            "superseded": released, "holds": hold_ids, **({"rate": rate.as_dict()} if rate is not None else {})}


def reference_fields(settlement_id: str, marketplace: str, refs: dict | None) -> tuple[dict, dict]:
    """(Batch columns, GLTran columns) holding the settlement's references (the module docstring's table)."""
    refs = refs or {}
    common = {"User1": settlement_id[:30], "User2": (refs.get("marketplaces") or marketplace)[:30]}
    for column, key in (("User7", "start"), ("User8", "end")):
        if refs.get(key) is not None:
            common[column] = sl_datetime(refs[key])
    deposit = refs.get("deposit_date")
    day = deposit.strftime("%Y%m%d") if deposit is not None else ""
    return {**common, "User5": day}, {**common, "RefNbr": day}


def _batch_rows(rows: Rows, bat_nbrs: list[str]) -> list[dict]:
    out = []
    for bat_nbr in bat_nbrs:
        r = rows.one('SELECT "PerPost", "DrTot", "CrTot", "Status", "Rlsed" FROM "Batch" WHERE "Module" = \'GL\' '
                     'AND "BatNbr" = ?', [bat_nbr])
        if r is not None:
            out.append({"bat_nbr": bat_nbr, "period": trim(r[0]), "debit": Decimal(str(r[1])),
                        "credit": Decimal(str(r[2])), "status": trim(r[3]), "released": int(r[4] or 0)})
    return out


def gl_currency(rows: Rows) -> tuple[str, bool]:
    """(GLSetup.BaseCuryId, multi-currency on: GLSetup.MCActive)."""
    row = rows.one('SELECT "BaseCuryId", "MCActive" FROM "GLSetup"')
    if row is None:
        raise NeedsReview("missing_setup", "GLSetup has no row", fields=("GLSetup",))
    return trim(row[0]), bool(int(row[1] or 0))


def sales_tax_accounts(rows: Rows) -> dict[str, tuple[str, str]]:
    """SalesTax TaxId -> (SlsTaxAcct, SlsTaxSub): where the order side books each tax."""
    return {trim(r[0]): (trim(r[1]), trim(r[2]))
            for r in rows.all('SELECT "TaxId", "SlsTaxAcct", "SlsTaxSub" FROM "SalesTax"')}
