"""The intake faces of ``integration.ingest``: the HTTP receiver (EventBridge API destinations) and the SQS poller.

They may import Celery (they enqueue); ``integration.ingest`` itself never does.
"""
