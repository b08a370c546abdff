"""Auth as Amazon does it: every wording of an expired token refreshes once and succeeds; a refusal a fresh token
does not cure is a missing role, named, alerted once, never a loop; refused LWA credentials stop calls with one
alert; the access token at rest is per seller and app and encrypted when a key is set; the client secret's expiry
is shown and alerted. The simulator over HTTP, real Redis (the test database)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest
import requests
from cryptography.fernet import Fernet

from integration.amazon import roles
from integration.amazon.auth import CredentialsRefused, check_secret_expiry
from integration.amazon.client import AmazonClient
from integration.errors import Permanent
from integration.guard import keys
from tests.amazon.conftest import make_sim, sandbox, settings_for
from tests.support.worker import ROOT, child_env

SELLER, APP = "A2SANDBOXSELLER", "sandbox-client"


def make_client(sim, r, redis_url, **env) -> AmazonClient:
    return AmazonClient.from_settings(settings_for(sim, redis_url, **env), r, session=requests.Session())


def first_order(sim) -> str:
    return sandbox(sim, "orders")["orders"][0]["orderId"]


def counts(sim, op: str) -> dict:
    """Requests the simulator saw for ``op`` by status, e.g. {"200": 2, "403": 1}."""
    return sandbox(sim, "requests")["operations"].get(op, {}).get("statuses", {})


def fault(sim, op: str, kind: str, count: int = 1) -> None:
    sandbox(sim, "faults", {"rules": [{"op": op, "kind": kind, "count": count}]})


# (fault kind, the operation it is injected on, the status Amazon answers)
EXPIRY_WORDINGS = [
    ("expired_token", "getOrder", 403),           # 403 Unauthorized "Access ... denied." details: "... has expired."
    ("denied", "getOrder", 403),                  # 403 Unauthorized "Access ... denied.", no details at all
    ("denied_empty", "getOrder", 403),            # the same with details ""
    ("access_token_expired", "getOrder", 403),    # "The access token you provided has expired."
    ("access_token_invalid", "getOrder", 403),    # "The access token you provided is revoked, malformed or invalid."
    ("security_token_expired", "getOrder", 403),  # "The security token included in the request is expired"
    ("unauthorized_401", "getReports", 401),      # 401, where the model declares one (reports, feeds, confirmShipment)
]


@pytest.mark.parametrize("kind, op, status", EXPIRY_WORDINGS, ids=[k for k, _, _ in EXPIRY_WORDINGS])
def test_every_expiry_wording_refreshes_once_and_succeeds(sim, r, redis_url, kind, op, status):
    client = make_client(sim, r, redis_url)
    call = {"getOrder": lambda: client.orders.get(first_order(sim))["orderId"],
            "getReports": lambda: list(client.reports.list(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]))}[op]
    assert call()                                          # a token, cached
    old = r.get(keys.token(SELLER, APP))
    fault(sim, op, kind)
    assert call()                                          # the refusal never reaches the caller
    assert counts(sim, "lwa:refresh_token") == {"200": 2}  # exactly one extra token request
    assert counts(sim, op) == {"200": 2, str(status): 1}   # the refused call and one retry, no more
    # the refused token stays refused, with Amazon's words for it; the new one works
    again = requests.get(sim.url + "/orders/2026-01-01/orders/" + first_order(sim), timeout=10,
                         headers={"x-amz-access-token": old})
    assert again.status_code == 403 and again.json()["errors"][0]["code"] == "Unauthorized"
    assert r.get(keys.token(SELLER, APP)) != old


def test_a_refusal_a_fresh_token_does_not_cure_names_the_role_once(r, redis_url, sent):
    sim = make_sim(roles=[role for role in roles.ALL if role != roles.INVENTORY_AND_ORDER_TRACKING])
    try:
        client = make_client(sim, r, redis_url)
        order_id = first_order(sim)
        for _ in range(3):   # three tasks meet it
            with pytest.raises(Permanent) as err:
                client.orders.get(order_id)
            assert roles.INVENTORY_AND_ORDER_TRACKING in err.value.message and SELLER in err.value.message
            assert err.value.details["role"] == roles.INVENTORY_AND_ORDER_TRACKING
        # one refresh and one retry for the first call, no loop; the refusal is then remembered, so the next
        # calls neither evict the fleet's token nor ask LWA for another
        assert counts(sim, "getOrder") == {"403": 4}
        assert counts(sim, "lwa:refresh_token") == {"200": 2}
        sim.state.roles.add(roles.INVENTORY_AND_ORDER_TRACKING)      # granted: the call answers
        assert client.orders.get(order_id)["orderId"] == order_id
        fault(sim, "getOrder", "denied_empty")            # an expired token in the same words: refreshed again
        assert client.orders.get(order_id)["orderId"] == order_id
        role_alerts = [a for a in sent if a["alert_key"].startswith("role:")]
        assert [(a["alert_key"], a["role"]) for a in role_alerts] == [
            (f"role:{SELLER}:{roles.INVENTORY_AND_ORDER_TRACKING}", roles.INVENTORY_AND_ORDER_TRACKING)]
        list(client.reports.list(["GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]))   # its other roles still work
        assert counts(sim, "getReports") == {"200": 1}
    finally:
        sim.stop()


def test_a_revoked_refresh_token_stops_calls_with_one_alert(sim, r, redis_url, sent):
    client = make_client(sim, r, redis_url)
    order_id = first_order(sim)
    client.orders.get(order_id)
    sim.refresh_token = "Atzr|re-authorised"               # the seller revoked the app and authorised it again
    fault(sim, "getOrder", "access_token_expired")         # our hour is up: the next call needs a refresh
    for _ in range(5):
        with pytest.raises(CredentialsRefused) as err:
            client.orders.get(order_id)
        assert err.value.details["setting"] == "LWA_REFRESH_TOKEN" and err.value.retry_after > 0
    assert counts(sim, "lwa:refresh_token") == {"200": 1, "400": 1}   # one refused request, then nothing sent
    assert counts(sim, "getOrder") == {"200": 1, "403": 1}
    refused = [a for a in sent if a["alert_key"].startswith("lwa:")]
    assert len(refused) == 1 and refused[0]["setting"] == "LWA_REFRESH_TOKEN"
    assert "re-authorise" in refused[0]["action"].lower() and "Atzr|" not in json.dumps(refused[0])
    # the new refresh token configured: calls resume at once, and the alert is resolved
    fixed = make_client(sim, r, redis_url, LWA_REFRESH_TOKEN="Atzr|re-authorised")
    assert fixed.orders.get(order_id)["orderId"] == order_id
    assert [a["alert"] for a in sent if a["alert_key"] == refused[0]["alert_key"]] == ["firing", "resolved"]


def test_a_wrong_or_expired_client_secret_is_one_alert_naming_the_secret(sim, r, redis_url, sent):
    client = make_client(sim, r, redis_url, LWA_CLIENT_SECRET="expired-secret-value")
    for _ in range(5):
        with pytest.raises(CredentialsRefused, match="LWA_CLIENT_SECRET"):
            client.orders.get(first_order(sim))
    assert counts(sim, "lwa:refresh_token") == {"401": 1}
    assert counts(sim, "getOrder") == {}
    refused = [a for a in sent if a["alert_key"].startswith("lwa:")]
    assert len(refused) == 1 and refused[0]["error"] == "invalid_client"
    assert refused[0]["setting"] == "LWA_CLIENT_SECRET" and "expired-secret-value" not in json.dumps(refused[0])


def test_the_token_at_rest_is_per_seller_and_app_and_encrypted(sim, r, redis_url):
    key = Fernet.generate_key().decode()
    order_id = first_order(sim)
    make_client(sim, r, redis_url, TOKEN_ENCRYPTION_KEY=key).orders.get(order_id)
    make_client(sim, r, redis_url, TOKEN_ENCRYPTION_KEY=key, SPAPI_SELLER_ID="A1OTHERSELLER").orders.get(order_id)
    issued = list(sim.state.tokens)
    assert len(issued) == 2                                 # one token per seller
    stored = {k: r.get(k) for k in r.scan_iter(match="slsync:token:*")}
    assert set(stored) == {keys.token(SELLER, APP), keys.token("A1OTHERSELLER", APP)}
    everything = " ".join(str(r.dump(k)) for k in r.scan_iter())
    assert not any(token in everything or token.split("|", 1)[1] in everything for token in issued)
    # another worker with the same key reads it (no refresh); one with another key fetches its own, no error
    make_client(sim, r, redis_url, TOKEN_ENCRYPTION_KEY=key).orders.get(order_id)
    assert counts(sim, "lwa:refresh_token") == {"200": 2}
    make_client(sim, r, redis_url, TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode()).orders.get(order_id)
    assert counts(sim, "lwa:refresh_token") == {"200": 3}


def test_a_bad_encryption_key_is_a_config_error_naming_it(sim, redis_url):
    from integration.errors import ConfigError

    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY") as err:
        settings_for(sim, redis_url, TOKEN_ENCRYPTION_KEY="not-a-fernet-key")
    assert "not-a-fernet-key" not in str(err.value)


def test_the_client_secret_expiry_alerts_once_a_day_from_30_days(sim, r, redis_url, sent):
    today = date(2027, 4, 1)

    def check(expires: date, on: date = today):
        return check_secret_expiry(settings_for(sim, redis_url, LWA_CLIENT_SECRET_EXPIRES=expires.isoformat()), r,
                                   today=on)

    assert check(today + timedelta(days=31)) is None                     # not yet
    first = check(today + timedelta(days=30))
    assert first["days_left"] == 30 and "LWA_CLIENT_SECRET" in first["subject"]
    assert check(today + timedelta(days=30)) is None                     # once a day, whoever checks
    assert check(today + timedelta(days=30), today + timedelta(days=1))["days_left"] == 29
    gone = check(today - timedelta(days=1), today + timedelta(days=2))
    assert gone["days_left"] < 0 and "fail" in gone["subject"]
    assert [a["days_left"] for a in sent] == [30, 29, gone["days_left"]]


def test_status_shows_the_days_the_client_secret_has_left(sim, redis_url, tmp_path):
    expires = date.today() + timedelta(days=12)
    env = {"SLSYNC_SANDBOX": "true", "REDIS_URL": redis_url, "BROKER_URL": redis_url,
           "SL_DSN": f"sqlite:///{tmp_path / 'sl.db'}", "LWA_CLIENT_SECRET_EXPIRES": expires.isoformat()}
    out = subprocess.run([sys.executable, "-m", "integration.cli", "status", "--json"], cwd=ROOT, env=child_env(env),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    secret = json.loads(out.stdout)["client_secret"]
    assert secret["expires"] == expires.isoformat() and secret["days_left"] in (11, 12)   # UTC vs local midnight
    table = subprocess.run([sys.executable, "-m", "integration.cli", "status"], cwd=ROOT, env=child_env(env),
                           capture_output=True, text=True, timeout=120)
    assert f"expires {expires.isoformat()}" in table.stdout and "days left" in table.stdout
