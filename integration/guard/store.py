"""One Redis connection pool per process (re-made after fork, so prefork children never share sockets)."""

from __future__ import annotations

import os
import threading

import redis

_lock = threading.Lock()
_clients: dict[tuple[int, str], redis.Redis] = {}


def redis_client(url: str | None = None) -> redis.Redis:
    """The process's client for ``url`` (default: the configured REDIS_URL); str responses."""
    if url is None:
        from integration.config import settings

        url = settings().redis_url
    k = (os.getpid(), url)
    client = _clients.get(k)
    if client is None:
        with _lock:
            client = _clients.get(k)
            if client is None:
                client = redis.Redis.from_url(
                    url, decode_responses=True, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
                )
                _clients[k] = client
    return client
