"""Thin task modules, one per flow. Importing this package registers every task with the app."""

from workers.tasks import fulfillment, orders, system  # noqa: F401
