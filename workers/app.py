"""The Celery application. ``celery -A workers.app worker -Q default,amazon,sl``.

Settings are validated on import: a bad value stops the worker, beat or Flower with the variable's name.
"""

from __future__ import annotations

import sys

from celery import Celery

from integration.config import settings
from integration.errors import ConfigError
from workers.config import celery_config

try:
    _settings = settings()
except ConfigError as exc:  # stop start-up with a message a person can act on
    print(f"slsync: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(78) from None

app = Celery("slsync")
app.conf.update(celery_config(_settings))

import beat_schedule  # noqa: E402

app.conf.beat_schedule = beat_schedule.schedule(_settings)
app.autodiscover_tasks(["workers.tasks"], related_name=None, force=True)

import workers.signals  # noqa: E402,F401
import workers.tasks  # noqa: E402,F401
