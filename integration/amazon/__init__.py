"""The SP-API adapter: the only place in the product that speaks HTTP to Amazon (STYLE: one adapter per system).

``AmazonClient.from_settings(settings, redis)`` composes: ``auth`` (LWA token shared in Redis), ``transport`` (rate
limiter, breaker, the status -> action table), and one module per API with business-named methods.
``order_shape`` (another module) turns v2026 orders into the canonical model.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "AmazonClient":
        from integration.amazon.client import AmazonClient

        return AmazonClient
    raise AttributeError(name)
