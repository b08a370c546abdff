"""Amazon's identifiers: checked before they go into a URL path, and every path segment quoted.

A value put into a path unchecked can walk the path: an ORDER_CHANGE whose AmazonOrderId was
``../../../sellers/v1/marketplaceParticipations`` once made a worker call another operation with the seller's
token, and ``...?includedData=BUYER#`` added a query string (issue 11). So each API module checks its ids here
before any call (``InvalidId``: not retried, held with the reason) and builds paths with ``segment`` (nothing
a segment holds can end it: ``/``, ``?``, ``#``, ``%`` and ``..`` are all encoded).

The formats, from Amazon's models and samples (the models declare every path id as a plain string):

- order id: ``3-7-7``, e.g. ``902-1845936-5435065`` (ordersV0.json, orders_2026-01-01.json examples,
  OrderChangeNotification.json; the simulator makes the same shape). The first group is taken as letters or digits:
  orders of other channels (Orders v2026-01-01 ``salesChannel.channelName`` NON_AMAZON, multi-channel fulfilment)
  are known in the wild with a letter prefix such as ``S01``, and no model rules them out; the shape still cannot
  walk a path or carry a query.
- report, feed, report/feed document ids: numeric (``54517018502``), Amazon's examples ``ID323`` and
  ``amzn1.tortuga.3.<uuid>.T3YUVYPGKE9BMY`` (reports_2021-06-30.json, feeds_2021-06-30.json, the
  REPORT/FEED_PROCESSING_FINISHED samples): letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit.
- seller id: ``A`` then upper-case letters and digits, e.g. ``A3TH9S8BH6GOGM`` (notification samples).
- destination and subscription ids: UUIDs (notifications.json examples).
- notification type: upper-case words joined by ``_`` (notifications.json ``NotificationType``).
- SKU: any text up to 40 characters (listingsItems_2021-08-01.json: "special characters must be URL-encoded"),
  so it is never checked away, only quoted.
- marketplace id: one of Amazon's list below, each in one selling region.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from integration.errors import Permanent

ORDER_ID = re.compile(r"[0-9A-Z]{3}-[0-9]{7}-[0-9]{7}")
# report, feed and document ids: a plain token that cannot be "." or ".." or hold a separator
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
SELLER_ID = re.compile(r"A[0-9A-Z]{6,20}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NOTIFICATION_TYPE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*")
SKU_MAX = 40

# Amazon's "Marketplace IDs" page (developer-docs.amazon.com/sp-api/docs/marketplace-ids) and the region each is
# served from ("SP-API Endpoints"; sp-api.md §1): id -> (country code, region).
MARKETPLACES = {
    "A2EUQ1WTGCTBG2": ("CA", "na"), "ATVPDKIKX0DER": ("US", "na"), "A1AM78C64UM0Y8": ("MX", "na"),
    "A2Q3Y263D00KWC": ("BR", "na"),
    "A28R8C7NBKEWEA": ("IE", "eu"), "A1RKKUPIHCS9HS": ("ES", "eu"), "A1F83G8C2ARO7P": ("UK", "eu"),
    "A13V1IB3VIYZZH": ("FR", "eu"), "AMEN7PMS3EDWL": ("BE", "eu"), "A1805IZSGTT6HS": ("NL", "eu"),
    "A1PA6795UKMFR9": ("DE", "eu"), "APJ6JRA9NG5V4": ("IT", "eu"), "A2NODRKZP88ZB9": ("SE", "eu"),
    "AE08WJ6YKNBMC": ("ZA", "eu"), "A1C3SOZRARQ6R3": ("PL", "eu"), "ARBP9OOSHTCHU": ("EG", "eu"),
    "A33AVAJ2PDY3EV": ("TR", "eu"), "A17E79C6D8DWNP": ("SA", "eu"), "A2VIGQ35RCS4UG": ("AE", "eu"),
    "A21TJRUUN4KGV": ("IN", "eu"),
    "A19VAU5U5O7RUS": ("SG", "fe"), "A39IBJ37TRP1C6": ("AU", "fe"), "A1VC38T7YXB528": ("JP", "fe"),
}
REGION_NAMES = {"na": "North America", "eu": "Europe", "fe": "Far East"}


class InvalidId(Permanent):
    """A value that is not an identifier of the kind Amazon uses; no request was made with it.

    Permanent: retrying cannot fix it, so the task stops at once and its entity is held with this message.
    """

    def __init__(self, kind: str, value: object, expected: str):
        shown = shown_value(value)
        super().__init__(f"invalid {kind} {shown}: expected {expected}; no SP-API call was made",
                         details={"reason": "invalid_id", "field": kind, "value": shown})
        self.reason = "invalid_id"


def shown_value(value: object, limit: int = 60) -> str:
    """``repr`` of a value, cut to ``limit`` characters, safe to put in a message, a hold or a log line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def _check(kind: str, pattern: re.Pattern, value: object, expected: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidId(kind, value, expected)
    return value


def is_order_id(value: object) -> bool:
    return isinstance(value, str) and ORDER_ID.fullmatch(value) is not None


def order_id(value: object) -> str:
    return _check("Amazon order id", ORDER_ID, value, "3-7-7 like 902-1845936-5435065")


def report_id(value: object) -> str:
    return _check("report id", TOKEN, value, "letters, digits, '.', '_' or '-' (like 54517018502)")


def feed_id(value: object) -> str:
    return _check("feed id", TOKEN, value, "letters, digits, '.', '_' or '-' (like 53347018456)")


def document_id(value: object) -> str:
    return _check("document id", TOKEN, value, "letters, digits, '.', '_' or '-' (like amzn1.tortuga.3.<id>)")


def seller_id(value: object) -> str:
    return _check("seller id", SELLER_ID, value, "'A' then 6-20 upper-case letters or digits")


def destination_id(value: object) -> str:
    return _check("destination id", UUID, value, "a UUID")


def subscription_id(value: object) -> str:
    return _check("subscription id", UUID, value, "a UUID")


def notification_type(value: object) -> str:
    return _check("notification type", NOTIFICATION_TYPE, value, "upper-case words joined by '_' (ORDER_CHANGE)")


def sku(value: object) -> str:
    """A seller SKU: any text of 1-40 characters (quoted in paths, never narrowed)."""
    if not isinstance(value, str) or not 0 < len(value) <= SKU_MAX:
        raise InvalidId("SKU", value, f"1-{SKU_MAX} characters")
    return value


def marketplace_region(value: str) -> str | None:
    """The selling region (na, eu, fe) of a marketplace id; None for an id Amazon does not list."""
    known = MARKETPLACES.get(value)
    return known[1] if known else None


def segment(value: object) -> str:
    """One path segment, percent-encoded so that nothing in it can end the segment or the path.

    ``.`` and ``..`` are encoded too (``%2E``): as they are, an HTTP client removes them as dot-segments (RFC 3986
    §5.2.4) and a SKU ``..`` would address the seller's listings collection instead of the listing.
    """
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text
