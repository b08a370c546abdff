"""No silent skips (a pytest plugin, loaded by ``tests/conftest.py``).

A test that needs a service or a driver fails, saying what is missing; it does not skip. A skip that is genuinely
optional is declared on the test with its reason::

    @pytest.mark.optional(reason="needs SQL Server's ODBC driver, which only a deployer installs")

With ``CI`` set (``true``, ``1``, ``yes``), any other skip fails the test, so a CI run cannot pass while testing less
than it should. Outside CI, undeclared skips are listed at the end of the run. Expected failures (xfail) are
untouched.
"""

from __future__ import annotations

import os

import pytest

undeclared: list[tuple[str, str]] = []  # (test or module, reason)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def pytest_configure(config):
    config.addinivalue_line("markers", "optional(reason): the test may skip for this reason (allowed in CI too)")


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail(report, what: str) -> None:
    reason = _reason(report)
    report.outcome = "failed"
    report.longrepr = (f"{what} skipped in CI without being declared optional: {reason}\n"
                       f"Make what it needs available (make test runs scripts/ensure-test-deps.sh), or declare the "
                       f"skip with @pytest.mark.optional(reason=...) if the test is genuinely optional.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("optional") is None:
        if in_ci():
            _fail(report, item.nodeid)
        else:
            undeclared.append((item.nodeid, _reason(report)))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if report.skipped:  # a whole module skipped at import
        if in_ci():
            _fail(report, collector.nodeid)
        else:
            undeclared.append((collector.nodeid, _reason(report)))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if undeclared:
        terminalreporter.section("skipped without being declared optional (a failure when CI is set)", sep="=",
                                 yellow=True)
        for where, reason in undeclared:
            terminalreporter.line(f"{where}: {reason}")
