"""A fix for kombu 5.7 that keeps a worker alive when Redis goes away while it holds unacknowledged messages.

After a broker connection is lost, Celery collects the connection, which drops its client settings. Anything that
then reaches Redis through one of that connection's channels (closing it restores its unacknowledged messages; a
task finishing acks its message) asks for those settings, and ``AttributeError: 'NoneType' object has no attribute
'hostname'`` escapes every handler meant for a lost connection: the worker stopped as an unrecoverable error (seen
in the outage test about 2 runs in 6). Here such a channel answers with the connection error it really is, which
kombu and Celery already handle: the close goes on, the ack is logged as failed, and the messages stay in Redis's
unacked set, which the restore sweep of any worker (``unacked_restore_interval``) puts back once Redis answers.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

_connparams = kombu_redis.Channel._connparams


def _connparams_of_a_live_connection(self, asynchronous=False):
    if self.connection.client is None:
        raise RedisConnectionError("the broker connection was torn down after it was lost")
    return _connparams(self, asynchronous=asynchronous)


def install() -> None:
    kombu_redis.Channel._connparams = _connparams_of_a_live_connection
