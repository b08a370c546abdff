"""The Celery application. ``celery -A workers.app worker -Q default,amazon,sl``.

Settings are validated on import: a bad value stops the worker, beat or Flower with the variable's name.
The task modules import ``app`` from here; this module does not import them. Celery imports the modules in
``TASK_MODULES`` (``include``) when a worker or beat starts; a process that only sends tasks sends them by name.
"""

from __future__ import annotations

import sys

from celery import Celery

from integration.config import settings
from integration.errors import ConfigError
from workers import compat
from workers.config import celery_config

try:
    _settings = settings()
except ConfigError as exc:  # stop start-up with a message a person can act on
    print(f"slsync: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(78) from None

# Every module that defines tasks (a new one under workers/tasks/ goes here too; a test checks).
TASK_MODULES = ("workers.tasks.fulfillment", "workers.tasks.orders", "workers.tasks.settlements",
                "workers.tasks.system")

compat.install()   # a worker that loses Redis with messages in hand stays up (workers/compat.py)
app = Celery("slsync", include=list(TASK_MODULES))
app.conf.update(celery_config(_settings))

import beat_schedule  # noqa: E402

app.conf.beat_schedule = beat_schedule.schedule(_settings)

import workers.signals  # noqa: E402,F401
