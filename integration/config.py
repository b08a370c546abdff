"""The one place that reads the environment.

Settings come from the process environment, and from a ``.env`` file (python-dotenv) where one exists.
``load_settings()`` validates every value once at start-up; a bad or missing value raises ``ConfigError``
naming the variable and what is expected. Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from integration.errors import ConfigError

REGION_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
# Amazon's official models (notification schemas, the simulator's contract), shipped inside the package unchanged
# (Apache-2.0, with their LICENSE, NOTICE and a SHA-256 manifest): see integration/amazon/models/README.md.
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent / "amazon" / "models"
# Share of Amazon's rate the fleet's token bucket asks for (SPAPI_RATE_MARGIN's default): a little under what Amazon
# allows, so latency jitter between our bucket and Amazon's never costs a 429.
DEFAULT_RATE_MARGIN = 0.95
# Addresses that reach this machine only: a sandbox may listen there without credentials.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    sandbox: bool
    redis_url: str
    broker_url: str
    sl_dsn: str
    sl_cpny_id: str
    seller_id: str
    region: str
    spapi_endpoint: str
    marketplace_ids: tuple[str, ...]
    lwa_token_url: str
    lwa_client_id: str = field(repr=False)
    lwa_client_secret: str = field(repr=False)
    lwa_refresh_token: str = field(repr=False)
    http_timeout: float
    mapping_file: str
    intake_api_key: str = field(repr=False)
    intake_api_key_header: str
    intake_max_body: int
    intake_threads: int
    spapi_models_dir: str
    sqs_endpoint_url: str
    sqs_region: str
    sqs_wait_seconds: int
    sqs_max_receives: int
    sqs_dead_letter_url: str
    flower_basic_auth: str = field(repr=False)
    alert_notifier: str
    alert_webhook_url: str
    alert_repeat_seconds: float
    alert_resolve_after: float
    alert_smtp_host: str
    alert_smtp_port: int
    alert_smtp_from: str
    alert_smtp_to: tuple[str, ...]
    alert_smtp_tls: str
    alert_smtp_user: str
    alert_smtp_password: str = field(repr=False)
    log_level: str
    visibility_timeout: int
    task_time_limit: int
    task_max_retries: int
    task_patient_retries: int
    worker_lost_max: int
    retry_backoff_base: float
    retry_backoff_max: float
    breaker_min_calls: int
    breaker_failure_rate: float
    breaker_window: float
    breaker_reset_timeout: float
    heartbeat_seconds: float
    lease_seconds: float
    orders_sweep_seconds: float
    fulfillment_sweep_seconds: float
    ca_bundle: str = ""  # CA certificates for HTTPS to Amazon (file or folder); empty = requests' own bundle
    spapi_time_scale: float = 1.0
    spapi_rate_margin: float = DEFAULT_RATE_MARGIN
    # Fernet key (cryptography) the LWA access token is encrypted with in Redis; empty = kept as Amazon issued it
    token_encryption_key: str = field(default="", repr=False)
    # The day the LWA client secret expires (Seller Central / Solution Provider Portal shows it; 180 days) or None
    lwa_client_secret_expires: date | None = None
    # GO_LIVE: orders Amazon shipped or cancelled before it (and SL never saw) are history, never conflicts (aware, UTC)
    go_live: datetime | None = None
    # SL_CODEPAGE: the code page SL's CHAR and note columns hold (cp1252; utf-8 or none: no conversion). SQL Server
    # reports its own from the column collation, which wins; this is the fallback there and the rule elsewhere.
    sl_codepage: str = "cp1252"
    # Settlements (issue 14): where downloaded settlement files are kept (the file is the evidence behind a GL
    # batch, and a hold names it); how often beat polls for new settlement reports; how many tries a download or an
    # unreadable file gets before it is held for a person.
    settlements_dir: str = ".sandbox/settlements"
    settlements_poll_seconds: float = 21600.0
    settlement_attempts: int = 5

    @property
    def has_lwa_credentials(self) -> bool:
        return bool(self.lwa_client_id and self.lwa_client_secret and self.lwa_refresh_token)


class _Reader:
    """Reads and validates one variable at a time; errors name the variable."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def text(self, name: str, default: str | None = None) -> str:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            if default is None:
                raise ConfigError(f"{name} is required but not set (see .env.example)")
            return default
        return value.strip()

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(f"{name} must be {bound}, got {value}")
        return value

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name, str(default))
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be >= {minimum}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name, "true" if default else "false").lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def url(self, name: str, default: str | None, schemes: tuple[str, ...]) -> str:
        value = self.text(name, default)
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
            raise ConfigError(f"{name} must be a URL with scheme {' or '.join(schemes)}, got {value!r}")
        return value

    def path(self, name: str, default: str = "", *, folder: bool = False) -> str:
        """A file (or with ``folder``, a folder) that must exist when the variable is set; ``default`` is not checked."""
        value = self.text(name, default)
        if value != default and not (Path(value).is_dir() if folder else Path(value).exists()):
            raise ConfigError(f"{name} must be {'a folder' if folder else 'a file or folder'} that exists, got {value!r}")
        return value

    def day(self, name: str) -> date | None:
        """An ISO date (2027-05-01), or None when unset."""
        raw = self.text(name, "")
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None

    def moment(self, name: str) -> datetime | None:
        """An ISO 8601 date (midnight UTC) or date and time (no offset = UTC), as an aware UTC datetime; None unset."""
        raw = self.text(name, "")
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{name} must be an ISO 8601 date or date and time (2027-05-01, 2027-05-01T06:00Z or "
                              f"2027-05-01T08:00+02:00), got {raw!r}") from None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def fernet_key(self, name: str) -> str:
        """A Fernet key (32 url-safe base64-encoded bytes), or empty when unset; the value is never echoed."""
        raw = self.text(name, "")
        if raw:
            from cryptography.fernet import Fernet

            try:
                Fernet(raw.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(f"{name} must be a Fernet key (32 url-safe base64-encoded bytes, e.g. from "
                                  "`python -c 'from cryptography.fernet import Fernet; "
                                  "print(Fernet.generate_key().decode())'`)") from None
        return raw

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value


def _codepage(r: _Reader) -> str:
    from integration.sl.text import codepage

    value = r.text("SL_CODEPAGE", "cp1252").lower()
    try:
        codepage(value)
    except ValueError:
        raise ConfigError(f"SL_CODEPAGE must be a code page such as cp1252, cp1250, cp932 or utf-8 (none: no "
                          f"conversion), got {value!r}") from None
    return value


def _environment(env_file: str | os.PathLike | None) -> dict[str, str]:
    values: dict[str, str] = {}
    path = Path(env_file) if env_file else Path(os.environ.get("SLSYNC_ENV_FILE", ".env"))
    if path.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)  # the real environment wins over the file
    return values


def endpoint_region(url: str) -> str | None:
    """The selling region an Amazon SP-API host serves (production or sandbox host, sp-api.md §1), else None."""
    match = re.fullmatch(r"(?:sandbox\.)?sellingpartnerapi-(na|eu|fe)\.amazon\.com", urlparse(url).hostname or "")
    return match.group(1) if match else None


def _check_amazon(s: Settings) -> None:
    """Tokens and the client secret travel only over https, except to this machine (the sandbox simulator); the
    marketplaces are Amazon's and served by the endpoint's region (one region per configuration)."""
    from integration.amazon.ids import MARKETPLACES, REGION_NAMES

    for name, url in (("SPAPI_ENDPOINT", s.spapi_endpoint), ("LWA_TOKEN_URL", s.lwa_token_url)):
        if urlparse(url).scheme != "https" and urlparse(url).hostname not in LOOPBACK:
            raise ConfigError(f"{name} must be an https:// URL (access tokens and the client secret travel on it); "
                              f"plain http only reaches a simulator on this machine (127.0.0.1), got {url!r}")
    for m in s.marketplace_ids:
        if m not in MARKETPLACES:
            raise ConfigError(f"SPAPI_MARKETPLACE_IDS: {m[:40]!r} is not an Amazon marketplace id (Amazon's list: "
                              "developer-docs.amazon.com/sp-api/docs/marketplace-ids)")
    if urlparse(s.spapi_endpoint).hostname in LOOPBACK:
        return  # the simulator serves any region
    region = endpoint_region(s.spapi_endpoint) or s.region
    for m in s.marketplace_ids:
        country, theirs = MARKETPLACES[m]
        if theirs != region:
            raise ConfigError(
                f"SPAPI_MARKETPLACE_IDS: {m} ({country}) is a {REGION_NAMES[theirs]} marketplace, but SPAPI_ENDPOINT "
                f"{s.spapi_endpoint} serves {REGION_NAMES[region]}; configure one region per deployment "
                f"(SPAPI_REGION={theirs} and its marketplaces)")


def _settlements_dir(dsn: str) -> str:
    """Beside the SQLite SL database (the sandbox's .sandbox/), else ./data/settlements."""
    if dsn.startswith("sqlite:///"):
        return str(Path(dsn[len("sqlite:///"):]).parent / "settlements")
    return "data/settlements"


def load_settings(env: dict[str, str] | None = None, env_file: str | None = None) -> Settings:
    """Read and validate every setting; raise ``ConfigError`` naming the first bad variable."""
    r = _Reader(_environment(env_file) if env is None else env)
    sandbox = r.boolean("SLSYNC_SANDBOX", True)
    redis_url = r.url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"))
    region = r.choice("SPAPI_REGION", "na", tuple(REGION_ENDPOINTS))
    default_endpoint = "http://127.0.0.1:8765" if sandbox else REGION_ENDPOINTS[region]
    marketplaces = tuple(m.strip() for m in r.text("SPAPI_MARKETPLACE_IDS", "ATVPDKIKX0DER").split(",") if m.strip())
    if not marketplaces:
        raise ConfigError("SPAPI_MARKETPLACE_IDS must list at least one marketplace id, comma-separated")
    dsn = r.text("SL_DSN", "sqlite:///.sandbox/sl.db")
    if not dsn.startswith("sqlite:///") and "=" not in dsn:
        raise ConfigError(f"SL_DSN must be sqlite:///path or an ODBC connection string (KEY=value;...), got {dsn!r}")
    visibility = r.integer("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=5)
    time_limit = r.integer("CELERY_TASK_TIME_LIMIT", 300, minimum=5)
    backoff_max = r.number("RETRY_BACKOFF_MAX", 300.0, minimum=1.0)
    lease = r.number("ENTITY_LEASE_SECONDS", 30.0, minimum=1.0)
    if time_limit + max(backoff_max, lease) >= visibility:
        raise ConfigError(
            "CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT + the longest retry countdown "
            f"(RETRY_BACKOFF_MAX or ENTITY_LEASE_SECONDS: {time_limit} + {max(backoff_max, lease):g}), got {visibility}; "
            "otherwise running tasks are redelivered"
        )
    settings = Settings(
        sandbox=sandbox,
        redis_url=redis_url,
        broker_url=r.url("BROKER_URL", redis_url, ("redis", "rediss", "unix")),
        sl_dsn=dsn,
        sl_cpny_id=r.text("SL_CPNY_ID", "AMZDEMO"),
        seller_id=r.text("SPAPI_SELLER_ID", "A2SANDBOXSELLER" if sandbox else None),
        region=region,
        spapi_endpoint=r.url("SPAPI_ENDPOINT", default_endpoint, ("http", "https")).rstrip("/"),
        marketplace_ids=marketplaces,
        lwa_token_url=r.url(
            "LWA_TOKEN_URL", default_endpoint + "/auth/o2/token" if sandbox else DEFAULT_TOKEN_URL, ("http", "https")
        ),
        lwa_client_id=r.text("LWA_CLIENT_ID", "sandbox-client" if sandbox else None),
        lwa_client_secret=r.text("LWA_CLIENT_SECRET", "sandbox-secret" if sandbox else None),
        lwa_refresh_token=r.text("LWA_REFRESH_TOKEN", "Atzr|sandbox-refresh-token" if sandbox else None),
        http_timeout=r.number("SPAPI_HTTP_TIMEOUT", 20.0, minimum=0.1),
        mapping_file=r.text("SLSYNC_MAPPING_FILE", ""),
        intake_api_key=r.text("INTAKE_API_KEY", ""),
        intake_api_key_header=r.text("INTAKE_API_KEY_HEADER", "x-api-key"),
        intake_max_body=r.integer("INTAKE_MAX_BODY", 256 * 1024, minimum=1024),
        intake_threads=r.integer("INTAKE_THREADS", 8, minimum=1, maximum=256),
        spapi_models_dir=r.path("SPAPI_MODELS_DIR", str(DEFAULT_MODELS_DIR), folder=True),
        sqs_endpoint_url=r.text("SQS_ENDPOINT_URL", ""),
        sqs_region=r.text("SQS_REGION", "us-east-1"),
        sqs_wait_seconds=r.integer("SQS_WAIT_SECONDS", 20, minimum=0, maximum=20),
        sqs_max_receives=r.integer("SQS_MAX_RECEIVES", 5, minimum=1, maximum=1000),
        sqs_dead_letter_url=r.text("SQS_DEAD_LETTER_URL", ""),
        flower_basic_auth=r.text("FLOWER_BASIC_AUTH", ""),
        alert_notifier=r.text("ALERT_NOTIFIER", "log"),
        alert_webhook_url=r.text("ALERT_WEBHOOK_URL", ""),
        alert_repeat_seconds=r.number("ALERT_REPEAT_SECONDS", 3600.0, minimum=1.0),
        alert_resolve_after=r.number("ALERT_RESOLVE_AFTER", 900.0, minimum=1.0),
        alert_smtp_host=r.text("ALERT_SMTP_HOST", ""),
        alert_smtp_port=r.integer("ALERT_SMTP_PORT", 587, minimum=1, maximum=65535),
        alert_smtp_from=r.text("ALERT_SMTP_FROM", ""),
        alert_smtp_to=tuple(a.strip() for a in r.text("ALERT_SMTP_TO", "").split(",") if a.strip()),
        alert_smtp_tls=r.choice("ALERT_SMTP_TLS", "starttls", ("starttls", "ssl", "none")),
        alert_smtp_user=r.text("ALERT_SMTP_USER", ""),
        alert_smtp_password=r.text("ALERT_SMTP_PASSWORD", ""),
        log_level=r.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
        visibility_timeout=visibility,
        task_time_limit=time_limit,
        task_max_retries=r.integer("TASK_MAX_RETRIES", 8, minimum=0, maximum=100),
        task_patient_retries=r.integer("TASK_PATIENT_RETRIES", 100, minimum=0, maximum=10000),
        worker_lost_max=r.integer("WORKER_LOST_MAX", 5, minimum=1, maximum=100),
        retry_backoff_base=r.number("RETRY_BACKOFF_BASE", 2.0, minimum=0.01),
        retry_backoff_max=backoff_max,
        breaker_min_calls=r.integer("BREAKER_MIN_CALLS", 20, minimum=1),
        breaker_failure_rate=r.number("BREAKER_FAILURE_RATE", 0.5, minimum=0.01),
        breaker_window=r.number("BREAKER_WINDOW", 60.0, minimum=1.0),
        breaker_reset_timeout=r.number("BREAKER_RESET_TIMEOUT", 30.0, minimum=0.1),
        heartbeat_seconds=r.number("BEAT_HEARTBEAT_SECONDS", 60.0, minimum=0.5),
        lease_seconds=lease,
        orders_sweep_seconds=r.number("ORDERS_SWEEP_SECONDS", 300.0, minimum=1.0),
        fulfillment_sweep_seconds=r.number("FULFILLMENT_SWEEP_SECONDS", 120.0, minimum=1.0),
        ca_bundle=r.path("REQUESTS_CA_BUNDLE") or r.path("CURL_CA_BUNDLE"),
        spapi_time_scale=r.number("SPAPI_TIME_SCALE", 1.0, minimum=0.001),
        spapi_rate_margin=r.number("SPAPI_RATE_MARGIN", DEFAULT_RATE_MARGIN, minimum=0.1),
        token_encryption_key=r.fernet_key("TOKEN_ENCRYPTION_KEY"),
        lwa_client_secret_expires=r.day("LWA_CLIENT_SECRET_EXPIRES"),
        go_live=r.moment("GO_LIVE"),
        sl_codepage=_codepage(r),
        settlements_dir=r.text("SETTLEMENTS_DIR", _settlements_dir(dsn)),
        settlements_poll_seconds=r.number("SETTLEMENTS_POLL_SECONDS", 21600.0, minimum=1.0),
        settlement_attempts=r.integer("SETTLEMENT_ATTEMPTS", 5, minimum=1, maximum=100),
    )
    _check_amazon(settings)
    if settings.spapi_rate_margin > 1.0:
        raise ConfigError(f"SPAPI_RATE_MARGIN must be <= 1 (a share of Amazon's rate), got {settings.spapi_rate_margin}")
    if settings.flower_basic_auth and ":" not in settings.flower_basic_auth:
        raise ConfigError("FLOWER_BASIC_AUTH must be user:password (comma-separate several)")
    notifiers = [n.strip() for n in settings.alert_notifier.split(",") if n.strip()]
    if not notifiers or any(n not in ("log", "webhook", "smtp") and ":" not in n for n in notifiers):
        raise ConfigError("ALERT_NOTIFIER must list log, smtp, webhook or module:function (comma-separated)")
    if "webhook" in notifiers and not settings.alert_webhook_url:
        raise ConfigError("ALERT_WEBHOOK_URL is required when ALERT_NOTIFIER includes webhook")
    if "smtp" in notifiers and not (settings.alert_smtp_host and settings.alert_smtp_from and settings.alert_smtp_to):
        raise ConfigError("ALERT_SMTP_HOST, ALERT_SMTP_FROM and ALERT_SMTP_TO are required when ALERT_NOTIFIER "
                          "includes smtp")
    if settings.breaker_failure_rate > 1.0:
        raise ConfigError(f"BREAKER_FAILURE_RATE must be <= 1 (a share of calls), got {settings.breaker_failure_rate}")
    return settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, loaded and validated once."""
    return load_settings()
