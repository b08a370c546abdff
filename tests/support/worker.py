"""Real Celery workers (and beat) in subprocesses, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A child process whose combined output goes to a file we can search."""

    def __init__(self, args: list[str], env: dict[str, str], name: str):
        self.log_path = Path(tempfile.mkstemp(prefix=f"slsync-{name}-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise RuntimeError(f"process exited ({self.popen.returncode}):\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{text!r} not seen in {timeout}s:\n{self.output()[-3000:]}")

    def children(self) -> list[int]:
        import psutil

        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=5)
        self._log.close()

    def kill(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)
        self._log.close()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def start_worker(
    env: dict[str, str] | None = None,
    *,
    queues: str = "default,amazon,sl",
    concurrency: int = 2,
    pool: str = "prefork",
    app: str = "tests.support.app",
    name: str = "worker",
    ready_timeout: float = 60.0,
) -> Proc:
    args = [
        sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "-c", str(concurrency), "-P", pool,
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
        "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    proc = Proc(args, child_env(env), name)
    proc.wait_for("ready.", timeout=ready_timeout)
    return proc


def start_beat(env: dict[str, str] | None = None, *, app: str = "tests.support.app", name: str = "beat") -> Proc:
    args = [sys.executable, "-m", "celery", "-A", app, "beat", "-l", "INFO", "--max-interval", "1"]
    return Proc(args, child_env(env), name)


def wait_until(predicate, timeout: float = 60.0, what: str = "condition", interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: not reached in {timeout:g}s")


def free_port() -> int:
    """A free TCP port on loopback (for a receiver, a simulator or Flower started by a test)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
