"""No test reads outside the clone: the audit hook on open (tests/support/audit.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support import audit

ROOT = Path(audit.ROOT)
# False only for a clone placed directly in a temporary folder (/tmp/main), whose siblings pass for temporary files
SIBLINGS_REFUSED = audit.outside_the_clone(os.path.join(audit.PARENT, "shared", "x"))
BESIDE = [os.path.join(audit.PARENT, "shared", "reference", "README.md"), os.path.join(audit.PARENT, "x")]


def test_a_file_beside_the_clone_is_refused_and_fails_the_test_that_opened_it(request):
    beside = os.path.join(audit.PARENT, "slsync-audit-probe", "notes.txt")
    probe = os.path.realpath(beside if SIBLINGS_REFUSED else "/var/lib/slsync-audit-probe/notes.txt")
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
    refused = (BESIDE if SIBLINGS_REFUSED else []) + ["/var/lib/slsync/x", "/opt/elsewhere/x"]
    assert [p for p in refused if not audit.outside_the_clone(p)] == []


@pytest.mark.parametrize(("clone", "path", "refused"), [
    ("/work/main", "/work/shared/reference/README.md", True),
    ("/work/main", "/work/main/tests/fixtures/x.json", False),
    ("/work/main", "/work/venv/lib/python3.11/site-packages/x.py", False),   # a virtualenv beside the clone
    ("/work/main", "/tmp/pytest-of-ci/x", False),
    ("/tmp/ci/main", "/tmp/ci/shared/README.md", True),                     # temp holds the parent: siblings refused
    ("/tmp/ci/main", "/tmp/slsync-worker.log", False),
    ("/tmp/main", "/tmp/slsync-worker.log", False),                         # clone directly in temp: cannot tell
    ("/usr/src/main", "/usr/src/shared/x", True),
    ("/usr/src/main", "/usr/share/zoneinfo/UTC", False),
    ("/work/main", "/home/dev/.aws/config", True),
])
def test_which_paths_a_clone_may_open(clone, path, refused):
    allowed = ("/dev", "/etc", "/proc", "/sys", "/usr", "/work/venv")
    assert audit.outside_the_clone(path, clone=clone, temp=("/tmp",), allowed=allowed) is refused
