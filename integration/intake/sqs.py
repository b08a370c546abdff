"""The SQS poller: long polling, a message is deleted only after ``ingest`` accepted it.

A message whose ingest fails is left alone: SQS shows it again after the queue's visibility timeout (we never
shorten it). One received more than ``max_receives`` times is poison: its body goes to the dead-letter queue when
one is configured, else into a hold ``poison_message`` in SL, and only then is it deleted. A body that is not JSON
is kept as a hold ``malformed_notification`` at once (retrying cannot fix it).
"""

from __future__ import annotations

import logging
import threading

from integration.ingest import Malformed, ingest

log = logging.getLogger("slsync.intake")


def sqs_client(s=None):
    import boto3

    from integration.config import settings

    s = s or settings()
    return boto3.client("sqs", region_name=s.sqs_region, endpoint_url=s.sqs_endpoint_url or None)


class Poller:
    def __init__(self, client, queue_url: str, *, enqueue, wait_seconds: int = 20, max_receives: int = 5,
                 dead_letter_url: str = "", ingest_fn=ingest, sl=None):
        self.client, self.queue_url = client, queue_url
        self.enqueue, self.ingest = enqueue, ingest_fn
        self.wait_seconds, self.max_receives, self.dead_letter_url = wait_seconds, max_receives, dead_letter_url
        self._sl = sl
        self.counts = {"accepted": 0, "failed": 0, "poison": 0, "malformed": 0}

    @property
    def sl(self):
        if self._sl is None:
            from integration.sl import SLGateway

            self._sl = SLGateway.connect()
        return self._sl

    def poll_once(self) -> int:
        """One long-poll receive; returns how many messages came back."""
        reply = self.client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=self.wait_seconds,
                                            AttributeNames=["ApproximateReceiveCount"])
        messages = reply.get("Messages", [])
        done = [m for m in messages if self.handle(m)]
        for start in range(0, len(done), 10):
            batch = done[start:start + 10]
            result = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
            for failure in result.get("Failed", []):  # shown again later; ingest then finds it a duplicate
                log.warning("SQS delete failed for a message: %s", failure.get("Code"))
        return len(messages)

    def handle(self, message: dict) -> bool:
        """True when the message may be deleted."""
        body = message.get("Body", "")
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if receives > self.max_receives:
            try:
                self.set_aside(message, body, receives)
            except Exception as exc:  # keep it in the queue until it can be kept elsewhere
                log.error("SQS message %s could not be set aside: %s", message["MessageId"], type(exc).__name__)
                return False
            self.counts["poison"] += 1
            return True
        try:
            result = self.ingest(body, source="sqs", enqueue=self.enqueue)
        except Malformed as exc:
            self.sl.create_hold("notification", message["MessageId"][:60], "malformed_notification",
                                f"SQS message is not JSON ({exc})", {"raw": body, "message_id": message["MessageId"]})
            self.counts["malformed"] += 1
            return True
        except Exception as exc:  # left for SQS to show again after the visibility timeout
            log.error("SQS message %s not accepted (receive %d): %s: %s", message["MessageId"], receives,
                      type(exc).__name__, str(exc)[:200])
            self.counts["failed"] += 1
            return False
        log.info("notification %s %s %s", result.notification_id, result.type, result.status)
        self.counts["accepted"] += 1
        return True

    def set_aside(self, message: dict, body: str, receives: int) -> None:
        if self.dead_letter_url:
            self.client.send_message(QueueUrl=self.dead_letter_url, MessageBody=body)
            where = "dead-letter queue"
        else:
            hold = self.sl.create_hold("notification", message["MessageId"][:60], "poison_message",
                                       f"SQS message failed {receives - 1} times; set aside",
                                       {"raw": body, "message_id": message["MessageId"], "receives": receives})
            where = f"hold {hold}"
        log.warning("SQS message %s set aside after %d receives (%s)", message["MessageId"], receives, where)

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # SQS unreachable: wait a little, keep going
                log.error("SQS receive failed: %s: %s", type(exc).__name__, str(exc)[:200])
                stop.wait(2.0)
