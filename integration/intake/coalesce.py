"""At most one queued import per entity: later events only raise the bar.

``slsync:coalesce:<entity>:<key>`` is a hash: ``state`` and ``bar`` (highest EventTime seen, epoch ms).

- ``claim``: no marker -> mark ``pending:<token>`` (short TTL) and the caller enqueues; ``queued`` -> an import is
  waiting that has not started, so it will read Amazon after this event: raise the bar, enqueue nothing;
  ``pending`` (another intake is enqueueing right now) -> the caller enqueues too (rare, costs one extra import).
- ``confirm``: after the enqueue returned, ``pending:<token>`` -> ``queued`` (TTL 1 h). If the import already
  started and removed the marker, nothing is set. A crash between claim and enqueue leaves only ``pending``,
  which coalesces nothing and expires: a marker never claims an import that was not enqueued.
- ``started``: the import task, before it reads Amazon, removes the marker; events from then on queue another.
"""

from __future__ import annotations

import uuid

import redis

from integration.guard import keys

QUEUED_TTL_MS = 3600 * 1000    # a lost queue never blocks an entity for longer (the sweep is the net)
PENDING_TTL_MS = 30 * 1000

_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
local bar = tonumber(redis.call('HGET', KEYS[1], 'bar') or '0')
local t = tonumber(ARGV[2])
if state == 'queued' then
  if t > bar then redis.call('HSET', KEYS[1], 'bar', ARGV[2]) end
  return 'coalesced'
end
if state then return 'pending' end
redis.call('HSET', KEYS[1], 'state', 'pending:' .. ARGV[1], 'bar', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 'claimed'
"""
_CONFIRM = """
if redis.call('HGET', KEYS[1], 'state') == 'pending:' .. ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'queued')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


def claim(r: redis.Redis, entity: str, key: str, event_ms: int) -> tuple[str, str]:
    """``("claimed"|"pending"|"coalesced", token)``; enqueue unless coalesced, then ``confirm`` or ``release``."""
    token = uuid.uuid4().hex
    status = r.eval(_CLAIM, 1, keys.coalesce(entity, key), token, int(event_ms), PENDING_TTL_MS)
    return (status.decode() if isinstance(status, bytes) else status), token


def confirm(r: redis.Redis, entity: str, key: str, token: str) -> bool:
    return bool(r.eval(_CONFIRM, 1, keys.coalesce(entity, key), token, QUEUED_TTL_MS))


def release(r: redis.Redis, entity: str, key: str, token: str) -> None:
    """The enqueue failed: drop our pending mark (only ours)."""
    r.eval("if redis.call('HGET', KEYS[1], 'state') == 'pending:' .. ARGV[1] then "
           "return redis.call('DEL', KEYS[1]) end return 0", 1, keys.coalesce(entity, key), token)


def started(r: redis.Redis, entity: str, key: str) -> None:
    """The entity's import is starting: later events must queue a new one."""
    r.delete(keys.coalesce(entity, key))


def bar(r: redis.Redis, entity: str, key: str) -> int | None:
    value = r.hget(keys.coalesce(entity, key), "bar")
    return int(value) if value else None
