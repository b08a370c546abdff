"""workers.app finds every task through Celery's ``include``, without importing the task modules itself."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.worker import ROOT, child_env

# In a fresh interpreter: what importing the app pulls in, and what a worker's start-up then registers.
PROBE = """
import importlib, json, sys
app = importlib.import_module(sys.argv[1]).app
before = sorted(n for n in sys.modules if n.startswith("workers.tasks"))
app.loader.import_default_modules()  # what a worker or beat does when it starts
print(json.dumps({"before": before, "include": list(app.conf.include),
                  "tasks": sorted(n for n in app.tasks if n.startswith("slsync.")),
                  "scheduled": sorted(e["task"] for e in app.conf.beat_schedule.values())}))
"""


def _probe(app_module: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, app_module], cwd=ROOT, env=child_env(), capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_app_does_not_import_its_tasks_but_a_worker_registers_every_one():
    found = _probe("workers.app")
    assert found["before"] == [], "workers.app imported task modules (the app <-> tasks circle is back)"
    files = sorted(f"workers.tasks.{p.stem}" for p in (ROOT / "workers" / "tasks").glob("*.py") if p.stem != "__init__")
    assert sorted(found["include"]) == files, "every module under workers/tasks belongs in TASK_MODULES"
    assert set(found["scheduled"]) <= set(found["tasks"])
    assert "slsync.orders.import" in found["tasks"]  # what the intake sends by name


def test_the_test_app_registers_the_product_tasks_too():
    found = _probe("tests.support.app")
    assert "slsync.orders.import" in found["tasks"] and "slsync.test.raise_transient" in found["tasks"]
