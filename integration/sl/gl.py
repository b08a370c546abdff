"""GL journal batches (Batch + GLTran), as Microsoft's own ``Process_Contract_Revenue_Recognition`` writes
them (reference §4.6, §9): Module GL, BatType N, EditScrnNbr 01010, GLPostOpt D, base currency at rate 1,
``FiscYr = LEFT(PerPost, 4)``, ``PerEnt = GLSetup.PerNbr``, batch number from ``GLSetup.LastBatNbr`` under
a lock, every remaining column blank / zero / 1900-01-01.

Refused whole, before anything is written: debits not equal to credits at the currency's places (SL's
release would reject it, situation 6019), a period after the current GL period or already closed (6035),
an inactive or unknown account or subaccount.

Release policy: ``hold`` (Status H: an accountant reviews and releases), ``balanced`` (Status B: ready for
Release 01.400), ``released`` (Status U, Rlsed 1: released, only posting left, as the rev-rec proc does).

A batch in a foreign currency (``rate``, SL multi-currency on): the lines are amounts in that currency (``Cury*``
columns, at Currncy.DecPl of that currency) and each base amount is the line's converted at the rate (``MultDiv`` M:
times ``Rate``, D: divided by it, as SL's ``CuryRate`` rows say) and rounded to the base currency's places. The
batch balances in the foreign currency before conversion; what the per-line rounding leaves in the base currency
goes to one rounding line (base amount only, Cury amounts 0, as SL writes its RGOL lines) on ``rate.rounding`` or,
without one, the currency's realised gain (a credit) or loss (a debit) account (Currncy.RealGainAcct/RealLossAcct).
So the batch balances to the cent in both currencies. The batch and every GLTran carry CuryId, CuryRate,
CuryMultDiv, CuryRateType and CuryEffDate (the rate's effective date) of the rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from integration.errors import NeedsReview
from integration.sl import counters
from integration.sl.lookups import Lookups
from integration.sl.models import GLLine
from integration.sl.rows import Rows
from integration.sl.text import money, sl_datetime, to_decimal, trim

RELEASE = {"hold": ("H", 0), "balanced": ("B", 0), "released": ("U", 1)}


@dataclass(frozen=True)
class RateRequest:
    """Which rate a foreign-currency batch wants: ``cury_id`` to SL's base currency, of ``rate_type`` (blank: SL's
    default for the GL, CMSetup.GLRtTpDflt), effective on or before ``on``; ``rounding`` (Acct, Sub) for the
    conversion's rounding line (None: the currency's Currncy RealGain/RealLoss account)."""

    cury_id: str
    rate_type: str
    on: datetime
    rounding: tuple[str, str] | None = None
    rounding_descr: str = ""       # the rounding line's TranDesc (blank: "<currency> conversion rounding")


@dataclass(frozen=True)
class Rate:
    """One SL ``CuryRate`` row, as a batch uses it."""

    cury_id: str
    rate: Decimal
    mult_div: str                  # M: base = foreign * rate; D: base = foreign / rate
    rate_type: str
    eff_date: datetime
    rounding: tuple[str, str] | None = None
    rounding_descr: str = ""

    def to_base(self, amount: Decimal, places: int) -> Decimal:
        value = amount / self.rate if self.mult_div == "D" else amount * self.rate
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict:
        return {"currency": self.cury_id, "rate": str(self.rate), "mult_div": self.mult_div,
                "rate_type": self.rate_type, "eff_date": self.eff_date.date().isoformat()}


def find_rate(rows: Rows, look: Lookups, request: RateRequest) -> Rate:
    """SL's rate for ``request`` as SL's own procedures pick it (CuryRate_ID_Date, SCM_10990_GetCuryRate): FromCuryId
    = the currency, ToCuryId = GLSetup.BaseCuryId, RateType, the latest EffDate on or before the date. None found:
    ``NeedsReview`` ``no_exchange_rate`` naming the currency, rate type and date."""
    base = trim(look.gl(rows)[0])
    rate_type = request.rate_type.strip()
    if not rate_type:
        rate_type = trim(rows.scalar('SELECT "GLRtTpDflt" FROM "CMSetup"') or "")
    on = sl_datetime(request.on)
    found = None
    if rate_type:
        found = rows.one('SELECT "Rate", "MultDiv", "EffDate" FROM "CuryRate" WHERE "FromCuryId" = ? '
                         'AND "ToCuryId" = ? AND "RateType" = ? AND "EffDate" <= ? ORDER BY "EffDate" DESC',
                         [request.cury_id, base, rate_type, on])
    if found is None or not found[0]:
        raise NeedsReview("no_exchange_rate", f"SL has no {rate_type or '(no rate type: CMSetup.GLRtTpDflt is blank)'} "
                          f"rate from {request.cury_id} to {base} effective on or before {on.date().isoformat()} "
                          f"(CuryRate)", fields=("CuryRate",),
                          details={"currency": request.cury_id, "base": base, "rate_type": rate_type,
                                   "date": on.date().isoformat()})
    eff = found[2] if isinstance(found[2], datetime) else datetime.fromisoformat(str(found[2]))
    return Rate(request.cury_id, Decimal(str(found[0])), trim(found[1]) or "M", rate_type, eff, request.rounding,
                request.rounding_descr)


def normalise(lines: list[GLLine], places: int) -> list[tuple[GLLine, Decimal, Decimal]]:
    """Each line with its (debit, credit) rounded; a negative amount moves to the other side."""
    out = []
    for line in lines:
        net = to_decimal(line.dr_amt or 0, places) - to_decimal(line.cr_amt or 0, places)
        if net == 0:
            continue
        out.append((line, net if net > 0 else Decimal(0), -net if net < 0 else Decimal(0)))
    return out


def check(rows: Rows, look: Lookups, lines: list[GLLine], per_post: str, release: str, cury_id: str = ""):
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
    places = look.decimals(rows, cury_id or base)
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


def convert(rows: Rows, entries: list[tuple[GLLine, Decimal, Decimal]], rate: Rate,
            base_places: int) -> list[tuple[GLLine, Decimal, Decimal, Decimal, Decimal]]:
    """(line, debit, credit, base debit, base credit) per entry, plus the rounding line if the base amounts do not
    balance (see the module docstring)."""
    out = [(line, dr, cr, rate.to_base(dr, base_places), rate.to_base(cr, base_places)) for line, dr, cr in entries]
    diff = sum((e[3] for e in out), Decimal(0)) - sum((e[4] for e in out), Decimal(0))
    if diff:
        acct_sub = rate.rounding
        if acct_sub is None:   # SL's realised gain/loss account of the currency
            gain = diff > 0    # more base debits than credits: the balancing credit is a gain
            found = rows.one(f'SELECT "{"RealGainAcct" if gain else "RealLossAcct"}", '
                             f'"{"RealGainSub" if gain else "RealLossSub"}" FROM "Currncy" WHERE "CuryId" = ?',
                             [rate.cury_id])
            acct_sub = (trim(found[0]), trim(found[1])) if found is not None and trim(found[0]) else None
        if acct_sub is None:
            raise NeedsReview("no_rounding_account", f"converting {rate.cury_id} to the base currency leaves {diff} to "
                              f"round and there is no rounding account (mapping settlements.rounding, or Currncy "
                              f"RealGainAcct/RealLossAcct of {rate.cury_id})", fields=("settlements.rounding",))
        line = GLLine(acct_sub[0], acct_sub[1], descr=rate.rounding_descr or f"{rate.cury_id} conversion rounding")
        out.append((line, Decimal(0), Decimal(0), -diff if diff < 0 else Decimal(0), diff if diff > 0 else Decimal(0)))
    return out


def post(rows: Rows, look: Lookups, cpny_id: str, lines: list[GLLine], *, per_post: str, tran_date: datetime,
         descr: str, jrnl_type: str = "AMZ", release: str = "hold", ext_ref_nbr: str = "", rate: Rate | None = None,
         batch_fields: dict | None = None, tran_fields: dict | None = None) -> tuple[str, Decimal]:
    """Write the batch; returns (BatNbr, total debits in the base currency). Everything is checked before the first
    write. ``rate``: the lines are in ``rate.cury_id`` (module docstring); ``batch_fields`` / ``tran_fields``: more
    Batch / GLTran columns (references, User fields), a GLTran's own non-blank value winning."""
    base, ledger, current, places, entries, total = check(rows, look, lines, per_post, release,
                                                          rate.cury_id if rate else "")
    status, rlsed = RELEASE[release]
    date = sl_datetime(tran_date)
    if rate is None:
        base_places, cury = places, {"CuryId": base, "CuryMultDiv": "M", "CuryRate": 1, "CuryEffDate": date}
        converted = [(line, dr, cr, dr, cr) for line, dr, cr in entries]
    else:
        base_places = look.decimals(rows, base)
        cury = {"CuryId": rate.cury_id, "CuryMultDiv": rate.mult_div, "CuryRate": float(rate.rate),
                "CuryRateType": rate.rate_type, "CuryEffDate": sl_datetime(rate.eff_date)}
        converted = convert(rows, entries, rate, base_places)
        _check_active(rows, "Account", "Acct", sorted({e[0].acct for e in converted}))
        _check_active(rows, "SubAcct", "Sub", sorted({e[0].sub for e in converted}))
    base_total = sum((e[3] for e in converted), Decimal(0))
    bat_nbr = counters.next_batch_number(rows, "GLSetup", "GL")
    amount, cury_amount = money(base_total, base_places), money(total, places)
    common = {"Module": "GL", "BatNbr": bat_nbr, "CpnyID": cpny_id, "LedgerID": ledger, "BalanceType": "A",
              "BaseCuryID": base, **cury, "JrnlType": jrnl_type, "PerEnt": current, "PerPost": per_post,
              "Rlsed": rlsed}
    rows.insert("Batch", {**common, "Status": status, "BatType": "N", "EditScrnNbr": "01010", "GLPostOpt": "D",
                          "DateEnt": date, "Descr": descr, "CrTot": amount, "DrTot": amount, "CtrlTot": amount,
                          "CuryCrTot": cury_amount, "CuryDrTot": cury_amount, "CuryCtrlTot": cury_amount,
                          "OrigCpnyID": cpny_id, "User1": ext_ref_nbr, **(batch_fields or {})})
    trans = []
    for i, (line, dr, cr, base_dr, base_cr) in enumerate(converted, 1):
        tran = {**common, "LineNbr": -32767 + i - 1, "LineId": i, "Acct": line.acct, "Sub": line.sub,
                "DrAmt": money(base_dr, base_places), "CrAmt": money(base_cr, base_places),
                "CuryDrAmt": money(dr, places), "CuryCrAmt": money(cr, places), "FiscYr": per_post[:4],
                "TranDate": date, "TranDesc": line.descr or descr, "TranType": "GL", "RefNbr": line.ref_nbr,
                "ExtRefNbr": line.ext_ref_nbr or ext_ref_nbr, "Posted": "U", "OrigCpnyID": cpny_id}
        for column, value in (tran_fields or {}).items():
            if not tran.get(column):
                tran[column] = value
        trans.append(tran)
    rows.insert_many("GLTran", trans)
    return bat_nbr, base_total
