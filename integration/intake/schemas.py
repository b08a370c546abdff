"""Notification schemas: Amazon's official JSON schemas, plus a built-in floor.

The official files (``*Notification.json``) ship inside the package (``integration/amazon/models``, the default of
``SPAPI_MODELS_DIR``). Every notification also gets the built-in check of the envelope and of the fields the
product routes on, so a body the product cannot act on is held, not dropped or half-applied, even where a
configured folder lacks the official files.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import jsonschema

from integration.config import DEFAULT_MODELS_DIR

log = logging.getLogger("slsync.intake")
FILES = {
    "ORDER_CHANGE": "OrderChangeNotification.json",
    "FBA_INVENTORY_AVAILABILITY_CHANGES": "FBAInventoryAvailabilityChangeNotification.json",
    "REPORT_PROCESSING_FINISHED": "ReportProcessingFinishedNotification.json",
    "FEED_PROCESSING_FINISHED": "FeedProcessingFinishedNotification.json",
    "LISTINGS_ITEM_STATUS_CHANGE": "ListingsItemStatusChangeNotification.json",
    "LISTINGS_ITEM_ISSUES_CHANGE": "ListingsItemIssuesChangeNotification.json",
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "ListingsItemMfnQuantityChange.json",
}
# The listings schema's enum says LISTINGS_ITEM_STATUS_CHANGED while its own example and the docs send
# LISTINGS_ITEM_STATUS_CHANGE [reference sp-api.md §6.4]: that one disagreement is not the sender's fault.
TOLERATED = {("LISTINGS_ITEM_STATUS_CHANGE", ("NotificationType",))}

# The floor: (path in the notification, expected type) per type; "*" applies to every type.
_PASCAL = [("NotificationType", str), ("EventTime", str), ("Payload", dict), ("NotificationMetadata", dict),
           ("NotificationMetadata.NotificationId", str)]
_CAMEL = [("notificationType", str), ("eventTime", str), ("payload", dict), ("notificationMetadata", dict),
          ("notificationMetadata.notificationId", str)]
REQUIRED = {
    "ORDER_CHANGE": _PASCAL + [("Payload.OrderChangeNotification", dict),
                               ("Payload.OrderChangeNotification.AmazonOrderId", str)],
    "FBA_INVENTORY_AVAILABILITY_CHANGES": _PASCAL[:3] + [("Payload.SKU", str)],
    "REPORT_PROCESSING_FINISHED": _CAMEL + [("payload.reportProcessingFinishedNotification.reportId", str)],
    "FEED_PROCESSING_FINISHED": _CAMEL + [("payload.feedProcessingFinishedNotification.feedId", str)],
    # EventBridge-only types [reference sp-api.md §6.1, §6.4]: recorded per SKU
    "LISTINGS_ITEM_STATUS_CHANGE": _PASCAL + [("Payload.Sku", str)],
    "LISTINGS_ITEM_ISSUES_CHANGE": _PASCAL + [("Payload.Sku", str)],
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": _PASCAL + [("Payload.Sku", str)],
}


def _get(doc, path: str):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


class Schemas:
    """Validators per notification type, loaded once per process."""

    def __init__(self, directory: str | Path | None = None):
        self.dir = Path(directory or DEFAULT_MODELS_DIR)
        self._lock = threading.Lock()
        self._validators: dict[str, object] = {}
        self.official = (self.dir / FILES["ORDER_CHANGE"]).is_file()
        if not self.official:
            log.warning("notification schemas not found in %s; using the built-in check only", self.dir)

    def _validator(self, kind: str):
        with self._lock:
            if kind not in self._validators:
                path = self.dir / FILES[kind]
                schema = json.loads(path.read_text(encoding="utf-8"))
                cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
                self._validators[kind] = cls(schema)
            return self._validators[kind]

    def errors(self, kind: str, note) -> list[str]:
        """Why ``note`` is not a valid ``kind`` notification (empty when it is)."""
        if not isinstance(note, dict):
            return [f"a notification is a JSON object, got {type(note).__name__}"]
        problems = [f"{path}: required {typ.__name__}" for path, typ in REQUIRED.get(kind, [])
                    if not isinstance(_get(note, path), typ)]
        if self.official and kind in FILES:
            for e in self._validator(kind).iter_errors(note):
                where = tuple(str(p) for p in e.absolute_path)
                if (kind, where) not in TOLERATED:
                    problems.append(f"{'.'.join(where) or '(root)'}: {e.message[:300]}")
        return problems


_default: Schemas | None = None


def default_schemas(directory: str | None = None) -> Schemas:
    global _default
    if _default is None or (directory and Path(directory) != _default.dir):
        _default = Schemas(directory or None)
    return _default
