"""Sellers: the marketplaces the seller participates in (``slsync amazon check``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    id: str
    name: str
    country: str
    currency: str
    language: str
    domain: str
    participating: bool
    store_name: str


class Sellers:
    def __init__(self, transport):
        self.t = transport

    def marketplaces(self) -> list[Marketplace]:
        body = self.t.call("getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations",
                           shape=("payload",)).body
        out = []
        for row in body["payload"]:
            m, p = row["marketplace"], row["participation"]
            out.append(Marketplace(m["id"], m["name"], m["countryCode"], m["defaultCurrencyCode"],
                                   m["defaultLanguageCode"], m["domainName"], bool(p["isParticipating"]),
                                   row.get("storeName", "")))
        return out
