"""Use cases, one module per flow. Each function takes a ``Context`` and plain values and returns what
happened (and, where work fans out, what should be enqueued); none of them imports Celery."""
