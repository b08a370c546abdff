"""Request and reply objects shared by the simulator's handlers, and Amazon's error body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    args: dict[str, str] = field(default_factory=dict)  # path parameters

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[0] if values else default

    def many(self, name: str) -> list[str]:
        """Array query parameters: Amazon accepts both ``a=1,2`` and repeated ``a=1&a=2``."""
        out: list[str] = []
        for value in self.params.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(400, "InvalidInput", "The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise ApiError(400, "InvalidInput", "The request body must be a JSON object.")
        return value


@dataclass
class Reply:
    status: int
    body: object = None          # dict -> JSON; bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class ApiError(Exception):
    """Raised by handlers; becomes ``{"errors": [{code, message, details}]}`` with the status."""

    def __init__(self, status: int, code: str, message: str, details: str = ""):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def reply(self) -> Reply:
        return Reply(self.status, error_body(self.code, self.message, self.details))


def error_body(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFound", message)


def public(record: dict) -> dict:
    """A report or feed as Amazon shows it: without the simulator's own ``_``-prefixed bookkeeping."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
