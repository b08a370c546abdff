"""A fix for kombu 5.7 that keeps a worker alive when Redis goes away while it holds unacknowledged messages.

After a broker connection is lost, Celery collects the connection (which drops its client settings) and then
closes it; closing a Redis channel restores its unacknowledged messages, which needs the client settings it no
longer has: ``AttributeError: 'NoneType' object has no attribute 'hostname'`` escapes ``ignore_errors`` and the
worker stops as an unrecoverable error (seen in an outage test about 2 runs in 5). Those messages are still in
Redis's unacked set, and the restore sweep of any worker (``unacked_restore_interval``) puts them back once Redis
answers, so nothing is lost by not restoring them here: the close goes on without it.
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis

log = logging.getLogger("slsync.worker")
_close = kombu_redis.Channel.close


def _close_even_when_collected(self):
    try:
        return _close(self)
    except AttributeError:
        if getattr(self.connection, "client", None) is not None:
            raise
        log.warning("broker connection already torn down; its unacknowledged messages are restored by the next "
                    "restore sweep once Redis answers")


def install() -> None:
    if kombu_redis.Channel.close is not _close_even_when_collected:
        kombu_redis.Channel.close = _close_even_when_collected
