"""A redis-server of a test's own on a free port, which the test may kill, restart and flush; the machine's shared
Redis is never touched by such tests."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis

from tests.support.worker import free_port


class OwnRedis:
    def __init__(self, *extra: str):
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is not installed (make test installs it)"
        self.port = free_port()
        self.extra = extra
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, decode_responses=True)

    def start(self) -> OwnRedis:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", *self.extra], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.client().ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("own redis-server did not answer")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
