"""No test reads outside the clone: an audit hook on ``open`` (a pytest plugin, loaded by ``tests/conftest.py``).

A user's clone has nothing beside it, so a test that opens a file there tests less in that clone than in CI, where
a reference folder may sit next to the repository. ``sys.addaudithook`` sees every ``open`` of this process (builtins,
``io``, ``os.open``, imports): a path outside the allowed places raises ``OutsideTheClone`` at the ``open`` call and
fails the test that made it, naming the path and the test, even where the code under test caught the error.

Allowed: the clone itself; the Python running the tests (its prefix, stdlib and site-packages, the venv); temporary
folders (``/tmp``, ``tempfile.gettempdir()``); ``/dev``, ``/proc``, ``/sys``; ``/etc`` (certificates, ODBC
configuration, resolver files) and ``/usr`` (system libraries and data). A place that contains the clone's parent
folder (``/tmp`` for a clone in ``/tmp/ci/main``, ``/usr`` for one in ``/usr/src/main``) never extends to the clone's
siblings: everything else under the parent folder, such as ``../shared``, is refused. The one exception is a clone
placed directly in a temporary folder (``/tmp/main``), whose siblings cannot be told from temporary files. The hook
covers this process; child processes (workers, receivers) are not audited.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = os.path.realpath(Path(__file__).resolve().parents[2])
PARENT = os.path.dirname(ROOT)
SYSTEM = ("/dev", "/proc", "/sys", "/etc", "/usr")
TEMP = tuple({os.path.realpath(p) for p in ("/tmp", tempfile.gettempdir())})


def _python_roots() -> set[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots |= {p for p in sysconfig.get_paths().values() if p}
    roots |= set(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        roots.add(site.getusersitepackages())
    return {os.path.realpath(p) for p in roots if p}


ALLOWED = tuple(sorted({os.path.realpath(p) for p in SYSTEM} | _python_roots()))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def outside_the_clone(path: str, *, clone: str = ROOT, temp: tuple[str, ...] = TEMP,
                      allowed: tuple[str, ...] = ALLOWED) -> bool:
    """Whether opening ``path`` (absolute, symlinks resolved) leaves the places a test may read."""
    if _under(path, clone):
        return False
    parent = os.path.dirname(clone)
    # beside the clone (under its parent folder), unless the clone sits directly in a temporary folder, where its
    # siblings cannot be told from temporary files
    beside = _under(path, parent) and not any(_under(t, parent) for t in temp)
    for root in temp + allowed:
        # a place that contains the clone's parent (/usr for a clone in /usr/src) does not open the clone's siblings;
        # one inside it (a virtualenv beside the clone) does open itself
        if _under(path, root) and not (beside and _under(parent, root)):
            return False
    return True


class OutsideTheClone(PermissionError):
    """A test opened a file outside the repository clone."""


_state = threading.local()
_where = {"test": "collection", "phase": ""}
violations: list[tuple[str, str, str]] = []  # (test, phase, path)


def _hook(event: str, args: tuple) -> None:
    if event != "open" or getattr(_state, "busy", False):
        return
    path = args[0] if args else None
    if path is None or isinstance(path, int):
        return
    _state.busy = True
    try:
        try:
            text = os.fsdecode(os.fspath(path))
        except TypeError:
            return
        real = os.path.realpath(text)
        if not outside_the_clone(real):
            return
        test, phase = _where["test"], _where["phase"]
        violations.append((test, phase, real))
    finally:
        _state.busy = False
    raise OutsideTheClone(f"{test} opened {real}, which is outside the repository clone {ROOT}: tests read only "
                          f"files of the repository (fixtures in tests/fixtures) or temporary files "
                          f"(see tests/support/audit.py)")


sys.addaudithook(_hook)


def _message(found: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{test} ({phase or 'collection'}) opened {path}, outside the repository clone {ROOT}"
                     for test, phase, path in found)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _where["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _where["test"], _where["phase"] = "between tests", ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    mine = [v for v in violations if v[0] == item.nodeid and v[1] == call.when]
    if mine:
        for v in mine:
            violations.remove(v)
        before = f"\n\n{report.longrepr}" if report.longrepr else ""
        report.outcome = "failed"
        report.longrepr = "a test read outside the clone:\n" + _message(mine) + before
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _where["phase"] = "setup"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    _where["phase"] = "call"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    _where["phase"] = "teardown"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if violations:  # opened outside any test (collection, session fixtures' finalizers between tests)
        terminalreporter.section("files opened outside the clone", sep="=", red=True, bold=True)
        terminalreporter.line(_message(violations))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if violations and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
