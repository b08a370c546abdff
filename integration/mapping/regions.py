"""State / province names -> the codes SL's ShipState CHAR(3) holds, per country.

SL wants a code, not a name (dynamics-sl.md §2.1 "state code, not name"). Codes are the postal ones
(US, CA, AU) or ISO 3166-2 subdivision codes without the country prefix (MX, DE, AT). Countries absent
here (GB counties, FR, IT, ES ...) keep what Amazon sent when it fits.
"""

from __future__ import annotations

import unicodedata

US = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "District of Columbia", "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico", "VI": "U.S. Virgin Islands", "UM": "United States Minor Outlying Islands",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}
US_ALIASES = {"Washington DC": "DC", "Washington D.C.": "DC", "Virgin Islands": "VI", "US Virgin Islands": "VI"}

CA = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
}
CA_ALIASES = {"Newfoundland": "NL", "Yukon Territory": "YT", "PEI": "PE", "Québec": "QC"}

MX = {
    "AGU": "Aguascalientes", "BCN": "Baja California", "BCS": "Baja California Sur", "CAM": "Campeche",
    "CHP": "Chiapas", "CHH": "Chihuahua", "CMX": "Ciudad de Mexico", "COA": "Coahuila", "COL": "Colima",
    "DUR": "Durango", "GUA": "Guanajuato", "GRO": "Guerrero", "HID": "Hidalgo", "JAL": "Jalisco",
    "MEX": "Estado de Mexico", "MIC": "Michoacan", "MOR": "Morelos", "NAY": "Nayarit", "NLE": "Nuevo Leon",
    "OAX": "Oaxaca", "PUE": "Puebla", "QUE": "Queretaro", "ROO": "Quintana Roo", "SLP": "San Luis Potosi",
    "SIN": "Sinaloa", "SON": "Sonora", "TAB": "Tabasco", "TAM": "Tamaulipas", "TLA": "Tlaxcala",
    "VER": "Veracruz", "YUC": "Yucatan", "ZAC": "Zacatecas",
}
MX_ALIASES = {
    "CDMX": "CMX", "Distrito Federal": "CMX", "DF": "CMX", "Mexico City": "CMX", "Mexico": "MEX",
    "Coahuila de Zaragoza": "COA", "Michoacan de Ocampo": "MIC", "Veracruz de Ignacio de la Llave": "VER",
    "Baja California Norte": "BCN",
}

DE = {
    "BW": "Baden-Wurttemberg", "BY": "Bayern", "BE": "Berlin", "BB": "Brandenburg", "HB": "Bremen",
    "HH": "Hamburg", "HE": "Hessen", "MV": "Mecklenburg-Vorpommern", "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz", "SL": "Saarland", "SN": "Sachsen",
    "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein", "TH": "Thuringen",
}
DE_ALIASES = {"Bavaria": "BY", "Hesse": "HE", "Lower Saxony": "NI", "North Rhine-Westphalia": "NW",
              "Rhineland-Palatinate": "RP", "Saxony": "SN", "Saxony-Anhalt": "ST", "Thuringia": "TH"}

AT = {"1": "Burgenland", "2": "Karnten", "3": "Niederosterreich", "4": "Oberosterreich", "5": "Salzburg",
      "6": "Steiermark", "7": "Tirol", "8": "Vorarlberg", "9": "Wien"}

AU = {"NSW": "New South Wales", "VIC": "Victoria", "QLD": "Queensland", "SA": "South Australia",
      "WA": "Western Australia", "TAS": "Tasmania", "NT": "Northern Territory",
      "ACT": "Australian Capital Territory"}

COUNTRY_NAMES = {
    "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "USA": "US", "CANADA": "CA", "MEXICO": "MX",
    "GERMANY": "DE", "DEUTSCHLAND": "DE", "UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB", "UK": "GB",
    "FRANCE": "FR", "ITALY": "IT", "ITALIA": "IT", "SPAIN": "ES", "ESPANA": "ES", "JAPAN": "JP",
    "AUSTRALIA": "AU", "AUSTRIA": "AT", "OSTERREICH": "AT", "NETHERLANDS": "NL",
}


def fold(text: str) -> str:
    """Case, accents, dots and spacing removed: 'Nuevo León' and 'NUEVO  LEON' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace(".", " ").replace("-", " ").upper().split())


def _index(codes: dict[str, str], aliases: dict[str, str] | None = None) -> dict[str, str]:
    index = {fold(name): code for code, name in codes.items()}
    index.update({fold(code): code for code in codes})
    index.update({fold(alias): code for alias, code in (aliases or {}).items()})
    return index


STATES: dict[str, dict[str, str]] = {
    "US": _index(US, US_ALIASES),
    "PR": _index({"PR": "Puerto Rico"}),
    "CA": _index(CA, CA_ALIASES),
    "MX": _index(MX, MX_ALIASES),
    "DE": _index(DE, DE_ALIASES),
    "AT": _index(AT),
    "AU": _index(AU),
}


def state_code(country: str, state: str) -> str | None:
    """SL's code for ``state`` in ``country``, or None when the table does not know it."""
    table = STATES.get(country.upper())
    return table.get(fold(state)) if table and state.strip() else None


def country_code(country: str) -> str | None:
    """An ISO 3166-1 code from a code or a common English/local name; None if unknown."""
    folded = fold(country)
    if len(folded) in (2, 3) and folded.isalpha() and folded not in COUNTRY_NAMES:
        return folded
    return COUNTRY_NAMES.get(folded)
