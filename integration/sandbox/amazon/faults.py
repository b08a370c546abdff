"""Fault injection: rules set by command-line flags or ``POST /_sandbox/faults``.

A rule: ``{"op": "getOrder" | "*", "kind": "500" | "503" | "429" | "expired_token" | "malformed" | "latency" |
"hang", "rate": 0..1 (default 1), "count": N (apply to the next N matching calls, optional),
"latency_ms": [min, max] (latency), "seconds": S (hang; default 30)}``. Decisions use a seeded RNG, so a run
with the same seed and call order makes the same faults.
"""

from __future__ import annotations

import random
import threading

KINDS = ("500", "503", "429", "expired_token", "malformed", "latency", "hang")


def parse_flag(text: str) -> dict:
    """``op:kind[:rate]`` from the command line, e.g. ``getOrder:503:0.2`` or ``*:latency:1``."""
    parts = text.split(":")
    if len(parts) < 2 or parts[1] not in KINDS:
        raise ValueError(f"fault must be op:kind[:rate] with kind in {', '.join(KINDS)}, got {text!r}")
    rule = {"op": parts[0] or "*", "kind": parts[1]}
    if len(parts) > 2:
        rule["rate"] = float(parts[2])
    return rule


class Faults:
    def __init__(self, seed: int = 0, rules: list[dict] | None = None):
        self._lock = threading.Lock()
        self._rnd = random.Random(f"faults:{seed}")
        self.rules: list[dict] = []
        self.set(rules or [])

    def set(self, rules: list[dict]) -> None:
        for rule in rules:
            if rule.get("kind") not in KINDS:
                raise ValueError(f"unknown fault kind {rule.get('kind')!r}; one of {', '.join(KINDS)}")
        with self._lock:
            self.rules = [dict(r) for r in rules]

    def pick(self, op: str) -> list[dict]:
        """The rules that fire for this call (latency first, then at most one failure)."""
        fired = []
        with self._lock:
            for rule in self.rules:
                if rule.get("op", "*") not in ("*", op):
                    continue
                if "count" in rule and rule["count"] <= 0:
                    continue
                if self._rnd.random() >= float(rule.get("rate", 1.0)):
                    continue
                if "count" in rule:
                    rule["count"] -= 1
                fired.append(rule)
        fired.sort(key=lambda r: r["kind"] != "latency")
        return fired

    def latency(self, rule: dict) -> float:
        low, high = rule.get("latency_ms", [50, 200])
        with self._lock:
            return self._rnd.uniform(float(low), float(high)) / 1000.0
