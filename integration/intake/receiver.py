"""The HTTP receiver for EventBridge API destinations: ``POST /notifications`` and ``GET /health``, served by waitress.

POST answers 2xx only once ``ingest`` accepted the notification (enqueued, coalesced, recorded, held or a known
duplicate); on any failure it answers 503 so the sender retries. 401 without the API key (compared in constant
time), 413 over the size limit, 400 for a body that is not JSON or is nested deeper than ``ingest.MAX_DEPTH`` (a
poison body must not be retried): nothing is enqueued for any of them. A notification that parses but cannot be
acted on (a schema failure, an order id that is not Amazon's) is held and answered 200: accepted, not retried.
Bodies, keys and buyer data never reach the log.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading

from integration.ingest import Malformed, ingest

log = logging.getLogger("slsync.intake")


def celery_enqueue(task_name: str, args: list, queue: str) -> None:
    """Send a task by name on the product's broker (the face may import Celery; ingest may not)."""
    from workers.app import app

    app.send_task(task_name, args=args, queue=queue)


def _reply(start_response, status: str, body: dict, extra: list | None = None) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + (extra or []))
    return [data]


class Receiver:
    """A WSGI application; ``ingest_fn`` and ``enqueue`` are swappable for tests."""

    def __init__(self, *, api_key: str, header: str = "x-api-key", max_body: int = 256 * 1024,
                 enqueue=celery_enqueue, ingest_fn=ingest, redis=None):
        self.api_key = api_key.encode()
        self.header = "HTTP_" + header.upper().replace("-", "_")
        self.max_body = max_body
        self.enqueue = enqueue
        self.ingest = ingest_fn
        self.redis = redis

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") == "/health":
            return self.health(start_response)
        if path.rstrip("/") != "/notifications":
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"error": "POST only"}, [("Allow", "POST")])
        if not self.authorised(environ):
            return _reply(start_response, "401 Unauthorized", {"error": "missing or wrong API key"})
        body = self.body(environ)
        if body is None:
            return _reply(start_response, "413 Content Too Large", {"error": f"body over {self.max_body} bytes"})
        try:
            result = self.ingest(body, source="http", enqueue=self.enqueue)
        except Malformed as exc:
            return _reply(start_response, "400 Bad Request", {"error": str(exc)})
        except Exception as exc:  # not accepted: the sender retries (EventBridge retries 5xx)
            log.error("notification not accepted: %s: %s", type(exc).__name__, str(exc)[:200])
            return _reply(start_response, "503 Service Unavailable", {"error": "not accepted, retry"},
                          [("Retry-After", "5")])
        log.info("notification %s %s %s", result.notification_id, result.type, result.status)
        return _reply(start_response, "200 OK", {"status": result.status, "notificationId": result.notification_id})

    def authorised(self, environ) -> bool:
        if not self.api_key:
            return True  # only allowed on loopback in the sandbox (see serve)
        given = environ.get(self.header, "").encode()
        return hmac.compare_digest(given, self.api_key)

    def body(self, environ) -> bytes | None:
        """The request body, or None when it is over the limit (read no further than limit + 1)."""
        try:
            declared = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            declared = -1
        if declared > self.max_body:
            return None
        data = environ["wsgi.input"].read(declared if declared >= 0 else self.max_body + 1)
        return None if len(data) > self.max_body else data

    def health(self, start_response):
        try:
            from integration.guard import redis_client

            (self.redis or redis_client()).ping()
        except Exception as exc:
            return _reply(start_response, "503 Service Unavailable", {"status": "down", "redis": type(exc).__name__})
        return _reply(start_response, "200 OK", {"status": "ok"})


def from_settings(s=None, **kwargs) -> Receiver:
    from integration.config import settings

    s = s or settings()
    return Receiver(api_key=s.intake_api_key, header=s.intake_api_key_header, max_body=s.intake_max_body, **kwargs)


def create_server(host: str, port: int, app: Receiver, threads: int = 8):
    """A waitress server (production WSGI server); its own body limit sits above the app's so the app answers 413."""
    from waitress.server import create_server as waitress_server

    return waitress_server(app, host=host, port=port, threads=threads, max_request_body_size=app.max_body * 4 + 1024,
                           ident="slsync-intake", clear_untrusted_proxy_headers=True)


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, *, enqueue=celery_enqueue, app: Receiver | None = None,
                    threads: int = 8):
    """Start the receiver in a daemon thread (the demo, tests); ``server.close()`` stops it.

    The bound address is ``server.effective_host``/``server.effective_port`` (``port=0`` picks a free one).
    """
    server = create_server(host, port, app or from_settings(enqueue=enqueue), threads)
    threading.Thread(target=server.run, name="intake-http", daemon=True).start()
    return server
