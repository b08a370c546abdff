"""`slsync mapping check` reports every problem with the line it is on."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from integration.cli import main
from integration.errors import ConfigError
from integration.mapping import check_text, load_mapping
from integration.mapping.rules import default_mapping_text


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _broken() -> str:
    text = default_mapping_text()
    replacements = [
        ("    MFN: {none: create_order, open_order: nothing, invoiced: review, cancelled: review}",
         "    MFN: {none: create_order, open_order: nothing, invoiced: reveiw, cancelled: review}\n"
         "    FBM: {none: wait, open_order: nothing, invoiced: review, cancelled: review}"),
        ("  A1PA6795UKMFR9: AMZDE ", "  A1PA6795UKMFR9: AMZ-DEUTSCHLAND-ORDERS "),
        ("    NEXT_DAY: FEDEXON", "    NEXT_DAY: DHLEXP"),
        ("to: User8,      convert: flag", "to: User7,      convert: flag"),
        ("to: User9,      convert: date", "to: User9,      convert: text"),
        ("{from: sales_channel,", "{from: salesChannel, "),
        ("  unknown_sku: hold", "  unknown_sku: ghost"),
        ("    SAME_DAY: FEDEXON", "    SAME_DAY: FEDEXON\n    SAME_DAY: UPSGND"),
    ]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_the_built_in_default_is_clean():
    data, problems = check_text(default_mapping_text())
    assert problems == [] and data["company"] == "AMZDEMO"


def test_history_before_go_live_is_skip_or_closed():
    assert load_mapping("").history == "skip"
    closed = default_mapping_text().replace("\nhistory: skip", "\nhistory: closed", 1)
    assert check_text(closed)[1] == []
    text = default_mapping_text().replace("\nhistory: skip", "\nhistory: forget", 1)
    _, problems = check_text(text)
    assert [(p.line, p.path, p.message) for p in problems] == [
        (_line_of(text, "history: forget"), "history", "'forget' is not one of ['skip', 'closed']")]


def test_every_deliberate_error_is_found_on_its_line():
    text = _broken()
    _, problems = check_text(text)
    found = {(p.line, p.path) for p in problems}
    expected = {
        (_line_of(text, "invoiced: reveiw"), "status_table.UNSHIPPED.MFN.invoiced"),
        (_line_of(text, "FBM:"), "status_table.UNSHIPPED.FBM"),
        (_line_of(text, "AMZ-DEUTSCHLAND"), "customers.A1PA6795UKMFR9"),
        (_line_of(text, "NEXT_DAY: DHLEXP"), "shipping.service_levels.NEXT_DAY"),
        (_line_of(text, "from: is_business_order"), "order_fields.6.to"),
        (_line_of(text, "to: User9"), "order_fields.7.convert"),
        (_line_of(text, "from: salesChannel"), "order_fields.3.from"),
        (_line_of(text, "unknown_sku: ghost"), "sku.unknown_sku"),
        (_line_of(text, "SAME_DAY: UPSGND"), "shipping.service_levels.SAME_DAY"),
    }
    assert expected <= found, sorted(expected - found)
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_a_missing_status_and_an_unknown_one_are_both_reported():
    text = default_mapping_text().replace("  PENDING:   ", "  PENDNG:    ")
    _, problems = check_text(text)
    messages = " | ".join(p.message for p in problems)
    assert "status PENDING has no row" in messages and "unknown Amazon status 'PENDNG'" in messages


def test_a_channel_row_missing_is_reported():
    text = default_mapping_text().replace(
        "    AFN: {none: wait, open_order: nothing, invoiced: review, cancelled: review}\n", "", 1)
    _, problems = check_text(text)
    assert any(p.path == "status_table.UNSHIPPED" and "AFN" in p.message for p in problems)


def test_an_unknown_top_level_section_is_reported_on_its_line():
    text = default_mapping_text() + "gl_accounts:\n  fees: 6000\n"
    _, problems = check_text(text)
    assert [(p.line, p.path) for p in problems] == [(_line_of(text, "gl_accounts:"), "gl_accounts")]


def test_yaml_syntax_errors_carry_a_line():
    _, problems = check_text("version: 1\ncompany: [AMZDEMO\n")
    assert len(problems) == 1 and problems[0].line >= 2 and "not valid YAML" in problems[0].message


def test_load_mapping_refuses_a_broken_file_listing_every_problem(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(_broken())
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert str(caught.value).count("\nline ") >= 9


def test_load_mapping_uses_the_configured_file(tmp_path, monkeypatch, fresh_settings):
    path = tmp_path / "mapping.yaml"
    path.write_text(default_mapping_text().replace("company: AMZDEMO", "company: OTHERCO"))
    monkeypatch.setenv("SLSYNC_MAPPING_FILE", str(path))
    fresh_settings.cache_clear()
    assert load_mapping().company == "OTHERCO"


def test_the_check_command_exits_non_zero_and_prints_lines(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(_broken())
    result = CliRunner().invoke(main, ["mapping", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{_line_of(_broken(), 'NEXT_DAY: DHLEXP')}: shipping.service_levels.NEXT_DAY" in result.output


def test_the_check_command_passes_the_default():
    result = CliRunner().invoke(main, ["mapping", "check"], env={"SLSYNC_MAPPING_FILE": ""})
    assert result.exit_code == 0, result.output
    assert "mapping OK" in result.output


def test_the_show_command_prints_the_status_table():
    result = CliRunner().invoke(main, ["mapping", "show"], env={"SLSYNC_MAPPING_FILE": "", "COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "create_and_invoice" in result.output and "AMZUS" in result.output
