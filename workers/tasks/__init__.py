"""Thin task modules, one per flow. ``workers.app`` lists them (``TASK_MODULES``); Celery imports them at start."""
