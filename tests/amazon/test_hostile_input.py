"""Hostile values never reach a URL unchecked, and buyer data is not kept where the product keeps its own records.

Against the simulator over HTTP: an id that is not Amazon's is refused before any request (the simulator counts
none); a SKU is quoted, never narrowed (the simulator receives it literally). A body that failed its shape check and
a failure record keep no buyer data. The configuration refuses plain http outside loopback and a marketplace of
another region.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from integration.amazon.ids import InvalidId
from integration.config import load_settings
from integration.errors import ConfigError, Permanent
from tests.amazon.conftest import sandbox

REVIEWER_IDS = ["../../../sellers/v1/marketplaceParticipations", "123-1234567-1234567?includedData=BUYER#",
                "123-1234567-1234567/../../../sellers", "123-1234567-123456", "１２３-1234567-1234567",
                "123-1234567-1234567\n", "", None]


def _calls(sim) -> int:
    return sim.stats.snapshot()["total"]


@pytest.mark.parametrize("bad", REVIEWER_IDS)
def test_an_order_id_that_is_not_amazons_is_refused_before_any_request(client, sim, bad):
    before = _calls(sim)
    with pytest.raises(InvalidId, match="invalid Amazon order id") as got:
        client.orders.get(bad)
    with pytest.raises(InvalidId):
        client.orders.confirm_shipment(bad, marketplace_id="ATVPDKIKX0DER", package_reference_id=1,
                                       carrier_code="UPS", tracking_number="1Z", ship_date="2026-01-01T00:00:00Z",
                                       items=[("1", 1)])
    assert _calls(sim) == before
    assert isinstance(got.value, Permanent) and got.value.details["reason"] == "invalid_id"  # held, not retried
    assert len(got.value.details["value"]) <= 60


@pytest.mark.parametrize(("call", "bad"), [
    (lambda c, v: c.reports.get(v), "../reports?x=1"),
    (lambda c, v: c.reports.document(v), "amzn1.tortuga.3/../../x"),
    (lambda c, v: c.feeds.get(v), ".."),
    (lambda c, v: c.notifications.subscription(v), "ORDER_CHANGE/../../destinations"),
    (lambda c, v: c.notifications.delete_destination(v), "not-a-uuid#"),
])
def test_other_path_ids_are_checked_before_any_request(client, sim, call, bad):
    before = _calls(sim)
    with pytest.raises(InvalidId):
        call(client, bad)
    assert _calls(sim) == before


def test_ids_in_amazons_formats_still_work(client, sim):
    order_id = sandbox(sim, "orders", {"lines": [{"sku": sim.state.catalog[0]["sku"], "quantity": 1}]})["orderId"]
    assert client.orders.get(order_id)["orderId"] == order_id
    settlement = next(client.reports.list(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]))
    assert client.reports.get(settlement.report_id).report_id == settlement.report_id
    assert client.reports.document(settlement.document_id).document_id == settlement.document_id


@pytest.mark.parametrize("sku", ["A/B", "SKU?includedData=x", "SKU#frag", "..", "../../x", "50%OFF", "a b+c&d=é"])
def test_a_sku_with_path_characters_reaches_amazon_literally(client, sim, sku):
    state, row = sim.state, sim.state.catalog[0]
    with state.lock:   # the seller has a listing under this SKU
        state.listings[sku] = {**state.listings[row["sku"]]}
        state.by_sku[sku] = {**row, "sku": sku}
    assert client.listings.get(sku)["sku"] == sku


def test_a_body_that_fails_its_shape_check_is_kept_without_buyer_data(client, sim):
    made = sandbox(sim, "orders", {"lines": [{"sku": sim.state.catalog[0]["sku"], "quantity": 1}]})
    order = client.orders.get(made["orderId"])
    address = order["recipient"]["deliveryAddress"]
    personal = [address["name"], address["addressLine1"], order["buyer"]["buyerEmail"]]
    assert all(personal)   # the seller has the roles: the body Amazon sends carries them
    with pytest.raises(Permanent, match="not the documented shape") as got:
        client.transport.call("getOrder", "GET", f"/orders/2026-01-01/orders/{made['orderId']}",
                              params={"includedData": "BUYER,RECIPIENT"}, shape=("orders",))
    raw = got.value.details["raw"]
    assert made["orderId"] in raw and address["city"] in raw and "[redacted]" in raw
    assert not [p for p in personal if p in raw]


def test_a_failure_record_keeps_no_buyer_data_and_expires(r):
    from workers.policy import FAILURES_TTL, record_failure

    payload = {"orderId": "111-1234567-7654321", "buyer": {"buyerName": "Jane Roe", "buyerEmail": "j@x.example"},
               "recipient": {"deliveryAddress": {"name": "Jane Roe", "addressLine1": "1 Main St",
                                                 "phone": "+1 206 555 0100", "city": "Seattle"}}}
    exc = Permanent("getOrder: response is not the documented shape",
                    details={"raw": json.dumps(payload), "payload": payload})
    task = SimpleNamespace(name="slsync.orders.import",
                           request=SimpleNamespace(id="t-1", args=["111-1234567-7654321"], retries=0))
    record_failure(task, exc)
    key = "slsync:failed:slsync.orders.import"
    [stored] = r.lrange(key, 0, -1)
    assert "111-1234567-7654321" in stored and "Seattle" in stored
    assert not [p for p in ("Jane Roe", "1 Main St", "555 0100", "j@x.example") if p in stored]
    assert 0 < r.ttl(key) <= FAILURES_TTL


# -- configuration ---------------------------------------------------------------------------------------------
PRODUCTION = {"SLSYNC_SANDBOX": "false", "SPAPI_SELLER_ID": "A2SANDBOXSELLER", "LWA_CLIENT_ID": "amzn1.app.x",
              "LWA_CLIENT_SECRET": "secret-value", "LWA_REFRESH_TOKEN": "Atzr|refresh"}


@pytest.mark.parametrize(("name", "url"), [("SPAPI_ENDPOINT", "http://sellingpartnerapi-na.amazon.com"),
                                           ("LWA_TOKEN_URL", "http://api.amazon.com/auth/o2/token"),
                                           ("SPAPI_ENDPOINT", "http://10.0.0.5:8765")])
def test_plain_http_is_refused_outside_loopback(name, url):
    with pytest.raises(ConfigError, match=f"{name} must be an https"):
        load_settings(env={**PRODUCTION, name: url})


def test_plain_http_to_a_simulator_on_this_machine_is_allowed():
    s = load_settings(env={"SPAPI_ENDPOINT": "http://127.0.0.1:8765", "LWA_TOKEN_URL": "http://[::1]:8765/t"})
    assert s.spapi_endpoint == "http://127.0.0.1:8765"


@pytest.mark.parametrize(("env", "wrong"), [
    ({"SPAPI_MARKETPLACE_IDS": "ATVPDKIKX0DER,A1PA6795UKMFR9"}, "A1PA6795UKMFR9 (DE) is a Europe marketplace"),
    ({"SPAPI_REGION": "eu", "SPAPI_MARKETPLACE_IDS": "A1VC38T7YXB528"}, "A1VC38T7YXB528 (JP) is a Far East"),
    ({"SPAPI_ENDPOINT": "https://sandbox.sellingpartnerapi-fe.amazon.com", "SPAPI_MARKETPLACE_IDS": "ATVPDKIKX0DER"},
     "serves Far East"),
    ({"SPAPI_MARKETPLACE_IDS": "ATVPDKIKX0DEX"}, "'ATVPDKIKX0DEX' is not an Amazon marketplace id"),
])
def test_a_marketplace_of_another_region_is_refused(env, wrong):
    with pytest.raises(ConfigError, match="SPAPI_MARKETPLACE_IDS") as got:
        load_settings(env={**PRODUCTION, **env})
    assert wrong in str(got.value)


def test_one_regions_marketplaces_are_accepted():
    s = load_settings(env={**PRODUCTION, "SPAPI_REGION": "eu", "SPAPI_MARKETPLACE_IDS": "A1PA6795UKMFR9,A1F83G8C2ARO7P"})
    assert s.spapi_endpoint == "https://sellingpartnerapi-eu.amazon.com"


def test_config_check_names_the_setting():
    from tests.support.worker import ROOT, child_env

    env = child_env({**PRODUCTION, "SPAPI_MARKETPLACE_IDS": "A1PA6795UKMFR9"})
    proc = subprocess.run([sys.executable, "-m", "integration.cli", "config", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "SPAPI_MARKETPLACE_IDS: A1PA6795UKMFR9 (DE)" in proc.stderr


def test_buyer_text_beyond_name_and_address_is_redacted_parsed_or_cut_short():
    """Delivery instructions, gift messages and tax registrations (Orders v2026-01-01 DeliveryPreference, GiftOption,
    OrderTaxRegistration) are the buyer's words too; ids and amounts stay."""
    from integration.pii import redact, redact_text

    order = {"orderId": "111-1111111-1111111",
             "recipient": {"deliveryPreference": {"addressInstruction": "Gate code 4711, ask for Jane Roe"}},
             "orderItems": [{"orderItemId": "42", "giftOption": {"giftMessage": "Happy birthday Jane, love Bob"}}],
             "tax": {"taxRegistrations": [{"legalName": "Jane Roe GmbH", "taxRegistrationNumber": "DE811907980"}]},
             "GiftMessageText": "For Jane"}
    text = json.dumps(order)
    for kept in (json.dumps(redact(order)), redact_text(text), redact_text(text[:-40])):
        for secret in ("4711", "Jane", "Bob", "DE811907980"):
            assert secret not in kept, (secret, kept)
        assert "111-1111111-1111111" in kept and '"42"' in kept


def test_buyer_fields_holding_objects_or_lists_are_redacted_in_text_cut_short():
    """Tax ids sit in lists of objects (Orders v2026-01-01 taxRegistrationAttributes, v0 BuyerTaxInfo
    .TaxClassifications): the whole value goes, even when the body ends inside it; an order's lines stay."""
    from integration.pii import redact_text

    order = {"orderId": "111-1111111-1111111", "lines": [{"sku": "SKU-1", "quantity": 2}],
             "tax": {"taxRegistrations": [{"taxRegistrationAttributes": [{"key": "CPF", "value": "123.456.789-00"}]}]},
             "BuyerTaxInfo": {"TaxClassifications": [{"Name": "VATNumber", "Value": "DE999999999"}]}}
    text = json.dumps(order)
    for cut in (len(text), len(text) - 5, text.index("DE9999") + 4, text.index("123.456") + 3):
        kept = redact_text(text[:cut])
        assert "123.456" not in kept and "DE9999" not in kept, kept
        assert '"sku": "SKU-1"' in kept
