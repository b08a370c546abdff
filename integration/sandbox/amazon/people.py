"""Buyers and delivery addresses that look like real ones: three address lines, long lines, state names
instead of codes, non-ASCII names, business buyers, several countries."""

from __future__ import annotations

import random

ADDRESSES = [
    {"name": "Jane Doe", "addressLine1": "1600 Pennsylvania Ave NW", "city": "Washington", "stateOrRegion": "DC",
     "postalCode": "20500", "countryCode": "US", "phone": "+1 202-555-0143", "addressType": "RESIDENTIAL"},
    {"name": "José Martínez-Núñez", "addressLine1": "4200 Wilshire Blvd", "addressLine2": "Apt 1207",
     "addressLine3": "Attn: Receiving Dock B", "city": "Los Angeles", "stateOrRegion": "California",
     "postalCode": "90010-3401", "countryCode": "US", "phone": "+1 213-555-0199", "addressType": "RESIDENTIAL"},
    {"name": "Acme Procurement Dept.", "companyName": "ACME Industrial Supplies & Fabrication Holdings, LLC",
     "addressLine1": "Building 7, Suite 400, Northeast Corporate Technology Park Industrial Complex Phase II",
     "addressLine2": "2701 North Interstate Highway 35 Frontage Road", "addressLine3": "Loading dock 14",
     "city": "Round Rock", "stateOrRegion": "Texas", "postalCode": "78664", "countryCode": "US",
     "phone": "512-555-0100", "addressType": "COMMERCIAL"},
    {"name": "Zoë O'Brien", "addressLine1": "77 Massachusetts Ave", "city": "Cambridge", "stateOrRegion": "MA",
     "postalCode": "02139", "countryCode": "US", "addressType": "RESIDENTIAL"},
    {"name": "François Lefèvre", "addressLine1": "1250 Boulevard René-Lévesque O", "addressLine2": "Bureau 2200",
     "city": "Montréal", "stateOrRegion": "Québec", "postalCode": "H3B 4W8", "countryCode": "CA",
     "addressType": "COMMERCIAL"},
    {"name": "Jürgen Müller", "addressLine1": "Königstraße 12", "addressLine2": "Hinterhaus, 3. OG",
     "city": "Stuttgart", "stateOrRegion": "Baden-Württemberg", "postalCode": "70173", "countryCode": "DE",
     "addressType": "RESIDENTIAL"},
    {"name": "山田 太郎", "addressLine1": "東京都千代田区丸の内1-9-1", "addressLine2": "グラントウキョウノースタワー 10F",
     "city": "千代田区", "stateOrRegion": "東京都", "postalCode": "100-6610", "countryCode": "JP",
     "addressType": "RESIDENTIAL"},
    {"name": "Siobhán Ní Bhriain", "addressLine1": "Flat 3", "addressLine2": "27 Baker Street",
     "addressLine3": "Marylebone", "city": "London", "stateOrRegion": "Greater London", "postalCode": "NW1 6XE",
     "countryCode": "GB", "addressType": "RESIDENTIAL"},
    {"name": "Robert \"Bob\" Smith Jr.", "addressLine1": "PO Box 1234", "city": "Anchorage", "stateOrRegion": "Alaska",
     "postalCode": "99501", "countryCode": "US", "phone": "(907) 555-0111", "addressType": "RESIDENTIAL"},
    {"name": "Ana Lúcia Gonçalves", "addressLine1": "350 Fifth Avenue", "addressLine2": "Floor 21",
     "city": "New York", "stateOrRegion": "New York", "postalCode": "10118", "countryCode": "US",
     "addressType": "COMMERCIAL", "companyName": "Gonçalves & Filhos Importação"},
]
GIFT_MESSAGES = ["Happy birthday! Love, Grandma", "Merry Christmas — from all of us 🎄",
                 "Congratulations on the new job! " + "Best wishes for the years ahead. " * 4]
COMPANIES = ["ACME Industrial Supplies & Fabrication Holdings, LLC", "Globex Corporation", "Initech GmbH"]


def pick_address(rnd: random.Random) -> dict:
    return dict(rnd.choice(ADDRESSES))


def buyer(rnd: random.Random, address: dict, business: bool, n: int) -> dict:
    result = {"buyerName": address["name"], "buyerEmail": f"{n:012x}@marketplace.amazon.com"}
    if business:
        result["buyerCompanyName"] = address.get("companyName") or rnd.choice(COMPANIES)
        result["buyerPurchaseOrderNumber"] = f"PO-{rnd.randint(10000, 99999)}-{n % 97:02d}"
    return result
