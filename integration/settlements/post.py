"""A settlement to SL's general ledger: one balanced GL batch per fiscal period the settlement's rows fall in.

Signs: a row's amount is money for the seller when positive (a sale: a credit to its account) and money to Amazon
when negative (a fee: a debit). Amounts are summarised per (period, Acct, Sub). The payout balances the entry: the
settlement total is debited to the deposit account (payouts in transit, reconciled against the bank), or, for a
negative settlement (the seller owes Amazon), credited to the receivable-from-Amazon account.

A settlement whose rows fall in two (or more) fiscal periods is split as A2X does ("Carried Forward Balance"), so
each period gets its own revenue and fees while the deposit still matches one entry:

- each earlier period's batch holds that period's rows and one balancing line on the carry-forward account: a debit
  of the period's net (what Amazon owes the seller for that period but has not paid yet);
- the last period's batch holds its rows, the credit to the carry-forward account of all earlier periods' nets
  (clearing it) and the deposit line for the whole total.

So every batch balances to the cent, the carry-forward account nets to zero over the settlement, and the deposit is
one line. Dates come from the rows' posted dates; ``period_of`` (SL's ``ADG_GLPeriod_GetPerFromDateOut``) names
each date's period. A row without a date belongs to the settlement's end, else its deposit date, else the latest
posted date in the file; a file with none of them is held (``undated_rows``).

Zero amounts post nothing: a 0.00 row needs no period and no line, a period whose amounts are all zero gets no batch,
a zero payout no deposit line, and a settlement netting to zero on every account (e.g. a reserve carried in and out)
writes no batch at all: it is bound as posted with no batch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from integration.errors import NeedsReview
from integration.settlements.accounts import Accounts
from integration.settlements.model import SettlementHeader, SettlementRow
from integration.sl.gl import RateRequest
from integration.sl.models import GLLine

log = logging.getLogger(__name__)
ZERO = Decimal(0)
Combo = tuple[str, str, str]   # (transaction type, amount type, amount description)


@dataclass
class PlannedBatch:
    period: str
    tran_date: datetime
    lines: list[GLLine]
    debit: Decimal
    credit: Decimal
    descr: str = ""                          # Batch.Descr (blank: the first line's)
    references: dict = field(default_factory=dict)   # settlement id, start, end, deposit date, marketplaces
    rate: RateRequest | None = None          # a foreign-currency settlement: the rate SL is to convert it at


@dataclass
class Plan:
    header: SettlementHeader
    by_account: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)  # (period, Acct, Sub) -> credit
    by_type: dict[Combo, Decimal] = field(default_factory=dict)
    unmapped: dict[Combo, Decimal] = field(default_factory=dict)
    last_date: dict[str, datetime] = field(default_factory=dict)                  # period -> latest posted date
    rows: int = 0
    sum: Decimal = ZERO
    deposit: dict = field(default_factory=dict)
    carry_forward: tuple[str, str] = ("", "")

    @property
    def periods(self) -> list[str]:
        return sorted(self.last_date)

    def batches(self, descr: str, prefix: str = "") -> list[PlannedBatch]:
        """The GL batches, one per period, each balanced (see the module docstring). ``descr``: the account lines'
        description; ``prefix`` (default ``descr``) starts the carry-forward and payout lines'."""
        prefix = prefix or descr
        out, carried, periods = [], ZERO, self.periods
        for n, period in enumerate(periods):
            lines = [GLLine(acct, sub, cr_amt=amount, descr=descr)
                     for (p, acct, sub), amount in sorted(self.by_account.items()) if p == period and amount]
            net = sum((a for (p, _, _), a in self.by_account.items() if p == period), ZERO)
            cf_acct, cf_sub = self.carry_forward
            if n < len(periods) - 1:
                if net:
                    lines.append(GLLine(cf_acct, cf_sub, dr_amt=net, descr=f"{prefix} cf to {periods[n + 1]}"))
                carried += net
            else:
                if carried:
                    lines.append(GLLine(cf_acct, cf_sub, cr_amt=carried, descr=f"{prefix} cf from {periods[0]}"))
                dep = self.deposit
                if self.header.total:
                    lines.append(GLLine(dep["acct"], dep["sub"], dr_amt=self.header.total, descr=f"{prefix} payout"))
            if not lines:   # a period whose amounts net to zero on every account: nothing to post in it
                continue
            debit = sum((_dr(line) for line in lines), ZERO)
            credit = sum((_cr(line) for line in lines), ZERO)
            out.append(PlannedBatch(period, self.last_date[period], lines, debit, credit))
        return out

    def fingerprint(self) -> str:
        """A checksum of what would be posted, for a settlement given without its file's checksum."""
        text = "|".join([self.header.settlement_id, self.header.currency, str(self.header.total)]
                        + [f"{k}={v}" for k, v in sorted(self.by_account.items())])
        return hashlib.sha256(text.encode()).hexdigest()


def _dr(line: GLLine) -> Decimal:
    net = line.dr_amt - line.cr_amt
    return net if net > 0 else ZERO


def _cr(line: GLLine) -> Decimal:
    net = line.cr_amt - line.dr_amt
    return net if net > 0 else ZERO


def _day(when: datetime | None) -> date | None:
    return when.date() if when is not None else None


def plan(header: SettlementHeader, rows: Iterable[SettlementRow], accounts: Accounts,
         period_of: Callable[[datetime], str]) -> Plan:
    """One pass over ``rows`` (kept: only sums per account, period and combination, so memory stays flat).

    Undated rows are summed per account aside and given the settlement's end (else deposit date, else the file's
    latest posted date) once the pass is over; ``NeedsReview("undated_rows")`` when there is no date at all."""
    p = Plan(header)
    periods: dict[date, str] = {}
    undated: dict[tuple[str, str], Decimal] = {}
    latest: datetime | None = None

    def period_for(when: datetime) -> str:
        day = when.date()
        if day not in periods:
            periods[day] = period_of(datetime(day.year, day.month, day.day))
        return periods[day]

    for row in rows:
        combo = (row.transaction_type, row.amount_type, row.amount_description)
        p.by_type[combo] = p.by_type.get(combo, ZERO) + row.amount
        p.rows += 1
        p.sum += row.amount
        if row.posted is not None and (latest is None or row.posted > latest):
            latest = row.posted
        if not row.amount:   # a 0.00 row moves no money: it needs no period, account or line
            continue
        acct, sub, matched = accounts.account_for(*combo, marketplace=row.marketplace_name)
        if not matched:
            p.unmapped[combo] = p.unmapped.get(combo, ZERO) + row.amount
        if row.posted is None:
            undated[(acct, sub)] = undated.get((acct, sub), ZERO) + row.amount
            continue
        period = period_for(row.posted)
        key = (period, acct, sub)
        p.by_account[key] = p.by_account.get(key, ZERO) + row.amount
        if period not in p.last_date or row.posted > p.last_date[period]:
            p.last_date[period] = row.posted
    fallback = header.end or header.deposit_date or latest
    if fallback is None and (undated or not p.last_date):
        raise NeedsReview("undated_rows", f"settlement {header.settlement_id}: "
                          f"{'rows have' if undated else 'the file has'} no posted date and the summary row has no "
                          "end or deposit date: there is no date to post them at", fields=("posted-date",))
    if undated or not p.last_date:   # undated rows, or nothing dated (a zero settlement): at the fallback date
        period = period_for(fallback)
        for (acct, sub), amount in undated.items():
            p.by_account[(period, acct, sub)] = p.by_account.get((period, acct, sub), ZERO) + amount
        if period not in p.last_date or fallback > p.last_date[period]:
            p.last_date[period] = fallback
    target = accounts.deposit if header.total >= 0 else accounts.receivable
    p.deposit = {"acct": target.acct, "sub": target.sub, "amount": header.total,
                 "side": "debit" if header.total >= 0 else "credit", "period": p.periods[-1],
                 "account": "deposit" if header.total >= 0 else "receivable"}
    p.carry_forward = (accounts.carry_forward.acct, accounts.carry_forward.sub)
    return p


@dataclass
class PostResult:
    settlement_id: str
    currency: str
    total: Decimal
    status: str                        # posted | replaced | already_posted | held
    batches: list[dict] = field(default_factory=list)    # {bat_nbr, period, debit, credit}
    deposit: dict = field(default_factory=dict)
    by_type: list[dict] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)    # BatNbrs voided by a re-issued settlement
    holds: list[int] = field(default_factory=list)
    reason: str = ""
    rate: dict = field(default_factory=dict)             # a foreign-currency settlement: the SL rate it was posted at

    def as_dict(self) -> dict:
        """JSON-ready (amounts as strings, exact)."""
        def money(d: dict) -> dict:
            return {k: str(v) if isinstance(v, Decimal) else v for k, v in d.items()}
        return {"settlement_id": self.settlement_id, "currency": self.currency, "total": str(self.total),
                "status": self.status, "reason": self.reason, "batches": [money(b) for b in self.batches],
                "debit": str(sum((Decimal(str(b["debit"])) for b in self.batches), ZERO)),
                "credit": str(sum((Decimal(str(b["credit"])) for b in self.batches), ZERO)),
                "deposit": money(self.deposit), "by_type": [money(t) for t in self.by_type],
                "unmapped": [money(t) for t in self.unmapped], "replaced": list(self.replaced),
                "holds": list(self.holds), **({"rate": dict(self.rate)} if self.rate else {})}


def _combos(table: dict[Combo, Decimal]) -> list[dict]:
    return [{"transaction_type": t, "amount_type": a, "amount_description": d, "amount": v}
            for (t, a, d), v in sorted(table.items())]


def unmapped_key(settlement_id: str, combo: Combo) -> str:
    return f"{settlement_id}:{'|'.join(combo)}"


def post_settlement(gateway, header: SettlementHeader, rows_factory: Callable[[], Iterator[SettlementRow]],
                    accounts: Accounts, *, release: str = "hold", checksum: str = "",
                    replace_released: bool = False) -> PostResult:
    """Post ``header``'s settlement (rows from ``rows_factory()``) as GL batches, all in one SL transaction with the
    xAMZSettlement binding. Idempotent by settlement id:

    - posted before from the same file mapped the same way (``posting_key``): the batches it became, nothing
      written (status ``already_posted``);
    - re-issued (another checksum) while its batches are unreleased (Status H or B): the old batches are voided
      (Status V, as SL's Journal Entry screen voids an unreleased batch: the number stays in SL's sequence and
      the replaced entry stays visible to an auditor; release and posting skip it) and the new ones written
      (``replaced``);
    - re-issued after release: a ``settlement_released`` hold, nothing written (a released batch can only be
      reversed by a person, with a reversing entry); ``replace_released`` is that person's word that they reversed
      it in SL: the released batches stay as they are, marked SUPERSEDED in xAMZSettlementBatch, and the new ones
      are written (``slsync settlements post ID --replace-released``).

    A settlement in a currency other than SL's base currency is posted in that currency with SL's multi-currency
    fields when GLSetup.MCActive is 1 and SL has a rate for it (``rate_request``; ``integration.sl.gl``), else held
    (``foreign_currency`` while multi-currency is off, ``no_exchange_rate`` naming the currency, rate type and
    date). A closed period or one after SL's current period, an inactive account: a hold naming it, nothing
    written; ``NeedsReview`` is raised after the hold is made. Rows no rule maps go to suspense and each
    combination gets a hold (entity ``settlement``, key ``<id>:<type>|<amount type>|<description>``), in the same
    transaction as the batches.
    """
    sid = header.settlement_id
    result = PostResult(sid, header.currency, header.total, "held")
    try:
        base, multi_currency = gateway.gl_currency()
        rate = None
        if header.currency.upper() != base.upper():
            # A settlement is in its marketplace's currency (A2X: "conversion happens in your accounting software").
            if not multi_currency:
                raise NeedsReview("foreign_currency", f"settlement {sid} is in {header.currency}, SL's base currency "
                                  f"is {base} and SL's multi-currency is off (GLSetup.MCActive 0)",
                                  fields=("currency",), details={"currency": header.currency, "base": base})
            rate = rate_request(header, accounts)
        planned = plan(header, rows_factory(), accounts, _cached(gateway.period_of))
        result.by_type, result.unmapped = _combos(planned.by_type), _combos(planned.unmapped)
        result.deposit = dict(planned.deposit)
        if planned.sum != header.total:
            raise NeedsReview("total_mismatch", f"settlement {sid}: rows sum to {planned.sum}, the total is "
                              f"{header.total} (difference {header.total - planned.sum})", fields=("total-amount",),
                              details={"sum": str(planned.sum), "total": str(header.total),
                                       "difference": str(header.total - planned.sum)})
        prefix, descr = descriptions(header)
        holds = [(unmapped_key(sid, combo), "unmapped_settlement_type",
                  f"settlement {sid}: no mapping rule for {' / '.join(combo)}; {amount} posted to suspense "
                  f"{accounts.suspense.acct}", {"combination": list(combo), "amount": str(amount),
                                                "suspense": list(accounts.suspense)})
                 for combo, amount in sorted(planned.unmapped.items())]
        batches = planned.batches(descr, prefix)
        for b in batches:
            b.descr, b.references, b.rate = descr, references(header), rate
        written = gateway.write_settlement(
            sid, batches, checksum=checksum or planned.fingerprint(), total=header.total,
            currency=header.currency, release=release, marketplace=",".join(header.marketplaces), holds=holds,
            posting_key=posting_key(checksum, planned), **({"replace_released": True} if replace_released else {}))
    except NeedsReview as exc:
        result.reason = exc.reason
        result.holds = [gateway.create_hold("settlement", sid, exc.reason, exc.message,
                                            {"error": exc.to_dict(), "settlement_id": sid, "checksum": checksum})]
        log.warning("settlement %s held (%s): %s", sid, exc.reason, exc.message)
        raise
    result.status, result.batches = written["status"], written["batches"]
    result.replaced, result.holds = written.get("replaced", []), written.get("holds", [])
    result.rate = written.get("rate") or {}
    return result


def rate_request(header: SettlementHeader, accounts: Accounts) -> RateRequest:
    """The rate a foreign-currency settlement is posted at: the mapping's rate type (``settlements.rate_type``;
    blank: SL's CMSetup.GLRtTpDflt), effective on or before the deposit date (else the settlement's end), the
    conversion's rounding to ``settlements.rounding`` (none: SL's Currncy realised gain/loss account)."""
    on = header.deposit_date or header.end or header.start or datetime.now()
    rounding = (accounts.rounding.acct, accounts.rounding.sub) if accounts.rounding is not None else None
    return RateRequest(header.currency.upper(), accounts.rate_type, on, rounding,
                       f"AMZ {header.settlement_id} {header.currency.upper()} rounding")


def _day6(when: datetime | None) -> str:
    return when.strftime("%y%m%d") if when is not None else ""


def descriptions(header: SettlementHeader) -> tuple[str, str]:
    """(line prefix, Batch.Descr and account lines' GLTran.TranDesc), both within SL's CHAR(30): ``AMZ <id>`` and
    ``AMZ <id> <start yymmdd>-<end yymmdd>`` (the dates left out for an id too long to hold them)."""
    prefix = f"AMZ {header.settlement_id}"[:30]
    dated = f"{prefix} {_day6(header.start)}-{_day6(header.end)}"
    return prefix, dated if len(dated) <= 30 and header.start and header.end else prefix


def references(header: SettlementHeader) -> dict:
    """The settlement's references for its batches (``integration.sl.settlement_gl`` says which column holds each)."""
    return {"settlement_id": header.settlement_id, "start": header.start, "end": header.end,
            "deposit_date": header.deposit_date, "marketplaces": ",".join(header.marketplaces)}


def posting_key(checksum: str, planned: Plan) -> str:
    """What makes a posting the same as an earlier one: the file (its checksum) AND what it maps to (the plan's
    fingerprint: amounts per account). The same file under the same mapping posts nothing again; after a mapping
    fix (an unmapped type given its account) posting it again replaces its unreleased batches, and holds released
    ones, instead of leaving the amount in suspense."""
    if not checksum:
        return planned.fingerprint()
    return hashlib.sha256(f"{checksum}:{planned.fingerprint()}".encode()).hexdigest()


def _cached(period_of: Callable[[datetime], str]) -> Callable[[datetime], str]:
    seen: dict[datetime, str] = {}

    def lookup(day: datetime) -> str:
        if day not in seen:
            seen[day] = period_of(day)
        return seen[day]
    return lookup
