"""A faithful local SP-API simulator: ``Simulator(seed=1, orders=50, time_scale=60).start(port=0)``.

The catalog (``catalog.catalog(seed)``) is importable on its own, without starting anything.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "Simulator":
        from integration.sandbox.amazon.server import Simulator

        return Simulator
    raise AttributeError(name)
