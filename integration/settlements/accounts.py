"""Settlement rows to SL accounts: the mapping's ``settlements`` rules, compiled.

``Accounts.account_for(ttype, atype, desc)`` answers (Acct, Sub, matched): the account of the most specific rule
that matches (the order is documented in ``default.yaml``: description, then amount type, then transaction type;
exact beats a pattern beats a bare ``*``; then more literal characters; then file order), or the suspense account
with ``matched`` False. Values are compared without case and with runs of spaces folded, as Amazon's labels vary
in both. ``@tax`` rules resolve to the tax clearing account of the row's marketplace (the mapping's
``marketplaces.*.tax_id`` -> SalesTax.SlsTaxAcct/SlsTaxSub, read from SL by the caller), where the order side booked
Amazon's tax, so the settlement clears it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from integration.errors import NeedsReview
from integration.mapping.schema import SETTLEMENT_ACCOUNTS, TAX_ACCOUNT

# marketplace-name values in settlement files -> marketplace id (the mapping's marketplaces keys)
MARKETPLACE_IDS = {
    "amazon.com": "ATVPDKIKX0DER", "amazon.ca": "A2EUQ1WTGCTBG2", "amazon.com.mx": "A1AM78C64UM0Y8",
    "amazon.de": "A1PA6795UKMFR9", "amazon.co.uk": "A1F83G8C2ARO7P", "amazon.fr": "A13V1IB3VIYZZH",
    "amazon.it": "APJ6JRA9NG5V4", "amazon.es": "A1RKKUPIHCS9HS", "amazon.co.jp": "A1VC38T7YXB528",
}
FIELDS = ("type", "amount_type", "description")


def fold(text: str | None) -> str:
    return " ".join(str(text or "").split()).casefold()


class Account(NamedTuple):
    acct: str
    sub: str


class Rule(NamedTuple):
    index: int                    # 0-based position in the file
    patterns: tuple[str, str, str]   # folded; * where the rule leaves the field out
    shown: tuple[str, str, str]      # as written in the file
    acct: str
    sub: str
    rank: tuple                   # larger = more specific
    regexes: tuple


def _field_rank(pattern: str) -> tuple[int, int]:
    if pattern == "*":
        return 0, 0
    literal = len(pattern.replace("*", "").replace("?", ""))
    return (2 if literal == len(pattern) else 1), literal


def _regex(pattern: str):
    """* any text, ? one character; everything else literal (no [] classes as fnmatch would have)."""
    if pattern == "*":
        return None
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body + r"\Z", re.S)


def compile_rule(index: int, rule: dict, default_sub: str) -> Rule:
    patterns = tuple(fold(rule.get(k)) or "*" for k in FIELDS)
    ranks = [_field_rank(p) for p in patterns]
    # description, then amount type, then transaction type; then literal characters; then earlier in the file
    rank = (ranks[2][0], ranks[1][0], ranks[0][0], sum(r[1] for r in ranks), -index)
    shown = tuple(str(rule.get(k) or "*") for k in FIELDS)
    return Rule(index, patterns, shown, rule["acct"], rule.get("sub") or default_sub, rank,
                tuple(_regex(p) for p in patterns))


@dataclass
class Accounts:
    """The compiled settlement map for one currency (``for_currency`` picks the overrides)."""

    rules: list[Rule]
    deposit: Account
    receivable: Account
    suspense: Account
    carry_forward: Account
    tax_accounts: dict[str, Account] | None = None   # SalesTax TaxId -> its clearing account (from SL)
    marketplace_tax_id: Callable[[str], str] = lambda marketplace_id: ""
    _cache: dict = field(default_factory=dict, repr=False)
    rounding: Account | None = None   # a foreign-currency settlement's rounding line (None: SL's Currncy RGOL)
    rate_type: str = ""               # SL's rate type for it (blank: CMSetup.GLRtTpDflt)

    def rule_for(self, ttype: str, atype: str, desc: str) -> Rule | None:
        key = (fold(ttype), fold(atype), fold(desc))
        if key not in self._cache:
            if len(self._cache) > 10000:   # odd descriptions by the thousand must not grow memory without end
                self._cache.clear()
            best = None
            for rule in self.rules:
                if all(rx is None or rx.match(v) for rx, v in zip(rule.regexes, key, strict=True)):
                    if best is None or rule.rank > best.rank:
                        best = rule
            self._cache[key] = best
        return self._cache[key]

    def account_for(self, ttype: str, atype: str, desc: str, marketplace: str = "") -> tuple[str, str, bool]:
        """(Acct, Sub, matched) for a settlement row; unmatched rows go to suspense."""
        rule = self.rule_for(ttype, atype, desc)
        if rule is None:
            return self.suspense.acct, self.suspense.sub, False
        if rule.acct == TAX_ACCOUNT:
            acct = self.tax_clearing(marketplace)
            return acct.acct, acct.sub, True
        return rule.acct, rule.sub, True

    def tax_clearing(self, marketplace: str) -> Account:
        """The account the order side booked a marketplace's facilitator tax to (``marketplace``: a
        marketplace-name such as Amazon.com, or a marketplace id; blank: the mapping's default)."""
        if self.tax_accounts is None:
            raise NeedsReview("no_tax_account", "the settlement map names @tax but no SL tax accounts were given",
                              fields=("settlements.rules",))
        tax_id = self.marketplace_tax_id(MARKETPLACE_IDS.get(fold(marketplace), marketplace))
        if tax_id not in self.tax_accounts:
            raise NeedsReview("unknown_tax_id", f"tax id {tax_id!r} (mapping marketplaces) is not in SL's SalesTax",
                              fields=("TaxID",))
        return self.tax_accounts[tax_id]


def build_accounts(mapping, currency: str = "", *, tax_accounts: dict[str, tuple[str, str]] | None = None) -> Accounts:
    """The compiled map of ``mapping`` (an ``integration.mapping.rules.Mapping``) for a settlement in ``currency``.

    ``tax_accounts``: SalesTax TaxId -> (SlsTaxAcct, SlsTaxSub), from SL (``SLGateway.sales_tax_accounts()``);
    needed only when a rule names ``@tax``."""
    section = mapping.settlements or _default_section()
    default_sub = section.get("default_sub") or "000000"
    override = ((section.get("currencies") or {}).get(currency.upper()) or {}) if currency else {}

    def account(name: str) -> Account:
        entry = override.get(name) or section[name]
        return Account(entry["acct"], entry.get("sub") or default_sub)

    taxes = {k: Account(*v) for k, v in tax_accounts.items()} if tax_accounts is not None else None
    rules = [compile_rule(i, r, default_sub) for i, r in enumerate(section.get("rules") or [])]
    rounding = override.get("rounding") or section.get("rounding")
    return Accounts(rules, *(account(n) for n in SETTLEMENT_ACCOUNTS), tax_accounts=taxes,
                    marketplace_tax_id=lambda mid: mapping.marketplace(mid).tax_id,
                    rounding=Account(rounding["acct"], rounding.get("sub") or default_sub) if rounding else None,
                    rate_type=override.get("rate_type") or section.get("rate_type") or "")


def _default_section() -> dict:
    from integration.mapping.rules import default_mapping_text
    from integration.mapping.schema import check_text

    data, _ = check_text(default_mapping_text())
    return data["settlements"]
