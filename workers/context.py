"""The per-process use-case context for tasks (built lazily after fork)."""

from __future__ import annotations

from integration.sync.context import Context, context


def task_context(task) -> Context:
    return context().for_task(task.request.id or "")
