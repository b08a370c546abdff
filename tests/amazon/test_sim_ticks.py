"""The simulator's state module imports none of its handlers; they register their lifecycle steps with it."""

from __future__ import annotations

import subprocess
import sys

from tests.support.worker import ROOT, child_env


def test_state_imports_no_handler_and_every_step_runs_in_order():
    code = ("import sys; import integration.sandbox.amazon.state as st; "
            "print(sorted(m for m in sys.modules if m.startswith('integration.sandbox.amazon.'))); "
            "import integration.sandbox.amazon.server; "
            "print([f.__module__.rsplit('.', 1)[-1] for f in st.TICKS])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    # the catalog, the role table and the wire types it raises with are data, not handlers
    assert out[0] == str(["integration.sandbox.amazon.catalog", "integration.sandbox.amazon.roles",
                          "integration.sandbox.amazon.state", "integration.sandbox.amazon.wire"])
    assert out[1] == str(["orders", "reports", "feeds", "fba", "listings", "notifications"])
