"""``slsync settlements``: a seller's old V1 archives imported, the figures ``show --json`` gives, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.sandbox.amazon.settlement import v1_file

ROWS = [("Order", "ItemPrice", "Principal", "27.99"), ("Order", "ItemPrice", "Shipping", "4.49"),
        ("Order", "ItemFees", "Commission", "-4.20"), ("Order", "ItemFees", "FBAPerOrderFulfillmentFee", "-1.00"),
        ("Order", "Promotion", "Principal", "-2.00"),
        ("Refund", "ItemPrice", "Principal", "-27.99"), ("Refund", "ItemFees", "Commission", "4.20"),
        ("other-transaction", "other-transaction", "Storage Fee", "-3.15")]


@pytest.fixture
def cli(env, tmp_path, monkeypatch):
    from integration.config import settings

    monkeypatch.setenv("SETTLEMENTS_DIR", str(tmp_path / "kept"))
    settings.cache_clear()

    def run(*args: str):
        return CliRunner().invoke(main, ["settlements", *args], catch_exceptions=False)
    return run


def _archive(tmp_path, columns: int, sid: str, rows=ROWS) -> tuple[str, Decimal]:
    now = datetime.now(UTC).replace(microsecond=0)   # in SL's open period
    text, total = v1_file(settlement_id=sid, start=now.replace(day=1), end=now, rows=rows, columns=columns)
    path = tmp_path / f"{sid}.txt"
    path.write_text(text)
    return str(path), total


@pytest.mark.parametrize("columns", [36, 33])
def test_an_old_v1_archive_is_imported_and_show_json_gives_its_figures(cli, tmp_path, columns):
    path, total = _archive(tmp_path, columns, f"60165029{columns}")
    assert len(open(path).readline().split("\t")) == columns
    out = cli("import", path)
    assert out.exit_code == 0, out.output
    assert "posted" in out.output
    shown = cli("show", f"60165029{columns}", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["settlement_id"] == f"60165029{columns}" and data["currency"] == "USD"
    assert Decimal(data["total"]) == total == Decimal("-1.66")
    assert data["debit"] == data["credit"] and Decimal(data["debit"]) > 0          # the batch balances
    assert data["deposit"]["side"] == "credit" and Decimal(data["deposit"]["amount"]) == total   # owed to Amazon
    by_type = {(t["transaction_type"], t["amount_type"], t["amount_description"]): Decimal(t["amount"])
               for t in data["by_type"]}
    assert by_type[("Order", "ItemPrice", "Principal")] == Decimal("27.99")
    assert by_type[("Refund", "ItemPrice", "Principal")] == Decimal("-27.99")
    assert sum(by_type.values()) == total
    listed = json.loads(cli("list", "--json").output)
    assert [(s["settlement_id"], s["status"]) for s in listed] == [(f"60165029{columns}", "POSTED")]
    # the same file again: nothing written twice
    again = cli("import", path, "--json")
    assert again.exit_code == 0 and json.loads(again.output)[0]["outcome"] == "already_posted"
    reposted = cli("post", f"60165029{columns}", "--json")       # from the kept file; SL already has it
    assert reposted.exit_code == 0 and json.loads(reposted.output)["outcome"] == "already_posted"


def test_a_file_whose_rows_do_not_add_up_is_held_with_exit_code_1(cli, tmp_path):
    path, _ = _archive(tmp_path, 36, "6016500001")
    text = open(path).read().replace("\t-3.15\t", "\t-3.14\t")     # one cent lost after the total was written
    open(path, "w").write(text)
    out = cli("import", path)
    assert out.exit_code == 1
    assert "total_mismatch" in out.output
    assert json.loads(cli("list", "--json").output)[0]["status"] == "HELD"


def test_a_users_mistakes_get_a_message_not_a_traceback(cli, tmp_path):
    missing = cli("import", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    unknown = cli("show", "999")
    assert unknown.exit_code == 1 and "not known" in unknown.output and "Traceback" not in unknown.output
    assert cli("post", "999").exit_code == 1
    garbage = tmp_path / "notes.txt"
    garbage.write_text("these are not the settlements you are looking for\n")
    held = cli("import", str(garbage))
    assert held.exit_code == 1 and "unreadable_settlement" in held.output
