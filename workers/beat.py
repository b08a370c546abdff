"""Beat that outlives Redis: RedBeat, riding out an outage, a failover and a flush without a supervisor.

RedBeat keeps the schedule and its leader lock in Redis. Out of the box an outage ends the beat process (the
lock's extend raises ConnectionError) and a flush ends it too (LockNotOwnedError), and a flushed schedule would
leave nothing to send. This scheduler treats both as a pause: it stands by, takes the lock again once Redis answers
(unless another beat has taken it meanwhile: then it stays the stand-by), and puts the static schedule back if the
flush took it.
"""

from __future__ import annotations

import logging

import redis
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, RedBeatScheduler, get_redis
from redis.exceptions import LockError

log = logging.getLogger("slsync.beat")
RETRY_SECONDS = 2.0


class ResilientScheduler(RedBeatScheduler):
    def tick(self, **kwargs):
        try:
            if self.lock_key and self.lock is None and not self._take_lock():
                return self.max_interval          # another beat leads; stand by
            return super().tick(**kwargs)
        except (redis.ConnectionError, redis.TimeoutError, LockError) as exc:
            if self.lock is not None:
                log.warning("beat: lost Redis or the leader lock (%s); standing by until Redis answers", exc)
            self.lock = None
            return RETRY_SECONDS

    def _take_lock(self) -> bool:
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        if not lock.acquire(blocking=False):
            return False
        self.lock = lock
        if not client.exists(self.app.redbeat_conf.schedule_key):
            log.warning("beat: the schedule is gone from Redis (a flush?); putting it back")
        self.setup_schedule()                     # idempotent: keeps last-run times that survived
        log.info("beat: leader lock taken again")
        return True
