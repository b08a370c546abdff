"""Worker signals: task context on every log line, secret redaction on every handler."""

from __future__ import annotations

from celery import signals

from integration import logs


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _install_filters(logger=None, **_):
    for handler in logger.handlers if logger is not None else []:
        logs.install(handler)
    logs.install()


@signals.worker_ready.connect
@signals.beat_init.connect
def _check_redis(**_):
    """A Redis that may evict keys would lose queued work silently: say so at start-up."""
    from integration.config import settings
    from integration.guard.health import warn_on_eviction

    s = settings()
    for url in {s.broker_url, s.redis_url}:
        warn_on_eviction(url)


@signals.task_prerun.connect
def _enter_task(task_id=None, task=None, **_):
    logs.task_context.set((task.name if task else "-", task_id or "-"))


@signals.task_postrun.connect
def _leave_task(**_):
    logs.task_context.set(("-", "-"))
