"""Every Celery setting, in one place, with the reason for each (reference celery-reliability.md §0)."""

from __future__ import annotations

from kombu import Exchange, Queue

from integration.config import Settings

QUEUES = ("default", "amazon", "sl")


def celery_config(s: Settings) -> dict:
    transport = {
        # Longer than the longest task + retry countdown, or running messages get redelivered (§1.3).
        "visibility_timeout": s.visibility_timeout,
        # Restore unacked messages of dead workers every ~10 s rather than every ~100 s (kombu 5.7).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    return {
        "broker_url": s.broker_url,
        "broker_transport_options": transport,
        "result_backend": s.redis_url,
        "result_backend_transport_options": {"visibility_timeout": s.visibility_timeout},
        "visibility_timeout": s.visibility_timeout,  # docs: set it in all three places
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # survive a long Redis outage instead of exiting
        # Delivery: a task is acked only when it finished; a killed child's message (or one over the hard time
        # limit) is put back unchanged and runs again. Those lost runs are counted apart from ordinary retries
        # (workers/base.py, WORKER_LOST_MAX), so a poison message ends as a hold instead of looping, and a task
        # that already retried a few times is not dropped when its child is then killed (Celery's own
        # retry_on_worker_lost would count both against one max_retries and ack the message silently).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_retry_on_worker_lost": False,
        "task_acks_on_failure_or_timeout": False,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_soft_shutdown_timeout": 30,
        "worker_enable_soft_shutdown_on_idle": True,
        # JSON only: tasks take ids and plain values (DESIGN §5).
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # Results are not a system of record; state lives in SL.
        "task_ignore_result": True,
        "result_expires": 3600,
        "task_time_limit": s.task_time_limit,
        "task_soft_time_limit": max(1, s.task_time_limit - 30),
        "task_queues": [Queue(q, Exchange(q), routing_key=q) for q in QUEUES],
        "task_default_queue": "default",
        "task_default_exchange": "default",
        "task_default_routing_key": "default",
        "task_create_missing_queues": False,
        "worker_hijack_root_logger": True,
        "worker_task_log_format": "%(asctime)s %(levelname)s %(name)s [%(task_name)s %(task_id)s] %(message)s",
        "worker_log_format": "%(asctime)s %(levelname)s %(name)s [%(task_name)s %(task_id)s] %(message)s",
        "worker_send_task_events": True,  # Flower shows tasks live
        "task_send_sent_event": True,
        "timezone": "UTC",
        "enable_utc": True,
        # Beat: RedBeat keeps the schedule in Redis behind a lock, so a second beat only stands by.
        "beat_scheduler": "workers.beat:ResilientScheduler",   # RedBeat that rides out Redis outages and flushes
        "redbeat_redis_url": s.redis_url,
        "redbeat_key_prefix": "slsync:redbeat:",
        "redbeat_lock_timeout": 30,
        "beat_max_loop_interval": 5,
    }
