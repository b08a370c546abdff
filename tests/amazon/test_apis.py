"""The client against the simulator for reports, feeds, listings, FBA inventory, notifications and sellers."""

from __future__ import annotations

import gzip
import json
import os
import time
from decimal import Decimal

import pytest
import requests

from integration.amazon.reports import ALL_ORDERS, SETTLEMENT
from integration.errors import Permanent, Transient
from integration.sandbox.amazon.settlement import COLUMNS
from tests.amazon.conftest import granted_queue, make_sim, patiently, sandbox, settings_for


def advance(sim, seconds: float) -> None:
    sandbox(sim, "clock", {"advance_seconds": seconds})


def test_a_requested_report_goes_through_its_lifecycle_and_downloads(sim, client):
    report_id = client.reports.create(ALL_ORDERS)
    assert client.reports.get(report_id).status == "IN_QUEUE"
    advance(sim, 40)
    assert client.reports.get(report_id).status == "IN_PROGRESS"
    advance(sim, 120)
    report = client.reports.get(report_id)
    assert report.status == "DONE" and report.document_id
    doc = client.reports.download(report.document_id)
    try:
        lines = list(doc.lines())
    finally:
        doc.remove()
    assert lines[0].startswith("amazon-order-id\t") and len(lines) > 1
    assert sim.violations == []


def test_settlement_reports_cannot_be_requested(client):
    with pytest.raises(Permanent, match="not allowed"):
        client.reports.create(SETTLEMENT)


def test_settlements_are_listed_every_14_days_and_their_totals_add_up(sim, client):
    reports = list(client.reports.list([SETTLEMENT], statuses=["DONE"]))
    assert len(reports) >= 2
    doc = client.reports.download(reports[0].document_id)
    try:
        rows = [line.split("\t") for line in doc.lines()]
    finally:
        doc.remove()
    assert rows[0] == COLUMNS and all(len(r) == 24 for r in rows)
    total = Decimal(rows[1][4])
    assert sum(Decimal(r[14]) for r in rows[2:]) == total
    kinds = {r[6] for r in rows[2:]}
    assert {"Order", "other-transaction", "ServiceFee"} <= kinds
    pairs = {(r[12], r[13]) for r in rows[2:]}
    assert ("ItemPrice", "Principal") in pairs and ("ItemFees", "Commission") in pairs
    # Periods close 14 days apart, so any 14 days hold exactly one close; 15 days held two when the run started in
    # the hour before a close (from 00:00 UTC until the 01:00 close), and the test failed then (4 == 3).
    advance(sim, 14 * 86400)
    assert len(list(client.reports.list([SETTLEMENT]))) == len(reports) + 1


def test_the_german_settlement_uses_comma_decimals_and_dotted_dates(r, redis_url):
    from integration.amazon.client import AmazonClient

    sim = make_sim(marketplace_ids=("A1PA6795UKMFR9",))
    try:
        client = AmazonClient.from_settings(settings_for(sim, redis_url, SPAPI_MARKETPLACE_IDS="A1PA6795UKMFR9"), r,
                                            session=requests.Session())
        report = next(client.reports.list([SETTLEMENT]))
        doc = client.reports.download(report.document_id)
        rows = [line.split("\t") for line in doc.lines()]
        doc.remove()
    finally:
        sim.stop()
    assert doc.encoding in ("utf-8", "cp1252")
    assert "," in rows[1][4] and rows[1][1][2] == "." and rows[1][1][5] == "."
    total = Decimal(rows[1][4].replace(",", "."))
    assert sum(Decimal(x[14].replace(",", ".")) for x in rows[2:]) == total


def test_a_listings_feed_changes_quantities_and_reports_per_message(sim, client):
    messages = [
        {"messageId": 1, "sku": "WIDGET-0001", "operationType": "PATCH", "productType": "PRODUCT",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 17}]}]},
        {"messageId": 2, "sku": "NO-SUCH-SKU", "operationType": "PATCH", "productType": "PRODUCT",
         "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}]}]},
    ]
    feed_id = client.feeds.submit_listings(messages)
    advance(sim, 120)
    feed = client.feeds.get(feed_id)
    assert feed.status == "DONE"
    report = client.feeds.result(feed)
    assert report["summary"]["messagesAccepted"] == 1 and report["summary"]["messagesInvalid"] == 1
    assert [i["messageId"] for i in report["issues"]] == [2]
    assert sandbox(sim, "listings")["listings"]["WIDGET-0001"]["quantity"] == 17
    assert sim.violations == []


def test_the_processing_report_follows_the_official_schema(sim, client, models):
    feed_id = client.feeds.submit_listings([{"messageId": 1, "sku": "WIDGET-0002", "operationType": "DELETE"}])
    advance(sim, 120)
    report = client.feeds.result(client.feeds.get(feed_id))
    assert models.validate("listings-feed-processing-report-schema-v2.json", report) == []


def test_a_sixth_listings_feed_within_five_minutes_is_throttled(sim, client):
    for _ in range(5):
        client.feeds.submit_listings([{"messageId": 1, "sku": "WIDGET-0001", "operationType": "DELETE"}])
        advance(sim, 1)
    with pytest.raises(Transient) as err:
        client.feeds.submit_listings([{"messageId": 1, "sku": "WIDGET-0001", "operationType": "DELETE"}])
    assert err.value.details["status"] == 429


def test_an_upload_with_another_content_type_is_refused(sim, client):
    body = client.transport.call("createFeedDocument", "POST", "/feeds/2021-06-30/documents",
                                 body={"contentType": "application/json"}).body
    resp = requests.put(body["url"], data=b"{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert resp.status_code == 403 and b"SignatureDoesNotMatch" in resp.content


def test_listing_quantity_is_patched_and_read_back(sim, client):
    sub = client.listings.set_quantity("WIDGET-0003", 42)
    assert sub.status == "ACCEPTED"
    advance(sim, 180)  # Amazon applies an accepted patch after a while (listings.APPLY_AFTER)
    item = client.listings.get("WIDGET-0003")
    assert {"fulfillmentChannelCode": "DEFAULT", "quantity": 42} in item["fulfillmentAvailability"]
    bad = [{"op": "replace", "path": "/bad", "value": [{"value": 1}]}]
    assert client.listings.patch("WIDGET-0003", bad).status == "INVALID"
    with pytest.raises(Permanent) as err:
        client.listings.get("NOPE-1")
    assert err.value.details["status"] == 404


def test_fba_stock_moves_when_amazon_ships_an_afn_order(sim, client):
    afn = next(row["sku"] for row in sim.state.catalog if row["fulfillment"] == "AFN")
    def stock():
        return {s.sku: s for s in patiently(lambda: list(client.fba.summaries(skus=[afn])))}[afn]

    before = stock()
    order = sandbox(sim, "orders", {"lines": [{"sku": afn, "quantity": 3}], "fulfillment": "AFN"})
    assert stock().reserved == before.reserved + 3
    sandbox(sim, f"orders/{order['orderId']}/status", {"action": "ship"})
    after = stock()
    assert after.fulfillable == before.fulfillable - 3 and after.reserved == before.reserved


def test_subscribe_sets_up_destination_and_subscriptions_once(sim, client):
    arn = granted_queue(sim, "slsync")
    dest, subs = patiently(client.notifications.ensure, "slsync", sqs_arn=arn)
    again, subs2 = patiently(client.notifications.ensure, "slsync", sqs_arn=arn)
    assert dest == again and [s.subscription_id for s in subs] == [s.subscription_id for s in subs2]
    assert {s.notification_type for s in subs} == {"ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES",
                                                   "REPORT_PROCESSING_FINISHED", "FEED_PROCESSING_FINISHED"}
    stats = sandbox(sim, "requests")["operations"]
    assert stats["lwa:client_credentials"]["count"] == 1  # grantless token for destinations


def test_notifications_arrive_by_the_transport_amazon_uses_for_their_type(sim, client, models, sink, monkeypatch):
    """ORDER_CHANGE lands in the SQS queue of its destination; LISTINGS_ITEM_* is posted as an EventBridge event."""
    import boto3

    for k, v in {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
                 "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}.items():
        monkeypatch.setenv(k, v)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=sim.outbox.sqs.start().url)
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{   # Amazon may write
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::437568002678:root"}, "Resource": arn,
        "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"]}]})})
    sandbox(sim, "notifications", {"target": sink.url, "duplicates": 1.0})
    queue = client.notifications.create_destination("q", sqs_arn=arn)
    bridge = client.notifications.create_destination("eb", event_bridge=("123456789012", "us-east-1"))
    with pytest.raises(Permanent, match="only to an SQS") as refused:   # Amazon: ORDER_CHANGE is SQS-only
        client.notifications.subscribe("ORDER_CHANGE", bridge.destination_id)
    assert refused.value.details.get("status") == 400
    client.notifications.subscribe("ORDER_CHANGE", queue.destination_id)
    client.notifications.subscribe("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", bridge.destination_id)
    order = sandbox(sim, "orders", {"lines": [{"sku": "WIDGET-0001", "quantity": 1}]})
    sandbox(sim, f"orders/{order['orderId']}/status", {"action": "cancel"})
    got = []
    while len(got) < 2:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        assert msgs, got
        got += [json.loads(m["Body"]) for m in msgs]
    assert {n["NotificationType"] for n in got} == {"ORDER_CHANGE"}        # the bare notification, no envelope
    assert all(models.validate("OrderChangeNotification.json", n) == [] for n in got)
    mfn = next(row["sku"] for row in sandbox(sim, "catalog")["catalog"] if row["fulfillment"] == "MFN")
    patiently(client.listings.set_quantity, mfn, 7)
    advance(sim, 150)  # Amazon applies an accepted patch after a while (listings.APPLY_AFTER), then publishes
    events = sink.wait_for(2)
    assert len(events) >= 2 and events[0] == events[1]                     # at-least-once: duplicated
    assert events[0]["detail-type"] == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"
    assert events[0]["detail"]["Payload"]["Sku"] == mfn and events[0]["detail"]["Payload"]["Quantity"] == 7
    assert models.validate("ListingsItemMfnQuantityChange.json", events[0]["detail"]) == []
    assert not any(e.get("detail-type") == "ORDER_CHANGE" for e in sink.got)


# -- SQS destinations: only a Standard queue whose policy lets Amazon write [sp-api.md §6.1] ------------------

def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


AMAZON = {"AWS": "arn:aws:iam::437568002678:root"}
BOTH = ["sqs:SendMessage", "sqs:GetQueueAttributes"]


@pytest.mark.parametrize("policy, why", [
    (None, "does not allow arn:aws:iam::437568002678:root to call sqs:SendMessage and sqs:GetQueueAttributes"),
    (_policy({"Effect": "Allow", "Principal": AMAZON, "Action": "sqs:SendMessage", "Resource": "*"}),
     "to call sqs:GetQueueAttributes"),
    (_policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": BOTH}),
     "to call sqs:SendMessage and sqs:GetQueueAttributes"),
    (_policy({"Effect": "Deny", "Principal": AMAZON, "Action": BOTH}), "to call sqs:SendMessage and"),
    (_policy({"Effect": "Allow", "Principal": AMAZON, "Action": BOTH,
              "Resource": "arn:aws:sqs:us-east-1:000000000000:another"}), "to call sqs:SendMessage and"),
    (_policy({"Effect": "Allow", "Principal": "*", "Action": "sqs:*"},
             {"Effect": "Deny", "Principal": AMAZON, "Action": "sqs:SendMessage"}), "to call sqs:SendMessage:"),
])
def test_create_destination_refuses_a_queue_whose_policy_does_not_let_amazon_write(sim, client, policy, why):
    arn = granted_queue(sim, "orders", policy=policy)
    with pytest.raises(Permanent) as refused:
        client.notifications.create_destination("slsync", sqs_arn=arn)
    assert refused.value.details.get("status") == 400 and why in refused.value.message, refused.value.message
    assert sim.state.destinations == {}


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": AMAZON, "Action": BOTH, "Resource": "QUEUE"},
    {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "437568002678"]},
     "Action": ["SQS:SendMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]},
    {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
])
def test_create_destination_accepts_the_grants_iam_reads_as_amazons(sim, client, statement):
    arn = granted_queue(sim, "orders", policy=None)
    sim.outbox.sqs.queues["orders"].attributes["Policy"] = _policy(
        {k: (arn if v == "QUEUE" else v) for k, v in statement.items()})
    assert client.notifications.create_destination("slsync", sqs_arn=arn).resource == {"sqs": {"arn": arn}}


@pytest.mark.parametrize("arn, why", [
    ("arn:aws:sqs:us-east-1:000000000000:nowhere", "does not exist"),
    ("arn:aws:sqs:us-east-1:123456789012:someone-elses", "does not exist"),
    ("arn:aws:sqs:us-east-1:000000000000:orders.fifo", "FIFO queues are not supported"),
])
def test_create_destination_refuses_a_queue_amazon_cannot_use(sim, client, arn, why):
    with pytest.raises(Permanent) as refused:
        client.notifications.create_destination("slsync", sqs_arn=arn)
    assert refused.value.details.get("status") == 400 and why in refused.value.message, refused.value.message


def test_a_queue_whose_policy_is_withdrawn_later_receives_nothing(sim, client):
    arn = granted_queue(sim, "orders")
    dest = client.notifications.create_destination("slsync", sqs_arn=arn)
    client.notifications.subscribe("ORDER_CHANGE", dest.destination_id)
    sim.outbox.sqs.queues["orders"].attributes["Policy"] = _policy(
        {"Effect": "Allow", "Principal": AMAZON, "Action": "sqs:GetQueueAttributes"})
    sandbox(sim, "orders", {"lines": [{"sku": "WIDGET-0001", "quantity": 1}]})
    deadline = time.monotonic() + 10
    while not sim.outbox.undeliverable and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.outbox.undeliverable[("sqs", "ORDER_CHANGE")] >= 1 and not sim.outbox.delivered
    assert sim.outbox.sqs.queues["orders"].messages == {}


def _delivered_to(sim) -> dict:
    """Where each subscription delivers: type -> SQS ARN or '<account>:eventbridge'."""
    out = {}
    for kind, sub in sim.state.subscriptions.items():
        res = sim.state.destinations[sub["destinationId"]]["resource"]
        out[kind] = res["sqs"]["arn"] if "sqs" in res else f"{res['eventBridge']['accountId']}:eventbridge"
    return out


def test_subscribe_again_with_another_queue_re_points_the_destination(sim, client):
    old, new = granted_queue(sim, "q-old"), granted_queue(sim, "q-new")
    client.notifications.ensure("slsync", sqs_arn=old, call=patiently)
    changes = []
    dests, subs = client.notifications.ensure("slsync", sqs_arn=new, say=changes.append, call=patiently)
    assert [d.resource for d in dests] == [{"sqs": {"arn": new}}] and [d.name for d in dests] == ["slsync"]
    assert set(_delivered_to(sim).values()) == {new} and len(sim.state.subscriptions) == 4
    assert len(sim.state.destinations) == 1 and {s.destination_id for s in subs} == {dests[0].destination_id}
    assert len(changes) == 1 and old in changes[0] and new in changes[0]
    order = sandbox(sim, "orders", {"lines": [{"sku": "WIDGET-0001", "quantity": 1}]})
    deadline = time.monotonic() + 10
    while not sim.outbox.sqs.queues["q-new"].messages and time.monotonic() < deadline:
        time.sleep(0.05)
    bodies = [json.loads(m.body) for m in sim.outbox.sqs.queues["q-new"].messages.values()]
    assert bodies and bodies[0]["Payload"]["OrderChangeNotification"]["AmazonOrderId"] == order["orderId"]
    assert sim.outbox.sqs.queues["q-old"].messages == {}


def test_an_eventbridge_destination_with_the_sqs_name_is_not_taken_for_the_queue(sim, client):
    client.notifications.create_destination("slsync", event_bridge=("123456789012", "us-east-1"))
    arn = granted_queue(sim, "orders")
    dests, _ = client.notifications.ensure("slsync", sqs_arn=arn, event_bridge=("123456789012", "us-east-1"),
                                           call=patiently)
    assert {d.name: next(iter(d.resource)) for d in dests} == {"slsync": "sqs", "slsync-eventbridge": "eventBridge"}
    delivered = _delivered_to(sim)
    assert {delivered[k] for k in ("ORDER_CHANGE", "FEED_PROCESSING_FINISHED")} == {arn}
    assert delivered["LISTINGS_ITEM_STATUS_CHANGE"] == "123456789012:eventbridge"


def test_a_subscription_on_another_destination_is_moved_to_ours(sim, client):
    other = client.notifications.create_destination("someone-else", sqs_arn=granted_queue(sim, "theirs"))
    client.notifications.subscribe("ORDER_CHANGE", other.destination_id)
    ours = granted_queue(sim, "ours")
    changes = []
    client.notifications.ensure("slsync", sqs_arn=ours, types={"ORDER_CHANGE": "1.0"}, say=changes.append,
                                call=patiently)
    assert _delivered_to(sim) == {"ORDER_CHANGE": ours}
    assert changes and "ORDER_CHANGE" in changes[0] and other.destination_id in changes[0]


def test_marketplaces_are_listed(client):
    markets = client.sellers.marketplaces()
    assert [m.id for m in markets] == ["ATVPDKIKX0DER"] and markets[0].currency == "USD"


def test_gzip_document_is_inflated(sim, client):
    info = sandbox(sim, "reports", {"size_mb": 0.01})
    doc = client.reports.download(info["reportDocumentId"])
    assert doc.size == info["bytes"] and doc.encoding == "utf-8"
    assert "Crème brûlée" in next(doc.lines())
    doc.remove()
    assert gzip  # documents are stored gzipped by the simulator


def test_every_notification_type_conforms_to_its_schema(sim, client, models):
    dest = client.notifications.create_destination("q", sqs_arn=granted_queue(sim, "q"))
    for kind, version in (("ORDER_CHANGE", "1.0"), ("FBA_INVENTORY_AVAILABILITY_CHANGES", "1.0"),
                          ("REPORT_PROCESSING_FINISHED", "2020-09-04"), ("FEED_PROCESSING_FINISHED", "2020-09-04")):
        client.notifications.subscribe(kind, dest.destination_id, version)
    client.reports.create(ALL_ORDERS)
    client.feeds.submit_listings([{"messageId": 1, "sku": "WIDGET-0001", "operationType": "DELETE"}])
    sandbox(sim, "orders", {"lines": [{"sku": "WIDGET-0004", "quantity": 1}], "fulfillment": "AFN"})
    advance(sim, 3600)
    sent = sandbox(sim, "notifications")["sent"]
    kinds = {n.get("NotificationType") or n.get("notificationType") for n in sent}
    assert kinds == {"ORDER_CHANGE", "FBA_INVENTORY_AVAILABILITY_CHANGES", "REPORT_PROCESSING_FINISHED",
                     "FEED_PROCESSING_FINISHED"}
    assert sim.violations == []


def test_inbound_fba_stock_is_received_day_by_day(sim, client):
    sku = next(s for s, inv in sim.state.fba.items() if inv["shipped"] or inv["working"])

    def shipped_out():
        return sum(i["shipped"] for o in sandbox(sim, "orders")["orders"] for i in o["items"] if i["sku"] == sku)

    before, out_before = sandbox(sim, "inventory")["inventory"][sku], shipped_out()
    advance(sim, 3 * 86400 + 60)
    after, out_after = sandbox(sim, "inventory")["inventory"][sku], shipped_out()
    assert after["working"] == after["shipped"] == after["receiving"] == 0
    inbound = before["working"] + before["shipped"] + before["receiving"]
    assert after["fulfillable"] + (out_after - out_before) == before["fulfillable"] + inbound
