"""Feeds 2021-06-30: create a document, upload it with the declared Content-Type, create the feed, poll it,
read the processing report. JSON_LISTINGS_FEED is the way to change many listings [reference §8.1]."""

from __future__ import annotations

import json
from dataclasses import dataclass

import requests

from integration.amazon import ids, roles
from integration.amazon.documents import download
from integration.errors import Permanent, Transient

BASE = "/feeds/2021-06-30"
LISTINGS_FEED = "JSON_LISTINGS_FEED"


@dataclass(frozen=True)
class Feed:
    feed_id: str
    feed_type: str
    status: str
    result_document_id: str | None
    created_time: str

    @classmethod
    def of(cls, body: dict) -> Feed:
        return cls(body["feedId"], body["feedType"], body["processingStatus"], body.get("resultFeedDocumentId"),
                   body["createdTime"])

    @property
    def finished(self) -> bool:
        return self.status in ("DONE", "CANCELLED", "FATAL")


class Feeds:
    def __init__(self, transport, seller_id: str, marketplace_ids: tuple[str, ...]):
        self.t, self.seller_id, self.marketplace_ids = transport, seller_id, marketplace_ids

    def upload(self, content: bytes, content_type: str, *, feed_type: str | None = None) -> str:
        """createFeedDocument + PUT of the content with exactly the declared Content-Type; the document id.
        Amazon checks the role of the feed's type: ``feed_type`` lets a refusal name it."""
        body = self.t.call("createFeedDocument", "POST", f"{BASE}/documents", body={"contentType": content_type},
                           shape=("feedDocumentId", "url"), role=roles.for_feed_type(feed_type or "")).body
        try:
            resp = self.t.session.put(body["url"], data=content, timeout=self.t.timeout,
                                      headers={"Content-Type": content_type, "x-amz-access-token": None})
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Transient(f"feed upload failed ({type(exc).__name__})") from None
        if resp.status_code >= 500:
            raise Transient(f"feed upload answered {resp.status_code}")
        if resp.status_code != 200:
            raise Permanent(f"feed upload refused ({resp.status_code})", details={"raw": resp.text[:2000]})
        return body["feedDocumentId"]

    def submit(self, feed_type: str, content: bytes, content_type: str, *, marketplace_ids=None,
               options: dict | None = None) -> str:
        doc_id = self.upload(content, content_type, feed_type=feed_type)
        body = {"feedType": feed_type, "marketplaceIds": list(marketplace_ids or self.marketplace_ids),
                "inputFeedDocumentId": doc_id}
        if options:
            body["feedOptions"] = options
        return self.t.call("createFeed", "POST", f"{BASE}/feeds", body=body, shape=("feedId",),
                           role=roles.for_feed_type(feed_type)).body["feedId"]

    def submit_listings(self, messages: list[dict], *, issue_locale: str = "en_US") -> str:
        """A JSON_LISTINGS_FEED of ``messages`` ({messageId, sku, operationType, productType, patches|attributes})."""
        doc = {"header": {"sellerId": self.seller_id, "version": "2.0", "issueLocale": issue_locale},
               "messages": messages}
        return self.submit(LISTINGS_FEED, json.dumps(doc).encode("utf-8"), "application/json; charset=UTF-8")

    def get(self, feed_id: str, *, feed_type: str | None = None) -> Feed:
        """getFeed; ``feed_type`` (what the caller submitted) names the right role if Amazon refuses it."""
        return Feed.of(self.t.call("getFeed", "GET", f"{BASE}/feeds/{ids.segment(ids.feed_id(feed_id))}",
                                   shape=("feedId", "feedType", "processingStatus", "createdTime"),
                                   role=roles.for_feed_type(feed_type or "")).body)

    def result(self, feed: Feed) -> dict:
        """The processing report of a finished feed (JSON for JSON_LISTINGS_FEED)."""
        if not feed.result_document_id:
            raise Permanent(f"feed {feed.feed_id} ({feed.status}) has no processing report")
        doc_id = ids.segment(ids.document_id(feed.result_document_id))   # checked before any call
        body = self.t.call("getFeedDocument", "GET", f"{BASE}/documents/{doc_id}",
                           shape=("feedDocumentId", "url"), role=roles.for_feed_type(feed.feed_type)).body
        doc = download(self.t.session, body["url"], compression=body.get("compressionAlgorithm"), timeout=self.t.timeout)
        try:
            return json.loads(doc.read_text())
        except ValueError:
            raise Permanent("feed processing report is not JSON", details={"raw": doc.read_text()[:4000]}) from None
        finally:
            doc.remove()
