"""No test reads outside the clone: the audit hook on open (tests/support/audit.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support import audit

ROOT = Path(audit.ROOT)


def test_a_file_beside_the_clone_is_refused_and_fails_the_test_that_opened_it(request):
    probe = os.path.realpath(os.path.join(audit.PARENT, "slsync-audit-probe", "notes.txt"))
    with pytest.raises(audit.OutsideTheClone, match="outside the repository clone"):
        open(probe)
    mine = [v for v in audit.violations if v[2] == probe]
    assert [(test, phase) for test, phase, _ in mine] == [(request.node.nodeid, "call")]
    for v in mine:  # provoked on purpose: this test must not fail for it
        audit.violations.remove(v)


def test_the_clone_python_and_temporary_files_may_be_opened():
    allowed = [str(ROOT / "README.md"), str(ROOT / "tests" / "fixtures"), os.path.join(tempfile.gettempdir(), "x"),
               "/tmp/slsync-x.log", os.path.realpath(os.__file__), "/etc/ssl/certs/ca-certificates.crt",
               "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so", "/dev/null", "/proc/self/status"]
    assert [p for p in allowed if audit.outside_the_clone(os.path.realpath(p))] == []
    refused = [os.path.join(audit.PARENT, "shared", "reference", "README.md"), os.path.join(audit.PARENT, "x"),
               "/var/lib/slsync/x", "/opt/elsewhere/x"]
    assert [p for p in refused if not audit.outside_the_clone(p)] == []
