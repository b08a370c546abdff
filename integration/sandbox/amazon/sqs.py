"""An SQS-compatible queue service inside the simulator: where Amazon delivers the SQS-workflow notifications.

Amazon sends ORDER_CHANGE, FBA_INVENTORY_AVAILABILITY_CHANGES, REPORT_PROCESSING_FINISHED and
FEED_PROCESSING_FINISHED only to an SQS queue [reference sp-api.md §6.1]; the product reads it with its real poller
(``slsync intake sqs``, boto3). So the simulator serves the part of the SQS API boto3 uses for that, on its own
HTTP port on loopback (``sim.outbox.sqs.start()``, ``slsync amazon-sim --sqs-port``; ``SQS_ENDPOINT_URL`` is its
``url``): no AWS account, no network, no moto at run time.

Wire: the AWS JSON 1.0 protocol (``POST /``, ``X-Amz-Target: AmazonSQS.<Action>``), which botocore speaks for SQS
since 1.31; errors carry ``__type`` and the ``x-amzn-query-error`` header with the query-era code, as SQS sends them
(botocore reads the code from that header, e.g. ``AWS.SimpleQueueService.NonExistentQueue``).

Semantics, as the SQS Developer Guide describes a Standard queue:

- a received message is hidden for the visibility timeout (the queue's, or the receive's override) and shown again
  if it is not deleted; ``ApproximateReceiveCount`` counts receives;
- every receive hands out a new receipt handle; deleting with an older handle of a message received again since
  succeeds but deletes nothing ("you must provide the most recently received receipt handle ... otherwise, the
  request succeeds, but the message will not be deleted"); a handle that is not one of ours is
  ``ReceiptHandleIsInvalid``;
- ``RedrivePolicy`` ``{deadLetterTargetArn, maxReceiveCount}``: a message received ``maxReceiveCount`` times and
  not deleted moves to the dead-letter queue instead of being received again;
- long polling (``WaitTimeSeconds`` up to 20) answers as soon as a message is visible;
- times are wall-clock seconds, like the real service, whatever the simulated clock's scale.

Queue policies are enforced for one principal only, Amazon's: Amazon writes to a queue only when its ``Policy``
lets ``arn:aws:iam::437568002678:root`` call ``sqs:SendMessage`` and ``sqs:GetQueueAttributes`` (Amazon's
notifications guide, "Grant Selling Partner API permission to write to your SQS queue"; reference sp-api.md §6.1):
``createDestination`` refuses such a queue (``amazon_refusal``) and a delivery into one whose policy was changed
since is not made. The clients of this service (boto3 with any credentials) are the queue's owner.

Not modelled: FIFO queues, SSE-KMS, other principals' permissions, policy conditions, tags, message moves between
queues.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import secrets
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field

from integration.sandbox.amazon.wire import Reply, Req

ACCOUNT = "000000000000"     # the simulated AWS account that owns the queues
REGION = "us-east-1"
JSON_TYPE = "application/x-amz-json-1.0"
TARGET = "AmazonSQS."
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# Settable attributes and their ranges (SQS API Reference, SetQueueAttributes)
RANGES = {"DelaySeconds": (0, 900), "MaximumMessageSize": (1024, 1048576), "MessageRetentionPeriod": (60, 1209600),
          "ReceiveMessageWaitTimeSeconds": (0, 20), "VisibilityTimeout": (0, 43200),
          "KmsDataKeyReusePeriodSeconds": (60, 86400)}
# Amazon's principal and what a queue's policy must let it do [reference sp-api.md §6.1]
AMAZON_PRINCIPAL = "arn:aws:iam::437568002678:root"
AMAZON_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes")
FREE_FORM = {"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled"}
DEFAULTS = {"DelaySeconds": "0", "MaximumMessageSize": "262144", "MessageRetentionPeriod": "345600",
            "ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "30", "SqsManagedSseEnabled": "false"}
COMPUTED = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"}
SYSTEM = ("ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId")
# query-era code (what botocore shows as Error.Code) and HTTP status, per error shape
ERRORS = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "InvalidParameterValue": ("InvalidParameterValue", 400),
    "MissingParameter": ("MissingParameter", 400),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "UnknownOperationException": ("UnknownOperationException", 400),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
}


class SqsError(Exception):
    def __init__(self, shape: str, message: str):
        super().__init__(message)
        self.shape, self.message = shape, message

    def reply(self) -> Reply:
        code, status = ERRORS[self.shape]
        return Reply(status, {"__type": f"com.amazonaws.sqs#{self.shape}", "message": self.message},
                     headers={"x-amzn-query-error": f"{code};Sender"}, content_type=JSON_TYPE)


def _invalid(message: str) -> SqsError:
    return SqsError("InvalidParameterValue", message)


def md5_of_attributes(attributes: dict) -> str:
    """MD5OfMessageAttributes as SQS computes it: per name in order, length-prefixed name, type, transport, value."""
    out = bytearray()

    def put(data: bytes) -> None:
        out.extend(struct.pack(">I", len(data)) + data)

    for name in sorted(attributes):
        attr = attributes[name]
        put(name.encode())
        put(attr["DataType"].encode())
        if "BinaryValue" in attr:
            out.append(2)
            value = attr["BinaryValue"]
            put(base64.b64decode(value) if isinstance(value, str) else bytes(value))
        else:
            out.append(1)
            put(str(attr["StringValue"]).encode())
    return hashlib.md5(bytes(out)).hexdigest()


@dataclass
class Message:
    message_id: str
    body: str
    attributes: dict
    sent_ms: int
    visible_at: float                 # monotonic seconds
    receives: int = 0
    first_receive_ms: int = 0
    handle: str = ""                  # the nonce of the latest receive

    def system(self) -> dict:
        return {"ApproximateReceiveCount": str(self.receives), "SentTimestamp": str(self.sent_ms),
                "ApproximateFirstReceiveTimestamp": str(self.first_receive_ms), "SenderId": ACCOUNT}


@dataclass
class Queue:
    name: str
    attributes: dict
    created: int = field(default_factory=lambda: int(time.time()))
    modified: int = field(default_factory=lambda: int(time.time()))
    messages: dict[str, Message] = field(default_factory=dict)
    purged_at: float = -1e9

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.name}"

    def number(self, name: str) -> int:
        return int(self.attributes.get(name, DEFAULTS.get(name, "0")))


class SqsService:
    """The queues of one simulated AWS account; thread-safe, long polls wait on one condition."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.queues: dict[str, Queue] = {}
        self.cond = threading.Condition()
        self.closed = False
        self.url = ""
        self._server = None

    # -- used by the simulator itself (the Outbox) -----------------------------------------------------------

    def queue_for_arn(self, arn: str) -> Queue | None:
        """The queue an ARN names, when it is one of this account's (Amazon writes only to a queue that exists)."""
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or parts[4] != ACCOUNT or parts[3] != REGION:
            return None
        return self.queues.get(parts[5])

    def deliver(self, arn: str, body: str) -> bool:
        """SendMessage from Amazon's side; False when no such queue exists here or its policy refuses Amazon."""
        with self.cond:
            queue = self.queue_for_arn(arn)
            if queue is None or amazon_refusal(queue) is not None:
                return False
            self._send(queue, body, {}, None)
            return True

    def create(self, name: str, attributes: dict | None = None) -> Queue:
        with self.cond:
            return self.queues.get(name) or self._create(name, attributes or {})

    def refusal(self, arn: str) -> str | None:
        """Why Amazon could not use the queue ``arn`` names as a destination, or None (``createDestination``)."""
        if arn.endswith(".fifo"):
            return (f"{arn} is a FIFO queue: FIFO queues are not supported by Amazon's notifications; use a "
                    "Standard queue.")
        with self.cond:
            queue = self.queue_for_arn(arn)
            if queue is None:
                return f"The SQS queue {arn} does not exist or Amazon cannot access it."
            return amazon_refusal(queue)

    def close(self) -> None:
        """Wake every long poll (the simulator is stopping): they answer with no messages; stop the server."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SqsService:
        """Serve the SQS API on ``host:port`` in a thread (``port=0`` picks a free one); ``url`` is the endpoint."""
        self._server = _server(self, host, port)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="sim-sqs", daemon=True).start()
        return self

    # -- the wire ---------------------------------------------------------------------------------------------

    @staticmethod
    def addressed(req: Req) -> bool:
        return req.method == "POST" and req.headers.get("x-amz-target", "").startswith(TARGET)

    def handle(self, req: Req) -> Reply:
        action = req.headers.get("x-amz-target", "")[len(TARGET):]
        try:
            if not req.headers.get("authorization"):
                raise SqsError("MissingAuthenticationTokenException", "Request is missing Authentication Token")
            fn = getattr(self, f"_op_{action}", None)
            if fn is None:
                raise SqsError("UnknownOperationException", f"Unknown operation {action[:60]}")
            try:
                body = json.loads(req.body or b"{}")
            except ValueError:
                raise _invalid("The request body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise _invalid("The request body must be a JSON object.")
            base = f"http://{req.headers.get('host', '127.0.0.1')}"
            out = fn(body, base)
        except SqsError as exc:
            return exc.reply()
        return Reply(200, out, content_type=JSON_TYPE)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _queue(self, body: dict) -> Queue:
        url = body.get("QueueUrl")
        if not isinstance(url, str) or not url:
            raise SqsError("MissingParameter", "The request must contain the parameter QueueUrl.")
        parts = url.rstrip("/").split("/")
        queue = self.queues.get(parts[-1]) if len(parts) >= 2 and parts[-2] == ACCOUNT else None
        if queue is None:
            raise SqsError("QueueDoesNotExist", "The specified queue does not exist.")
        return queue

    def _create(self, name: str, attributes: dict) -> Queue:
        queue = Queue(name, {})
        self._set_attributes(queue, attributes)
        self.queues[name] = queue
        return queue

    def _set_attributes(self, queue: Queue, attributes: dict) -> None:
        clean = {}
        for name, value in (attributes or {}).items():
            value = str(value)
            if name in RANGES:
                low, high = RANGES[name]
                if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
                    raise SqsError("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
            elif name == "RedrivePolicy" and value:
                self._check_redrive(queue, value)
            elif name == "Policy" and value:
                try:
                    doc = json.loads(value)
                except ValueError:
                    doc = None
                if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list | dict):
                    raise SqsError("InvalidAttributeValue", "Invalid value for the parameter Policy.")
            elif name not in FREE_FORM:
                raise SqsError("InvalidAttributeName", f"Unknown Attribute {name}.")
            clean[name] = value
        queue.attributes.update(clean)
        queue.modified = int(time.time())

    def _check_redrive(self, queue: Queue, value: str) -> None:
        try:
            policy = json.loads(value)
            target, count = policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])
        except (ValueError, KeyError, TypeError):
            raise SqsError("InvalidAttributeValue", "Value for parameter RedrivePolicy is invalid. Reason: "
                           "Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.")\
                from None
        if not 1 <= count <= 1000:
            raise SqsError("InvalidAttributeValue", "Value for parameter RedrivePolicy is invalid. Reason: "
                           "Invalid value for maxReceiveCount: must be between 1 and 1000.")
        dead = self.queue_for_arn(target)
        if dead is None or dead.name == queue.name:
            raise SqsError("InvalidAttributeValue", f"Value {value} for parameter RedrivePolicy is invalid. Reason: "
                           "Dead letter target does not exist.")

    def _redrive(self, queue: Queue) -> tuple[Queue, int] | None:
        value = queue.attributes.get("RedrivePolicy")
        if not value:
            return None
        policy = json.loads(value)
        dead = self.queue_for_arn(policy["deadLetterTargetArn"])
        return (dead, int(policy["maxReceiveCount"])) if dead is not None else None

    def _send(self, queue: Queue, body, attributes, delay) -> Message:
        if not isinstance(body, str) or body == "":
            raise SqsError("MissingParameter", "The request must contain the parameter MessageBody.")
        if re.search("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", body):
            raise SqsError("InvalidMessageContents", "Invalid binary character in the message body.")
        size = len(body.encode("utf-8")) + sum(len(k) + len(json.dumps(v)) for k, v in (attributes or {}).items())
        if size > queue.number("MaximumMessageSize"):
            raise _invalid(f"One or more parameters are invalid. Reason: Message must be shorter than "
                           f"{queue.number('MaximumMessageSize')} bytes.")
        for name, attr in (attributes or {}).items():
            if not isinstance(attr, dict) or str(attr.get("DataType", "")).split(".")[0] not in (
                    "String", "Number", "Binary") or not ({"StringValue", "BinaryValue"} & set(attr)):
                raise _invalid(f"The message attribute '{name}' must contain a non-empty value of type "
                               f"'String', 'Number' or 'Binary'.")
        delay = queue.number("DelaySeconds") if delay is None else int(delay)
        if not 0 <= delay <= 900:
            raise _invalid(f"Value {delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900.")
        msg = Message(str(uuid.uuid4()), body, dict(attributes or {}), int(time.time() * 1000),
                      self.clock() + delay)
        queue.messages[msg.message_id] = msg
        self.cond.notify_all()
        return msg

    def _sent(self, msg: Message) -> dict:
        out = {"MessageId": msg.message_id, "MD5OfMessageBody": hashlib.md5(msg.body.encode()).hexdigest()}
        if msg.attributes:
            out["MD5OfMessageAttributes"] = md5_of_attributes(msg.attributes)
        return out

    @staticmethod
    def _handle(queue: Queue, msg: Message) -> str:
        raw = f"{queue.name}\n{msg.message_id}\n{msg.handle}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _by_handle(self, queue: Queue, handle) -> tuple[Message | None, bool]:
        """(message, current): the message a handle names (None once deleted); ``current`` if its latest receive."""
        try:
            name, message_id, nonce = base64.urlsafe_b64decode(str(handle).encode()).decode().split("\n")
        except (ValueError, UnicodeDecodeError):
            raise SqsError("ReceiptHandleIsInvalid",
                           f'The input receipt handle "{str(handle)[:80]}" is not a valid receipt handle.') from None
        if name != queue.name or not nonce:
            raise SqsError("ReceiptHandleIsInvalid",
                           f'The input receipt handle "{str(handle)[:80]}" is not a valid receipt handle.')
        msg = queue.messages.get(message_id)
        return msg, msg is not None and msg.handle == nonce

    def _expire(self, queue: Queue, now: float) -> None:
        keep = queue.number("MessageRetentionPeriod") * 1000
        wall = int(time.time() * 1000)
        for mid in [m.message_id for m in queue.messages.values() if wall - m.sent_ms > keep]:
            del queue.messages[mid]

    @staticmethod
    def _batch(body: dict) -> list[dict]:
        entries = body.get("Entries")
        if not entries:
            raise SqsError("EmptyBatchRequest", "There should be at least one entry in the request.")
        if len(entries) > 10:
            raise SqsError("TooManyEntriesInBatchRequest", f"Maximum number of entries per request are 10. "
                                                           f"You have sent {len(entries)}.")
        ids = [e.get("Id") for e in entries]
        for i in ids:
            if not isinstance(i, str) or not re.match(r"^[A-Za-z0-9_-]{1,80}$", i):
                raise SqsError("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, "
                                                      "hyphens and underscores. It can be at most 80 letters long.")
        if len(set(ids)) != len(ids):
            raise SqsError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
        return entries

    @staticmethod
    def _failed(entry: dict, exc: SqsError) -> dict:
        return {"Id": entry["Id"], "SenderFault": True, "Code": ERRORS[exc.shape][0], "Message": exc.message}

    # -- actions ----------------------------------------------------------------------------------------------

    def _op_CreateQueue(self, body: dict, base: str) -> dict:
        name = body.get("QueueName")
        if not isinstance(name, str) or not NAME.match(name):
            raise _invalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        attributes = {k: str(v) for k, v in (body.get("Attributes") or {}).items()}
        if attributes.get("FifoQueue", "false") == "true":
            raise SqsError("UnsupportedOperation", "FIFO queues are not offered by the sandbox: Amazon's "
                                                   "notifications need a Standard queue.")
        attributes.pop("FifoQueue", None)
        with self.cond:
            queue = self.queues.get(name)
            if queue is not None:
                if any(queue.attributes.get(k, DEFAULTS.get(k)) != v for k, v in attributes.items()):
                    raise SqsError("QueueNameExists", "A queue already exists with the same name and a different "
                                                      "value for attribute(s)")
            else:
                queue = self._create(name, attributes)
        return {"QueueUrl": f"{base}/{ACCOUNT}/{name}"}

    def _op_GetQueueUrl(self, body: dict, base: str) -> dict:
        with self.cond:
            if body.get("QueueName") not in self.queues:
                raise SqsError("QueueDoesNotExist", "The specified queue does not exist.")
        return {"QueueUrl": f"{base}/{ACCOUNT}/{body['QueueName']}"}

    def _op_ListQueues(self, body: dict, base: str) -> dict:
        prefix = body.get("QueueNamePrefix") or ""
        with self.cond:
            names = sorted(n for n in self.queues if n.startswith(prefix))
        return {"QueueUrls": [f"{base}/{ACCOUNT}/{n}" for n in names]} if names else {}

    def _op_DeleteQueue(self, body: dict, base: str) -> dict:
        with self.cond:
            del self.queues[self._queue(body).name]
            self.cond.notify_all()
        return {}

    def _op_GetQueueAttributes(self, body: dict, base: str) -> dict:
        names = body.get("AttributeNames") or []
        with self.cond:
            queue, now = self._queue(body), self.clock()
            self._expire(queue, now)
            for n in names:
                if n != "All" and n not in RANGES and n not in FREE_FORM and n not in COMPUTED:
                    raise SqsError("InvalidAttributeName", f"Unknown Attribute {n}.")
            msgs = list(queue.messages.values())
            every = {**{k: v for k, v in DEFAULTS.items()}, **queue.attributes,
                     "QueueArn": queue.arn, "CreatedTimestamp": str(queue.created),
                     "LastModifiedTimestamp": str(queue.modified),
                     "ApproximateNumberOfMessages": str(sum(m.visible_at <= now for m in msgs)),
                     "ApproximateNumberOfMessagesNotVisible": str(sum(m.visible_at > now and m.receives > 0
                                                                      for m in msgs)),
                     "ApproximateNumberOfMessagesDelayed": str(sum(m.visible_at > now and m.receives == 0
                                                                   for m in msgs))}
        every = {k: v for k, v in every.items() if v != ""}
        chosen = every if "All" in names else {k: every[k] for k in names if k in every}
        return {"Attributes": chosen} if chosen else {}

    def _op_SetQueueAttributes(self, body: dict, base: str) -> dict:
        with self.cond:
            queue = self._queue(body)
            self._set_attributes(queue, body.get("Attributes") or {})
            self.cond.notify_all()
        return {}

    def _op_SendMessage(self, body: dict, base: str) -> dict:
        with self.cond:
            msg = self._send(self._queue(body), body.get("MessageBody"), body.get("MessageAttributes"),
                             body.get("DelaySeconds"))
            return self._sent(msg)

    def _op_SendMessageBatch(self, body: dict, base: str) -> dict:
        ok, failed = [], []
        with self.cond:
            queue = self._queue(body)
            for entry in self._batch(body):
                try:
                    msg = self._send(queue, entry.get("MessageBody"), entry.get("MessageAttributes"),
                                     entry.get("DelaySeconds"))
                except SqsError as exc:
                    failed.append(self._failed(entry, exc))
                    continue
                ok.append({"Id": entry["Id"], **self._sent(msg)})
        return {"Successful": ok, "Failed": failed}

    def _op_ReceiveMessage(self, body: dict, base: str) -> dict:
        count = body.get("MaxNumberOfMessages", 1)
        if not isinstance(count, int) or not 1 <= count <= 10:
            raise _invalid(f"Value {count} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 "
                           "and 10, if provided.")
        vis = body.get("VisibilityTimeout")
        if vis is not None and (not isinstance(vis, int) or not 0 <= vis <= 43200):
            raise _invalid(f"Value {vis} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and "
                           "43200, if provided.")
        wanted = set(body.get("AttributeNames") or []) | set(body.get("MessageSystemAttributeNames") or [])
        names = body.get("MessageAttributeNames") or []
        with self.cond:
            queue = self._queue(body)
            wait = body.get("WaitTimeSeconds")
            wait = queue.number("ReceiveMessageWaitTimeSeconds") if wait is None else wait
            if not isinstance(wait, int) or not 0 <= wait <= 20:
                raise _invalid(f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
                               "<= 20, if provided.")
            deadline = self.clock() + wait
            while True:
                got = self._take(queue, count, queue.number("VisibilityTimeout") if vis is None else vis)
                now = self.clock()
                if got or now >= deadline or self.closed or queue.name not in self.queues:
                    break
                upcoming = [m.visible_at for m in queue.messages.values() if m.visible_at > now]
                self.cond.wait(min([deadline - now] + [t - now + 0.005 for t in upcoming]))
            return {"Messages": [self._render(queue, m, wanted, names) for m in got]} if got else {}

    def _take(self, queue: Queue, count: int, vis: int) -> list[Message]:
        now = self.clock()
        self._expire(queue, now)
        redrive = self._redrive(queue)
        got = []
        for msg in list(queue.messages.values()):
            if len(got) == count:
                break
            if msg.visible_at > now:
                continue
            if redrive is not None and msg.receives >= redrive[1]:   # received maxReceiveCount times: to the DLQ
                dead, _ = redrive
                del queue.messages[msg.message_id]
                msg.receives, msg.first_receive_ms, msg.handle, msg.visible_at = 0, 0, "", now
                dead.messages[msg.message_id] = msg
                continue
            msg.receives += 1
            msg.first_receive_ms = msg.first_receive_ms or int(time.time() * 1000)
            msg.handle = secrets.token_hex(12)
            msg.visible_at = now + vis
            got.append(msg)
        return got

    def _render(self, queue: Queue, msg: Message, wanted: set, names: list) -> dict:
        out = {"MessageId": msg.message_id, "ReceiptHandle": self._handle(queue, msg),
               "MD5OfBody": hashlib.md5(msg.body.encode()).hexdigest(), "Body": msg.body}
        system = msg.system()
        attrs = system if "All" in wanted else {k: v for k, v in system.items() if k in wanted}
        if attrs:
            out["Attributes"] = attrs
        chosen = {k: v for k, v in msg.attributes.items()
                  if any(n in ("All", ".*") or n == k or (n.endswith(".*") and k.startswith(n[:-1])) for n in names)}
        if chosen:
            out["MessageAttributes"] = chosen
            out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
        return out

    def _delete(self, queue: Queue, handle) -> None:
        msg, current = self._by_handle(queue, handle)
        if msg is not None and current:
            del queue.messages[msg.message_id]
        # an older handle of a message received again since: success, nothing deleted (SQS Developer Guide)

    def _op_DeleteMessage(self, body: dict, base: str) -> dict:
        with self.cond:
            self._delete(self._queue(body), body.get("ReceiptHandle"))
        return {}

    def _op_DeleteMessageBatch(self, body: dict, base: str) -> dict:
        ok, failed = [], []
        with self.cond:
            queue = self._queue(body)
            for entry in self._batch(body):
                try:
                    self._delete(queue, entry.get("ReceiptHandle"))
                except SqsError as exc:
                    failed.append(self._failed(entry, exc))
                    continue
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def _change(self, queue: Queue, handle, timeout) -> None:
        if not isinstance(timeout, int) or not 0 <= timeout <= 43200:
            raise _invalid(f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 "
                           "and 43200.")
        msg, current = self._by_handle(queue, handle)
        now = self.clock()
        if msg is None or not current or msg.visible_at <= now:
            raise SqsError("MessageNotInflight", f"Value {str(handle)[:80]} for parameter ReceiptHandle is invalid. "
                           "Reason: Message does not exist or is not available for visibility timeout change.")
        msg.visible_at = now + timeout
        self.cond.notify_all()

    def _op_ChangeMessageVisibility(self, body: dict, base: str) -> dict:
        with self.cond:
            self._change(self._queue(body), body.get("ReceiptHandle"), body.get("VisibilityTimeout"))
        return {}

    def _op_ChangeMessageVisibilityBatch(self, body: dict, base: str) -> dict:
        ok, failed = [], []
        with self.cond:
            queue = self._queue(body)
            for entry in self._batch(body):
                try:
                    self._change(queue, entry.get("ReceiptHandle"), entry.get("VisibilityTimeout"))
                except SqsError as exc:
                    failed.append(self._failed(entry, exc))
                    continue
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def _op_PurgeQueue(self, body: dict, base: str) -> dict:
        with self.cond:
            queue, now = self._queue(body), self.clock()
            if now - queue.purged_at < 60:
                raise SqsError("PurgeQueueInProgress", f"Only one PurgeQueue operation on {queue.name} is allowed "
                                                       "every 60 seconds.")
            queue.purged_at = now
            queue.messages.clear()
        return {}


def amazon_policy(arn: str) -> str:
    """The queue policy a seller sets so that Amazon may write to the queue ``arn`` (Amazon's notifications guide)."""
    return json.dumps({"Version": "2012-10-17", "Id": "slsync-amazon-notifications", "Statement": [{
        "Sid": "AllowSellingPartnerAPI", "Effect": "Allow", "Principal": {"AWS": AMAZON_PRINCIPAL},
        "Action": list(AMAZON_ACTIONS), "Resource": arn}]})


def amazon_refusal(queue: Queue) -> str | None:
    """Why the queue's policy does not let Amazon write to it, or None.

    Statements with Effect Allow grant, Deny ones take back; a statement counts when its Principal is ``"*"`` or
    ``{"AWS": ...}`` naming Amazon's account (its root ARN, its id or ``"*"``), its Action (a string or a list;
    wildcards as IAM matches them, case-insensitive: ``sqs:*``) covers the action and its Resource is absent, ``"*"``
    or matches the queue's ARN. Conditions are not evaluated.
    """
    try:
        doc = json.loads(queue.attributes.get("Policy") or "{}")
    except ValueError:
        doc = {}
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    statements = [statements] if isinstance(statements, dict) else statements
    effect: dict[str, set] = {"Allow": set(), "Deny": set()}
    for st in (x for x in statements if isinstance(x, dict) and x.get("Effect") in effect):
        if not _names_amazon(st.get("Principal")) or not any(
                fnmatch.fnmatchcase(queue.arn, r) for r in _strings(st.get("Resource", "*"))):
            continue
        effect[st["Effect"]].update(a for a in AMAZON_ACTIONS for pattern in _strings(st.get("Action"))
                                    if fnmatch.fnmatchcase(a.lower(), pattern.lower()))
    missing = [a for a in AMAZON_ACTIONS if a not in effect["Allow"] - effect["Deny"]]
    if not missing:
        return None
    return (f"The policy of SQS queue {queue.arn} does not allow {AMAZON_PRINCIPAL} to call {' and '.join(missing)}: "
            "grant that principal sqs:SendMessage and sqs:GetQueueAttributes on the queue (SetQueueAttributes "
            "Policy) before creating the destination.")


def _strings(value) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
        if isinstance(value, list) else []


def _names_amazon(principal) -> bool:
    if principal == "*":
        return True
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    return any(p in ("*", AMAZON_PRINCIPAL, AMAZON_PRINCIPAL.split(":")[4]) for p in _strings(aws))


def _server(service: SqsService, host: str, port: int):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        server_version = "Server"
        sys_version = ""

        def log_message(self, fmt, *args):
            return

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Req(self.command, self.path, {}, {k.lower(): v for k, v in self.headers.items()}, body)
            if service.addressed(req):
                reply = service.handle(req)
            else:  # the query protocol (Action=...) of botocore before 1.31 is not offered
                reply = SqsError("UnknownOperationException", "The sandbox's SQS speaks the AWS JSON 1.0 protocol "
                                 "(X-Amz-Target: AmazonSQS.<Action>), as botocore >= 1.31 does.").reply()
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = _serve

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
