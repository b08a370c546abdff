"""No silent skips: in CI a skip fails unless the test declares it optional (tests/support/skips.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SKIPPING = '''
import pytest

def test_needs_a_service():
    pytest.skip("the service is not there")

@pytest.mark.optional(reason="only where a deployer installed the driver")
def test_declared_optional():
    pytest.skip("no driver")

@pytest.mark.xfail(reason="known")
def test_expected_to_fail():
    assert False

def test_plain():
    pass
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.support.skips",
                           "-rA", str(tmp_path / "test_skipping.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_in_ci_an_undeclared_skip_fails_and_a_declared_one_stays_a_skip(tmp_path):
    run = _run(tmp_path, "true")
    assert run.returncode == 1, run.stdout
    assert "FAILED test_skipping.py::test_needs_a_service" in run.stdout
    assert "skipped in CI without being declared optional: the service is not there" in run.stdout
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed" in run.stdout, run.stdout


def test_outside_ci_an_undeclared_skip_is_listed(tmp_path):
    run = _run(tmp_path, None)
    assert run.returncode == 0, run.stdout
    assert "skipped without being declared optional" in run.stdout
    assert "test_skipping.py::test_needs_a_service: the service is not there" in run.stdout
    assert "test_declared_optional:" not in run.stdout.split("skipped without being declared optional")[1]
