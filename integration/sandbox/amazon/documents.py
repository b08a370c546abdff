"""Report and feed documents behind presigned-style URLs that expire after 5 simulated minutes."""

from __future__ import annotations

import gzip
import uuid
from datetime import timedelta

URL_LIFE = timedelta(minutes=5)


def put(state, content: bytes, *, content_type: str, compress: bool = False, kind: str = "report",
        prefix: str = "amzn1.tortuga.4.na.") -> str:
    doc_id = prefix + uuid.UUID(int=state.rnd.getrandbits(128)).hex
    state.documents[doc_id] = {"content": gzip.compress(content, compresslevel=1) if compress else content,
                               "content_type": content_type, "compression": "GZIP" if compress else None, "kind": kind}
    return doc_id


def url(sim, doc_id: str, action: str = "download") -> str:
    expires = int((sim.state.now() + URL_LIFE).timestamp())
    return f"{sim.url}/_docs/{action}/{doc_id}?X-Amz-Expires=300&expires={expires}"


def expired(sim, req) -> bool:
    try:
        return int(req.one("expires", "0")) < sim.state.now().timestamp()
    except ValueError:
        return True


S3_EXPIRED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
              b"<Message>Request has expired</Message></Error>")
S3_SIGNATURE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request '
                b"signature we calculated does not match the signature you provided.</Message></Error>")
S3_INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
               b"<Message>We encountered an internal error. Please try again.</Message></Error>")
