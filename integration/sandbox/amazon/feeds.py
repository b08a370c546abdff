"""Feeds API 2021-06-30 with JSON_LISTINGS_FEED: upload, validation against the official feed schema,
listings changed per valid message, a JSON processing report; 5 submissions per 5 minutes [D-jlf-limits]."""

from __future__ import annotations

import json
from datetime import timedelta

from integration.sandbox.amazon import documents, listings
from integration.sandbox.amazon.limits import QUOTA_EXCEEDED, Window
from integration.sandbox.amazon.state import iso, on_tick
from integration.sandbox.amazon.wire import Reply, Req, invalid, not_found, public

QUEUE, WORK = timedelta(seconds=30), timedelta(seconds=60)
LISTINGS_FEED = "JSON_LISTINGS_FEED"


def create_feed_document(sim, req: Req) -> Reply:
    body = req.json()
    if not body.get("contentType"):
        raise invalid("contentType is required.")
    doc_id = documents.put(sim.state, b"", content_type=body["contentType"], kind="feed_input",
                           prefix="amzn1.tortuga.3.")
    sim.state.documents[doc_id]["uploaded"] = False
    return Reply(201, {"feedDocumentId": doc_id, "url": documents.url(sim, doc_id, "upload")})


def create_feed(sim, req: Req) -> Reply:
    state, body = sim.state, req.json()
    ftype, markets, doc_id = body.get("feedType"), body.get("marketplaceIds"), body.get("inputFeedDocumentId")
    if not ftype or not isinstance(markets, list) or not 1 <= len(markets) <= 25 or not doc_id:
        raise invalid("feedType, 1 to 25 marketplaceIds and inputFeedDocumentId are required.")
    doc = state.documents.get(doc_id)
    if doc is None or doc["kind"] != "feed_input":
        raise invalid(f"inputFeedDocumentId {doc_id} is not a feed document.")
    now = state.now()
    if ftype == LISTINGS_FEED:
        window = getattr(state, "listings_window", None) or Window(5, 300)
        state.listings_window = window
        if not window.allow(now):
            return Reply(429, QUOTA_EXCEEDED)
    fid = str(70000000000 + len(state.feeds) + 1)
    state.feeds[fid] = {"feedId": fid, "feedType": ftype, "marketplaceIds": markets, "createdTime": iso(now),
                        "processingStatus": "IN_QUEUE", "_created": now, "_input": doc_id}
    return Reply(202, {"feedId": fid})


def _process(state, feed: dict) -> tuple[str, dict | None]:
    """(status, processing report) for a JSON_LISTINGS_FEED; other types end FATAL without a report [§8.3]."""
    if feed["feedType"] != LISTINGS_FEED:
        return "FATAL", None
    doc = state.documents[feed["_input"]]
    try:
        data = json.loads(doc["content"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "FATAL", None
    models = getattr(state, "models", None)
    issues, accepted, invalid_count = [], 0, 0
    schema_errors = models.validate("listings-feed-schema-v2.json", data) if models else []
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or (schema_errors and not isinstance(data.get("header"), dict)):
        return "FATAL", None
    msg_validator = models.schema_validator("listings-feed-message-schema-v2.json") if models else None
    for msg in messages:
        mid, sku = msg.get("messageId"), msg.get("sku")
        errs = [e.message for e in msg_validator.iter_errors(msg)] if msg_validator else []
        if errs or sku not in state.listings:
            invalid_count += 1
            for text in errs or [f"SKU '{sku}' does not exist"]:
                issues.append({"messageId": mid, "sku": sku, "code": "4000001", "severity": "ERROR", "message": text[:500]})
            continue
        listing = state.listings[sku]
        if msg["operationType"] == "PATCH":  # all of a message's patches or none, merge keeping what it does not name
            trial = {"attributes": dict(listing["attributes"])}
            problems = listings.apply_patches(trial, msg.get("patches", []))
            if not problems:
                listing["attributes"] = trial["attributes"]
        elif msg["operationType"] in ("UPDATE", "PARTIAL_UPDATE"):
            if msg["operationType"] == "UPDATE":
                listing["attributes"] = {}
            listing["attributes"].update(msg.get("attributes", {}))
            problems = []
        else:  # DELETE
            state.listings.pop(sku)
            problems = []
        for p in problems:
            issues.append({"messageId": mid, "sku": sku, "code": p["code"], "severity": "ERROR", "message": p["message"]})
        if problems:
            invalid_count += 1
        else:
            accepted += 1
            listing["updated"] = state.now()
    report = {"header": {"sellerId": state.seller_id, "version": "2.0", "feedId": feed["feedId"]},
              "issues": issues,
              "summary": {"errors": sum(1 for i in issues if i["severity"] == "ERROR"), "warnings": 0,
                          "messagesProcessed": len(messages), "messagesAccepted": accepted,
                          "messagesInvalid": invalid_count}}
    return "DONE", report


@on_tick
def tick(state, now) -> None:
    for feed in state.feeds.values():
        created = feed["_created"]
        if feed["processingStatus"] == "IN_QUEUE" and now >= created + QUEUE:
            feed["processingStatus"], feed["processingStartTime"] = "IN_PROGRESS", iso(created + QUEUE)
        if feed["processingStatus"] == "IN_PROGRESS" and now >= created + QUEUE + WORK:
            status, report = _process(state, feed)
            feed["processingStatus"], feed["processingEndTime"] = status, iso(created + QUEUE + WORK)
            if report is not None:
                feed["resultFeedDocumentId"] = documents.put(
                    state, json.dumps(report).encode(), content_type="application/json", kind="feed_result",
                    prefix="amzn1.tortuga.3.", compress=False)
            payload = {"sellerId": state.seller_id, "accountId": state.seller_id, "feedId": feed["feedId"],
                       "feedType": feed["feedType"], "processingStatus": status}
            if feed.get("resultFeedDocumentId"):
                payload["resultFeedDocumentId"] = feed["resultFeedDocumentId"]
            state.notify("FEED_PROCESSING_FINISHED", {"feedProcessingFinishedNotification": payload})


def get_feed(sim, req: Req) -> Reply:
    feed = sim.state.feeds.get(req.args["feedId"])
    if feed is None:
        raise not_found(f"Feed {req.args['feedId']} not found.")
    return Reply(200, public(feed))


def get_feed_document(sim, req: Req) -> Reply:
    doc_id = req.args["feedDocumentId"]
    doc = sim.state.documents.get(doc_id)
    if doc is None:
        raise not_found(f"Feed document {doc_id} not found.")
    body = {"feedDocumentId": doc_id, "url": documents.url(sim, doc_id)}
    if doc["compression"]:
        body["compressionAlgorithm"] = "GZIP"
    return Reply(200, body)
