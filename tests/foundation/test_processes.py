"""Beat, Flower and the deployment file: the long-running parts start (or refuse) as documented."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from integration.cli import COMMANDS
from tests.support.worker import ROOT, Proc, child_env, free_port, start_beat


def test_two_beats_do_not_double_the_schedule(r):
    env = {"BEAT_HEARTBEAT_SECONDS": "1"}
    first = start_beat(env, name="beat1")
    try:
        first.wait_for("beat: Starting", timeout=30)
        time.sleep(1.5)
        second = start_beat(env, name="beat2")
        try:
            time.sleep(6)
            sent = r.llen("default")
        finally:
            second.stop()
    finally:
        first.stop()
    # about one heartbeat a second for ~7.5 s from the leader; two schedulers would send about twice that
    assert 4 <= sent <= 10, sent
    assert "Sending due task heartbeat" in first.output()
    assert "Sending due task heartbeat" not in second.output()


def test_flower_refuses_to_listen_publicly_without_credentials():
    proc = subprocess.run(
        [sys.executable, "-m", "integration.cli", "flower", "--address", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT, env=child_env({"FLOWER_BASIC_AUTH": ""}), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "FLOWER_BASIC_AUTH" in proc.stderr


def test_flower_with_credentials_requires_them():
    port = free_port()
    flower = Proc([sys.executable, "-m", "integration.cli", "flower", "--port", str(port)],
                  child_env({"FLOWER_BASIC_AUTH": "ops:s3cret-pass"}), "flower")
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                anonymous = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or flower.popen.poll() is not None:
                    raise AssertionError(flower.output()[-2000:]) from None
                time.sleep(0.3)
        assert anonymous.status_code == 401
        assert requests.get(f"http://127.0.0.1:{port}/", auth=("ops", "s3cret-pass"), timeout=5).status_code == 200
        assert "s3cret-pass" not in flower.output()
    finally:
        flower.stop()


def test_compose_services_run_commands_that_exist():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"redis", "beat", "flower"} <= set(services)
    assert any(name.startswith("worker") for name in services)
    assert "appendonly" in " ".join(services["redis"]["command"])
    for name, svc in services.items():
        if name == "redis":
            continue
        command = svc["command"]
        assert command[0] == "slsync", name
        assert command[1] in COMMANDS, f"{name}: slsync {command[1]} does not exist"
        assert svc.get("env_file") == ".env"
        words = [command[1]] + list(itertools.takewhile(lambda a: not a.startswith("-"), command[2:]))  # sub-commands
        help_run = subprocess.run([sys.executable, "-m", "integration.cli", *words, "--help"], cwd=ROOT,
                                  env=child_env(), capture_output=True, text=True, timeout=60)
        assert help_run.returncode == 0, help_run.stderr
        for flag in [a for a in command[2:] if a.startswith("-")]:
            assert flag in help_run.stdout, f"{name}: {flag} is not an option of slsync {' '.join(words)}"
    assert Path(ROOT / "Dockerfile").exists()


def test_compose_gives_workers_longer_to_stop_than_their_soft_shutdown_and_splits_broker_from_guard_keys():
    """A deploy must not strand running tasks until the visibility timeout (Docker's default grace is 10 s)."""
    from integration.config import load_settings
    from workers.config import celery_config

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    soft = celery_config(load_settings({}))["worker_soft_shutdown_timeout"]
    for name, svc in compose["services"].items():
        if name.startswith("worker"):
            grace = svc["stop_grace_period"]
            assert grace.endswith("s") and int(grace[:-1]) > soft + 10, (name, grace, soft)
    env = compose["x-app"]["environment"]
    assert env["BROKER_URL"].rsplit("/", 1)[0] == env["REDIS_URL"].rsplit("/", 1)[0]
    assert env["BROKER_URL"] != env["REDIS_URL"]
