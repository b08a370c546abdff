"""The settlement map: which SL account each (transaction type, amount type, description) goes to."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.mapping.rules import Mapping, default_mapping_text, load_mapping
from integration.mapping.schema import check_text
from integration.settlements.accounts import build_accounts
from integration.settlements.fee_codes import FEE_CODES

TAXES = {"AMZMF": ("2150", "000000"), "AMZVAT": ("2160", "000000"), "AMZJCT": ("2150", "000000")}
SUSPENSE = ("6900", "000000")


@pytest.fixture
def accounts():
    return build_accounts(load_mapping(""), "USD", tax_accounts=TAXES)


def mapping_with(settlements_yaml: str) -> Mapping:
    text = default_mapping_text().split("\nsettlements:")[0] + "\n" + settlements_yaml
    data, problems = check_text(text)
    assert problems == []
    return Mapping(data, "test")


@pytest.mark.parametrize(("description", "amount_types"), FEE_CODES)
def test_the_default_map_covers_every_known_fee_code(accounts, description, amount_types):
    for amount_type in amount_types or ("other-transaction",):
        for ttype in ("Order", "Refund", "other-transaction", "ServiceFee"):
            acct, sub, matched = accounts.account_for(ttype, amount_type, description, marketplace="Amazon.com")
            assert matched and (acct, sub) != SUSPENSE, (ttype, amount_type, description)


# What the team's samples and the simulator's settlement writer contain.
SEEN = [
    ("Order", "ItemPrice", "Principal", "1050"), ("Order", "ItemPrice", "Tax", "1050"),
    ("Order", "ItemPrice", "Shipping", "1050"), ("Order", "Promotion", "Principal", "1050"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "2150"),
    ("Order", "ItemFees", "MarketplaceFacilitatorVAT-Principal", "2150"),
    ("Order", "ItemFees", "Commission", "6100"), ("Order", "ItemFees", "FBAPerUnitFulfillmentFee", "6110"),
    ("Order", "ItemFees", "ShippingChargeback", "6110"), ("Refund", "ItemPrice", "Principal", "1050"),
    ("Refund", "ItemFees", "Commission", "6100"), ("Refund", "ItemFees", "RefundCommission", "6100"),
    ("Adjustment", "other-transaction", "Refund Reimbursal", "4095"),
    ("ServiceFee", "other-transaction", "LowInventoryLevelFee", "6140"),
    ("ServiceFee", "other-transaction", "Storage Fee", "6140"),
    ("ServiceFee", "other-transaction", "Subscription Fee", "6150"),
    ("Shipment", "Shipment-Fees", "FBAPerOrderFulfillmentFee", "6110"),
    ("Transfer", "other-transaction", "Current Reserve Amount", "1060"),
    ("Transfer", "other-transaction", "Previous Reserve Amount Balance", "1060"),
    ("other-transaction", "other-transaction", "StorageRenewalBilling", "6140"),
    ("other-transaction", "other-transaction", "Shipping label purchase", "6200"),
    ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount", "6120"),
    ("other-transaction", "other-transaction", "Subscription Fee", "6150"),
]


@pytest.mark.parametrize(("ttype", "atype", "desc", "acct"), SEEN)
def test_types_in_the_samples_and_the_simulator_have_their_account(accounts, ttype, atype, desc, acct):
    assert accounts.account_for(ttype, atype, desc, marketplace="Amazon.com") == (acct, "000000", True)


def test_facilitator_tax_clears_the_tax_account_of_the_rows_marketplace(accounts):
    assert accounts.account_for("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal",
                                marketplace="Amazon.de")[:2] == ("2160", "000000")
    assert accounts.account_for("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping",
                                marketplace="Amazon.com")[:2] == ("2150", "000000")


def test_an_unknown_combination_goes_to_suspense_unmatched(accounts):
    assert accounts.account_for("Liquidations", "Grade and Resell Fee X", "SomethingNew") == (*SUSPENSE, False)


def test_labels_match_without_case_and_with_spaces_folded(accounts):
    assert accounts.account_for("serviceFEE", "OTHER-transaction", "  storage   fee ")[:2] == ("6140", "000000")


def test_the_most_specific_rule_wins_description_first_then_amount_type_then_type():
    m = mapping_with('''settlements:
  deposit: {acct: "1070"}
  receivable: {acct: "1065"}
  suspense: {acct: "6900"}
  carry_forward: {acct: "1090"}
  rules:
    - {acct: "9000"}
    - {type: Refund, acct: "9001"}
    - {amount_type: ItemFees, acct: "9002"}
    - {type: Refund, amount_type: ItemFees, acct: "9003"}
    - {description: "*Commission", acct: "9004"}
    - {description: "Refund*", acct: "9005"}
    - {description: Commission, acct: "9006"}
    - {type: Refund, description: Commission, acct: "9007"}
    - {description: "Comm?ssion", acct: "9008"}
''')
    a = build_accounts(m)
    assert a.account_for("Order", "Other", "Anything")[0] == "9000"               # only the catch-all
    assert a.account_for("Refund", "Other", "Anything")[0] == "9001"              # type beats nothing
    assert a.account_for("Order", "ItemFees", "Anything")[0] == "9002"            # amount type beats type
    assert a.account_for("Refund", "ItemFees", "Anything")[0] == "9003"           # both beat either
    assert a.account_for("Order", "ItemFees", "Commission")[0] == "9006"          # exact beats pattern
    assert a.account_for("Refund", "ItemFees", "Commission")[0] == "9007"         # ... plus the type
    assert a.account_for("Order", "ItemFees", "VariableCommission")[0] == "9004"  # a pattern beats amount type
    # two patterns match: the one with more literal characters (*Commission: 10, Refund*: 6)
    assert a.account_for("Order", "ItemFees", "RefundCommission")[0] == "9004"
    assert a.account_for("Order", "ItemFees", "RefundFee")[0] == "9005"


def test_equal_rules_the_earlier_in_the_file_wins():
    m = mapping_with('''settlements:
  deposit: {acct: "1070"}
  receivable: {acct: "1065"}
  suspense: {acct: "6900"}
  carry_forward: {acct: "1090"}
  rules:
    - {description: "Fee*", acct: "9001"}
    - {description: "*Fee", acct: "9002"}
''')
    assert build_accounts(m).account_for("X", "Y", "FeeFee")[0] == "9001"


def test_per_currency_accounts_override_the_defaults():
    m = mapping_with('''settlements:
  deposit: {acct: "1070"}
  receivable: {acct: "1065"}
  suspense: {acct: "6900"}
  carry_forward: {acct: "1090"}
  currencies:
    CAD: {deposit: {acct: "1071", sub: "CA0000"}}
  rules:
    - {acct: "9000"}
''')
    assert build_accounts(m, "CAD").deposit == ("1071", "CA0000")
    assert build_accounts(m, "USD").deposit == ("1070", "000000")


def test_mapping_check_reports_a_bad_settlement_rule_with_its_line(tmp_path):
    text = default_mapping_text().replace(
        '    - {description: Merchant Bad Debt, acct: "6130"}',
        '    - {description: Merchant Bad Debt, acct: "6130"}\n'
        '    - {descripton: Typo, acct: "6130"}\n'
        '    - {description: merchant bad  debt, acct: "6131"}\n'
        '    - {description: Other, acct: "@vat"}')
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    lines = text.splitlines()
    typo = next(i for i, line in enumerate(lines, 1) if "descripton" in line)
    result = CliRunner().invoke(main, ["mapping", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{typo}: settlements.rules." in result.output and "'descripton' was unexpected" in result.output
    assert f"{path}:{typo + 1}: settlements.rules." in result.output and "only the first would ever match" in result.output
    assert f"{path}:{typo + 2}: settlements.rules." in result.output and "@tax" in result.output


def test_mapping_show_lists_the_settlement_rules():
    result = CliRunner().invoke(main, ["mapping", "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Settlement" in result.output and "StorageRenewalBilling" in result.output and "6140" in result.output
