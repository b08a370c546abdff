"""Thin task modules, one per flow. Importing this package registers every task with the app."""

from workers.tasks import system  # noqa: F401
