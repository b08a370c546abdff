"""GL journal batches (Batch + GLTran), as Microsoft's own ``Process_Contract_Revenue_Recognition`` writes
them (reference §4.6, §9): Module GL, BatType N, EditScrnNbr 01010, GLPostOpt D, base currency at rate 1,
``FiscYr = LEFT(PerPost, 4)``, ``PerEnt = GLSetup.PerNbr``, batch number from ``GLSetup.LastBatNbr`` under
a lock, every remaining column blank / zero / 1900-01-01.

Refused whole, before anything is written: debits not equal to credits at the currency's places (SL's
release would reject it, situation 6019), a period after the current GL period or already closed (6035),
an inactive or unknown account or subaccount.

Release policy: ``hold`` (Status H: an accountant reviews and releases), ``balanced`` (Status B: ready for
Release 01.400), ``released`` (Status U, Rlsed 1: released, only posting left, as the rev-rec proc does).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.sl import counters
from integration.sl.lookups import Lookups
from integration.sl.models import GLLine
from integration.sl.rows import Rows
from integration.sl.text import money, sl_datetime, to_decimal

RELEASE = {"hold": ("H", 0), "balanced": ("B", 0), "released": ("U", 1)}


def normalise(lines: list[GLLine], places: int) -> list[tuple[GLLine, Decimal, Decimal]]:
    """Each line with its (debit, credit) rounded; a negative amount moves to the other side."""
    out = []
    for line in lines:
        net = to_decimal(line.dr_amt or 0, places) - to_decimal(line.cr_amt or 0, places)
        if net == 0:
            continue
        out.append((line, net if net > 0 else Decimal(0), -net if net < 0 else Decimal(0)))
    return out


def check(rows: Rows, look: Lookups, lines: list[GLLine], per_post: str, release: str):
    if release not in RELEASE:
        raise ValueError(f"release must be one of {', '.join(RELEASE)}")
    missing = [f"lines[{i}].{n}" for i, line in enumerate(lines, 1) for n in ("acct", "sub") if not getattr(line, n)]
    if not lines:
        missing.append("lines")
    if not per_post:
        missing.append("per_post")
    if missing:
        raise NeedsReview("missing_field", f"GL batch is missing {', '.join(missing)}", fields=missing)
    base, ledger, current, closed = look.gl(rows)
    places = look.decimals(rows, base)
    entries = normalise(lines, places)
    debits = sum((d for _, d, _ in entries), Decimal(0))
    credits = sum((c for _, _, c in entries), Decimal(0))
    if debits != credits or not entries:
        raise NeedsReview("unbalanced_batch", f"GL batch does not balance: debits {debits}, credits {credits}",
                          fields=("lines",), details={"debits": str(debits), "credits": str(credits)})
    if len(per_post) != 6 or not per_post.isdigit():
        raise NeedsReview("bad_period", f"period {per_post!r} is not YYYYPP", fields=("per_post",))
    if per_post > current:
        raise NeedsReview("future_period", f"period {per_post} is after the current GL period {current}",
                          fields=("per_post",))
    if closed.strip() and per_post <= closed:
        raise NeedsReview("closed_period", f"period {per_post} is closed (last closed {closed})", fields=("per_post",))
    _check_active(rows, "Account", "Acct", sorted({line.acct for line, _, _ in entries}))
    _check_active(rows, "SubAcct", "Sub", sorted({line.sub for line, _, _ in entries}))
    return base, ledger, current, places, entries, debits


def _check_active(rows: Rows, table: str, column: str, values: list[str]) -> None:
    marks = ", ".join("?" for _ in values)
    active = {r[0] for r in rows.all(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IN ({marks}) AND "Active" = 1',
                                     values)}
    bad = [v for v in values if v not in active]
    if bad:
        raise NeedsReview(f"inactive_{column.lower()}", f"{table} {', '.join(bad)} unknown or inactive",
                          fields=(f"GLTran.{column}",), details={column: bad})


def post(rows: Rows, look: Lookups, cpny_id: str, lines: list[GLLine], *, per_post: str, tran_date: datetime,
         descr: str, jrnl_type: str = "AMZ", release: str = "hold", ext_ref_nbr: str = "") -> tuple[str, Decimal]:
    """Write the batch; returns (BatNbr, total debits). Everything is checked before the first write."""
    base, ledger, current, places, entries, total = check(rows, look, lines, per_post, release)
    status, rlsed = RELEASE[release]
    date = sl_datetime(tran_date)
    bat_nbr = counters.next_batch_number(rows, "GLSetup", "GL")
    amount = money(total, places)
    common = {"Module": "GL", "BatNbr": bat_nbr, "CpnyID": cpny_id, "LedgerID": ledger, "BalanceType": "A",
              "BaseCuryID": base, "CuryId": base, "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": date,
              "JrnlType": jrnl_type, "PerEnt": current, "PerPost": per_post, "Rlsed": rlsed}
    rows.insert("Batch", {**common, "Status": status, "BatType": "N", "EditScrnNbr": "01010", "GLPostOpt": "D",
                          "DateEnt": date, "Descr": descr, "CrTot": amount, "DrTot": amount, "CtrlTot": amount,
                          "CuryCrTot": amount, "CuryDrTot": amount, "CuryCtrlTot": amount,
                          "OrigCpnyID": cpny_id, "User1": ext_ref_nbr})
    trans = []
    for i, (line, dr, cr) in enumerate(entries, 1):
        trans.append({**common, "LineNbr": -32767 + i - 1, "LineId": i, "Acct": line.acct, "Sub": line.sub,
                      "DrAmt": money(dr, places), "CrAmt": money(cr, places), "CuryDrAmt": money(dr, places),
                      "CuryCrAmt": money(cr, places), "FiscYr": per_post[:4], "TranDate": date,
                      "TranDesc": line.descr or descr, "TranType": "GL", "RefNbr": line.ref_nbr,
                      "ExtRefNbr": line.ext_ref_nbr or ext_ref_nbr, "Posted": "U", "OrigCpnyID": cpny_id})
    rows.insert_many("GLTran", trans)
    return bat_nbr, total
