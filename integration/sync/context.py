"""What a use case needs: settings, Redis, the two adapters and the mapping, built once per process."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

import redis

from integration.config import Settings, settings
from integration.guard import redis_client
from integration.mapping import Mapping, load_mapping


@dataclass
class Context:
    settings: Settings
    redis: redis.Redis
    amazon: object           # integration.amazon.AmazonClient (typed loosely so tests can swap in a double)
    sl: object               # integration.sl.SLGateway
    mapping: Mapping
    task_id: str = ""

    def for_task(self, task_id: str) -> Context:
        """The same context, with the task id that events are recorded under."""
        return replace(self, task_id=task_id or "")


def build_context(s: Settings | None = None) -> Context:
    from integration.amazon import AmazonClient
    from integration.sl import SLGateway

    s = s or settings()
    r = redis_client(s.redis_url)
    return Context(s, r, AmazonClient.from_settings(s, r), SLGateway.connect(s.sl_dsn, s.sl_cpny_id),
                   load_mapping(s.mapping_file or None))


_lock = threading.Lock()
_contexts: dict[tuple[int, int], Context] = {}


def context() -> Context:
    """This process's (and thread's) context; rebuilt after fork so no connection crosses processes."""
    k = (os.getpid(), threading.get_ident())
    ctx = _contexts.get(k)
    if ctx is None:
        with _lock:
            ctx = _contexts.setdefault(k, build_context())
    return ctx

