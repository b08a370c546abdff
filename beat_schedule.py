"""The beat schedule. Beat only starts small "find work" tasks that fan out per entity.

Every entry has ``expires`` so ticks that pile up while the workers are down are dropped, not burst.
RedBeat (``workers/config.py``) holds a lock in Redis, so a second beat started by mistake stands by.
"""

from __future__ import annotations

from integration.config import Settings


def schedule(s: Settings) -> dict:
    return {
        "heartbeat": {
            "task": "slsync.system.heartbeat",
            "schedule": s.heartbeat_seconds,
            "options": {"expires": s.heartbeat_seconds, "queue": "default"},
        },
    }
