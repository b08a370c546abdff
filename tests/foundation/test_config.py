"""Configuration: validated at start-up; a bad value stops the process naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from integration.config import load_settings
from integration.errors import ConfigError
from tests.support.worker import ROOT, child_env

BASE = {"SLSYNC_SANDBOX": "true"}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REDIS_URL", "ftp://somewhere", "REDIS_URL must be a URL"),
        ("CELERY_VISIBILITY_TIMEOUT", "soon", "CELERY_VISIBILITY_TIMEOUT must be a whole number"),
        ("CELERY_VISIBILITY_TIMEOUT", "200", "CELERY_VISIBILITY_TIMEOUT must exceed"),
        ("SPAPI_REGION", "mars", "SPAPI_REGION must be one of na, eu, fe"),
        ("TASK_MAX_RETRIES", "-1", "TASK_MAX_RETRIES must be between 0 and 100"),
        ("SL_DSN", "just-a-name", "SL_DSN must be sqlite:///path or an ODBC connection string"),
        ("FLOWER_BASIC_AUTH", "nopassword", "FLOWER_BASIC_AUTH must be user:password"),
        ("SLSYNC_SANDBOX", "maybe", "SLSYNC_SANDBOX must be true or false"),
        ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem", "REQUESTS_CA_BUNDLE must be a file or folder that exists"),
        ("SPAPI_MODELS_DIR", "/nonexistent/models", "SPAPI_MODELS_DIR must be a folder that exists"),
        ("GO_LIVE", "next monday", "GO_LIVE must be an ISO 8601 date or date and time"),
    ],
)
def test_a_bad_value_names_the_variable(name, value, expected):
    with pytest.raises(ConfigError, match=expected):
        load_settings({**BASE, name: value})


def test_the_amazon_session_trusts_the_ca_bundle_of_the_settings(tmp_path, r):
    import requests

    from integration.amazon.client import AmazonClient

    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert load_settings(BASE).ca_bundle == ""
    assert load_settings({**BASE, "CURL_CA_BUNDLE": str(bundle)}).ca_bundle == str(bundle)
    assert load_settings({**BASE, "REQUESTS_CA_BUNDLE": str(tmp_path), "CURL_CA_BUNDLE": "/elsewhere"}).ca_bundle == str(tmp_path)
    s = load_settings({**BASE, "REQUESTS_CA_BUNDLE": str(bundle)})
    session = AmazonClient.from_settings(s, r, session=requests.Session()).transport.session
    assert session.verify == str(bundle) and session.trust_env is False


def test_go_live_is_a_moment_in_utc():
    """A date is midnight UTC, a time without an offset is UTC, an offset is honoured; unset is None."""
    assert load_settings(BASE).go_live is None
    assert load_settings({**BASE, "GO_LIVE": "2027-05-01"}).go_live.isoformat() == "2027-05-01T00:00:00+00:00"
    assert load_settings({**BASE, "GO_LIVE": "2027-05-01T08:00"}).go_live.isoformat() == "2027-05-01T08:00:00+00:00"
    assert load_settings({**BASE, "GO_LIVE": "2027-05-01T08:00+02:00"}).go_live.isoformat() == \
        "2027-05-01T06:00:00+00:00"


def test_production_requires_credentials_and_seller():
    with pytest.raises(ConfigError, match="SPAPI_SELLER_ID is required"):
        load_settings({"SLSYNC_SANDBOX": "false"})
    env = {"SLSYNC_SANDBOX": "false", "SPAPI_SELLER_ID": "A1", "LWA_CLIENT_ID": "amzn1.application-oa2-client.x"}
    with pytest.raises(ConfigError, match="LWA_CLIENT_SECRET is required"):
        load_settings(env)


def test_sandbox_defaults_point_at_the_local_simulator():
    s = load_settings(BASE)
    assert s.spapi_endpoint.startswith("http://127.0.0.1")
    assert s.sl_dsn == "sqlite:///.sandbox/sl.db"
    assert "sandbox-secret" not in repr(s), "secrets must not appear in the settings' repr"


def test_the_worker_refuses_to_start_with_a_bad_setting():
    env = child_env({"CELERY_VISIBILITY_TIMEOUT": "abc"})
    proc = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--without-mingle"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT" in proc.stderr


def test_config_check_command_reports_the_variable():
    env = child_env({"SPAPI_REGION": "moon"})
    proc = subprocess.run([sys.executable, "-m", "integration.cli", "config", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "SPAPI_REGION" in proc.stderr
