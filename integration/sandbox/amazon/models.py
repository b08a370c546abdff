"""Validation against Amazon's official OpenAPI models, shipped in ``integration/amazon/models``: the simulator's
responses (a violation is recorded) and every request it receives (a violation is Amazon's 400).

``Models.find()`` reads the folder named by ``SPAPI_MODELS_DIR`` (by default the shipped one); it returns None only
when a folder configured elsewhere lacks the models, and the simulator then runs without validation.
"""

from __future__ import annotations

import json
import os
import re
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


# Amazon's ISO 8601 date-times as its clients send them (``2025-01-01T00:00:00Z``, with fraction or offset).
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$", re.I)
INTEGER = re.compile(r"^[+-]?\d+$")
# Limits the models state only in a parameter's description, not in its schema.
DESCRIBED = {
    # orders_2026-01-01.json searchOrders maxResultsPerPage: "The value must be between 1 and 100."
    ("searchOrders", "maxResultsPerPage"): {"minimum": 1, "maximum": 100},
}
# The 400 body when a model has no 400 example of its own (the Orders and Sellers models' wording).
DEFAULT_INVALID = ("InvalidInput", "Invalid Input")


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

    # -- requests ------------------------------------------------------------------------------------------

    def _spec(self, operation: str) -> tuple[str, list[dict]]:
        """(model file, the operation's parameters including the path-level ones, ``$ref``s resolved)."""
        model, op_id = OPERATIONS[operation]
        doc = self.doc(model)
        for methods in doc["paths"].values():
            for op in methods.values():
                if isinstance(op, dict) and op.get("operationId") == op_id:
                    params = [*methods.get("parameters", []), *op.get("parameters", [])]
                    return model, [doc["parameters"][p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                                   for p in params]
        raise KeyError(f"{op_id} not in {model}")

    def invalid_input(self, operation: str) -> tuple[str, str]:
        """(code, message) of the model's own 400 example for the API, e.g. ``("400", "Invalid input")`` in the
        Reports and Feeds models, ``("BAD_REQUEST", "Invalid input")`` in Listings, ``InvalidInput`` in Orders."""
        key = ("invalid", OPERATIONS[operation][0])
        if key not in self._validators:
            found = DEFAULT_INVALID
            for methods in self.doc(key[1])["paths"].values():
                for op in methods.values():
                    static = (op.get("responses", {}).get("400", {}).get("x-amzn-api-sandbox", {}).get("static", [])
                              if isinstance(op, dict) else [])
                    errors = [e for s in static for e in s.get("response", {}).get("errors", [])]
                    if errors and found is DEFAULT_INVALID:
                        found = (str(errors[0]["code"]), errors[0]["message"])
            self._validators[key] = found
        return self._validators[key]

    def validate_request(self, operation: str, args: dict[str, str], params: dict[str, list[str]],
                         body: bytes) -> list[str]:
        """What is wrong with one request by the operation's model (empty when nothing is): unknown query
        parameters, missing required ones, values of the wrong type, enum, format or range, array sizes (query
        arrays are one value, comma-separated: Swagger's default ``collectionFormat`` csv, which the Listings model
        states), and the JSON body against the body schema."""
        model, spec = self._spec(operation)
        problems: list[str] = []
        declared = {p["name"] for p in spec if p["in"] == "query"}
        problems += [f"Unknown query parameter: {name}" for name in sorted(set(params) - declared)]
        for p in spec:
            name = p["name"]
            if p["in"] == "path":
                if not args.get(name):
                    problems.append(f"Missing required path parameter: {name}")
            elif p["in"] == "query":
                values = params.get(name)
                if not values:
                    if p.get("required"):
                        problems.append(f"Missing required parameter: {name}")
                    continue
                if len(values) > 1 and p.get("collectionFormat") != "multi":
                    problems.append(f"{name} must be given once (comma-separated values for a list)")
                    continue
                problems += _query_value(p, values[0], DESCRIBED.get((operation, name), {}))
            elif p["in"] == "body":
                problems += self._body(model, operation, p, body)
        return problems

    def _body(self, model: str, operation: str, param: dict, body: bytes) -> list[str]:
        if not body.strip():
            return ["The request body is required."] if param.get("required") else []
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return ["The request body is not valid JSON."]
        key = ("body", operation)
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft4Validator(
                {**param["schema"], "definitions": self.doc(model).get("definitions", {})}, format_checker=FORMATS)
        return [f"{e.message} at body{''.join(f'[{p!r}]' for p in e.absolute_path)}"
                for e in self._validators[key].iter_errors(value)]

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


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(value) -> bool:
    return not isinstance(value, str) or bool(DATE_TIME.match(value))


def _query_value(param: dict, raw: str, extra: dict) -> list[str]:
    """Problems with one query parameter's value, by its type in the model."""
    name, kind = param["name"], param.get("type", "string")
    if kind == "array":
        values = raw.split(",")
        if any(not v for v in values):
            return [f"{name} has an empty value"]
        problems = []
        if "minItems" in param and len(values) < param["minItems"]:
            problems.append(f"{name} needs at least {param['minItems']} value(s)")
        if "maxItems" in param and len(values) > param["maxItems"]:
            problems.append(f"{name} takes at most {param['maxItems']} value(s), got {len(values)}")
        item = {"name": name, **param.get("items", {})}
        return problems + [p for v in values for p in _query_value(item, v, {})]
    problems = []
    if "enum" in param and raw not in param["enum"]:
        problems.append(f"Invalid value for {name}: {raw!r} is not one of {', '.join(map(str, param['enum']))}")
    if kind == "integer" or kind == "number":
        try:
            number = int(raw) if kind == "integer" and INTEGER.match(raw) else float(raw) if kind == "number" else None
        except ValueError:
            number = None
        if number is None:
            return [f"Invalid value for {name}: {raw!r} is not {'an integer' if kind == 'integer' else 'a number'}"]
        low, high = extra.get("minimum", param.get("minimum")), extra.get("maximum", param.get("maximum"))
        if low is not None and number < low:
            problems.append(f"Invalid value for {name}: {raw} is less than the minimum {low}")
        if high is not None and number > high:
            problems.append(f"Invalid value for {name}: {raw} is greater than the maximum {high}")
    elif kind == "boolean" and raw not in ("true", "false"):
        problems.append(f"Invalid value for {name}: {raw!r} is not true or false")
    elif param.get("format") == "date-time" and not DATE_TIME.match(raw):
        problems.append(f"Invalid value for {name}: {raw!r} is not an ISO 8601 date-time")
    return problems


class _Undeclared:
    def __init__(self, operation: str, status: int):
        self.operation, self.status = operation, status
