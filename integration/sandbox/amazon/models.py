"""Validation against Amazon's official OpenAPI models, shipped in ``integration/amazon/models``.

``Models.find()`` reads the folder named by ``SPAPI_MODELS_DIR`` (by default the shipped one); it returns None only
when a folder configured elsewhere lacks the models, and the simulator then runs without validation.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import jsonschema

# Simulator operation name -> (model file, operationId in that model)
OPERATIONS = {
    "searchOrders": ("orders_2026-01-01.json", "searchOrders"),
    "getOrder": ("orders_2026-01-01.json", "getOrder"),
    "confirmShipment": ("ordersV0.json", "confirmShipment"),
    "createReport": ("reports_2021-06-30.json", "createReport"),
    "getReports": ("reports_2021-06-30.json", "getReports"),
    "getReport": ("reports_2021-06-30.json", "getReport"),
    "cancelReport": ("reports_2021-06-30.json", "cancelReport"),
    "getReportDocument": ("reports_2021-06-30.json", "getReportDocument"),
    "createFeedDocument": ("feeds_2021-06-30.json", "createFeedDocument"),
    "createFeed": ("feeds_2021-06-30.json", "createFeed"),
    "getFeed": ("feeds_2021-06-30.json", "getFeed"),
    "getFeeds": ("feeds_2021-06-30.json", "getFeeds"),
    "getFeedDocument": ("feeds_2021-06-30.json", "getFeedDocument"),
    "getListingsItem": ("listingsItems_2021-08-01.json", "getListingsItem"),
    "patchListingsItem": ("listingsItems_2021-08-01.json", "patchListingsItem"),
    "getInventorySummaries": ("fbaInventory.json", "getInventorySummaries"),
    "getDestinations": ("notifications.json", "getDestinations"),
    "createDestination": ("notifications.json", "createDestination"),
    "deleteDestination": ("notifications.json", "deleteDestination"),
    "getSubscription": ("notifications.json", "getSubscription"),
    "createSubscription": ("notifications.json", "createSubscription"),
    "deleteSubscriptionById": ("notifications.json", "deleteSubscriptionById"),
    "getMarketplaceParticipations": ("sellers.json", "getMarketplaceParticipations"),
}
NOTIFICATION_SCHEMAS = {
    "ORDER_CHANGE": "OrderChangeNotification.json",
    "FBA_INVENTORY_AVAILABILITY_CHANGES": "FBAInventoryAvailabilityChangeNotification.json",
    "REPORT_PROCESSING_FINISHED": "ReportProcessingFinishedNotification.json",
    "FEED_PROCESSING_FINISHED": "FeedProcessingFinishedNotification.json",
}


class Models:
    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self._lock = threading.Lock()
        self._docs: dict[str, dict] = {}
        self._validators: dict[tuple, jsonschema.Validator | None] = {}

    @classmethod
    def find(cls, directory: str | os.PathLike | None = None) -> Models | None:
        """The models in ``directory`` (default: the SPAPI_MODELS_DIR setting), or None where they are absent."""
        if not directory:
            from integration.config import settings

            directory = settings().spapi_models_dir
        path = Path(directory)
        return cls(path) if (path / "orders_2026-01-01.json").is_file() else None

    def doc(self, name: str) -> dict:
        with self._lock:
            if name not in self._docs:
                self._docs[name] = json.loads((self.dir / name).read_text(encoding="utf-8"))
            return self._docs[name]

    def _operation(self, model: str, operation_id: str) -> dict:
        for methods in self.doc(model)["paths"].values():
            for op in methods.values():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    return op
        raise KeyError(f"{operation_id} not in {model}")

    def response_validator(self, operation: str, status: int):
        """A validator for the body of ``status`` from ``operation``; None when the model declares no body."""
        key = ("op", operation, status)
        if key not in self._validators:
            model, op_id = OPERATIONS[operation]
            responses = self._operation(model, op_id)["responses"]
            declared = responses.get(str(status))
            schema = (declared or {}).get("schema")
            self._validators[key] = None if schema is None else jsonschema.Draft4Validator(
                {**schema, "definitions": self.doc(model).get("definitions", {})})
            if declared is None:
                self._validators[key] = _Undeclared(operation, status)
        return self._validators[key]

    def validate_response(self, operation: str, status: int, body) -> list[str]:
        """Problems with one response (empty when it conforms)."""
        validator = self.response_validator(operation, status)
        if isinstance(validator, _Undeclared):
            return [f"{operation}: status {status} is not declared by the model"]
        if validator is None:
            return [] if body in (None, b"", {}) else [f"{operation}: status {status} declares no body"]
        return [f"{operation} {status}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(body)]

    def schema_validator(self, name: str):
        """A validator for a standalone JSON schema file (feeds, notifications)."""
        key = ("schema", name)
        if key not in self._validators:
            schema = self.doc(name)
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            self._validators[key] = cls(schema)
        return self._validators[key]

    def validate(self, name: str, instance) -> list[str]:
        return [f"{name}: {e.message} at {list(e.absolute_path)}" for e in self.schema_validator(name).iter_errors(instance)]


class _Undeclared:
    def __init__(self, operation: str, status: int):
        self.operation, self.status = operation, status
