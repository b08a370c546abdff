"""split_address: SL's short ship-to columns, and nothing of the buyer's address lost."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integration.canonical import Address
from integration.mapping.address import SHIP_TO_WIDTHS, split_address
from integration.mapping.regions import state_code


def an_address(**kw) -> Address:
    base = dict(name="Jane Doe", lines=("123 Any Street", "Suite 4"), city="Seattle", state_or_region="WA",
                postal_code="98101", country_code="US", phone="+1 206 555 0100")
    base.update(kw)
    return Address(**base)


def test_a_plain_address_maps_field_for_field():
    out = split_address(an_address())
    assert out == {"ShipName": "Jane Doe", "ShipAttn": "", "ShipAddr1": "123 Any Street", "ShipAddr2": "Suite 4",
                   "ShipCity": "Seattle", "ShipState": "WA", "ShipZip": "98101", "ShipCountry": "US",
                   "ShipPhone": "+1 206 555 0100", "note": ""}


def test_a_company_takes_the_name_and_the_person_goes_to_attn():
    out = split_address(an_address(company="Wilson Electronics Ltd"))
    assert (out["ShipName"], out["ShipAttn"]) == ("Wilson Electronics Ltd", "Jane Doe")


def test_a_third_line_is_folded_into_the_second():
    out = split_address(an_address(lines=("1 Main St", "Apt 2", "Rear entrance")))
    assert (out["ShipAddr1"], out["ShipAddr2"], out["note"]) == ("1 Main St", "Apt 2, Rear entrance", "")


def test_long_lines_split_at_word_boundaries_and_the_rest_goes_to_the_note():
    long = "Avenida Insurgentes Sur 1234 Interior 56 Colonia del Valle Centro Delegación Benito Juárez"
    out = split_address(an_address(lines=(long, "Edificio Torre Norte Piso 12 Oficina 1204 Ala Poniente Junto"),
                                   country_code="MX", state_or_region="Nuevo León"))
    assert len(out["ShipAddr1"]) <= 60 and not out["ShipAddr1"].endswith(" ")
    assert long.startswith(out["ShipAddr1"])
    assert "Address: " + long in out["note"]
    assert out["ShipState"] == "NLE"


@pytest.mark.parametrize(("country", "state", "code"), [
    ("US", "California", "CA"), ("US", "district of columbia", "DC"), ("US", "Puerto Rico", "PR"),
    ("US", "Guam", "GU"), ("US", "TX", "TX"), ("CA", "Québec", "QC"), ("CA", "British Columbia", "BC"),
    ("MX", "Ciudad de México", "CMX"), ("MX", "Nuevo León", "NLE"), ("MX", "Yucatán", "YUC"),
    ("DE", "Baden-Württemberg", "BW"), ("DE", "Nordrhein-Westfalen", "NW"), ("DE", "Bavaria", "BY"),
    ("AU", "New South Wales", "NSW"),
])
def test_state_names_become_codes(country, state, code):
    assert split_address(an_address(country_code=country, state_or_region=state))["ShipState"] == code
    assert state_code(country, state) == code


def test_an_unknown_short_region_is_kept_and_a_long_one_goes_to_the_note():
    assert split_address(an_address(country_code="GB", state_or_region="Kent"))["ShipState"] == ""
    assert split_address(an_address(country_code="GB", state_or_region="NYK"))["ShipState"] == "NYK"
    out = split_address(an_address(country_code="GB", state_or_region="Greater Manchester"))
    assert out["ShipState"] == "" and "State: Greater Manchester" in out["note"]


def test_non_ascii_is_kept_verbatim():
    out = split_address(an_address(name="Zoë Müller-Łukasz", city="Köln", country_code="DE", state_or_region="NRW",
                                   lines=("Straße des 17. Juni 1",)))
    assert (out["ShipName"], out["ShipCity"], out["ShipAddr1"]) == ("Zoë Müller-Łukasz", "Köln", "Straße des 17. Juni 1")


def test_a_country_name_becomes_its_code():
    assert split_address(an_address(country_code="United States"))["ShipCountry"] == "US"


# ------------------------------------------------------------------ properties

words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Z")), min_size=1, max_size=25)
phrases = st.lists(words, min_size=0, max_size=12).map(" ".join)
addresses = st.builds(
    Address,
    name=phrases, company=phrases, lines=st.lists(phrases, max_size=3).map(tuple), city=phrases,
    state_or_region=phrases | st.sampled_from(["California", "Québec", "Nuevo León", "Bayern", "WA", "ON"]),
    postal_code=phrases, country_code=st.sampled_from(["US", "CA", "MX", "DE", "GB", "JP", "FR"]) | phrases,
    phone=st.none() | phrases,
)


@settings(max_examples=300, deadline=None)
@given(addresses)
def test_every_field_fits_its_sl_width(addr):
    out = split_address(addr)
    for field, width in SHIP_TO_WIDTHS.items():
        assert len(out[field]) <= width, (field, out[field])


@settings(max_examples=300, deadline=None)
@given(addresses)
def test_no_word_of_the_input_is_lost(addr):
    out = split_address(addr)
    written = " ".join(v for v in out.values())
    state_converted = out["ShipState"] and out["ShipState"] != " ".join(addr.state_or_region.split())
    parts = [addr.name, addr.company, *addr.lines, addr.city, addr.postal_code, addr.phone or ""]
    if not state_converted:
        parts.append(addr.state_or_region)
    if out["ShipCountry"] in ("", " ".join(addr.country_code.split())):  # else it became an ISO code
        parts.append(addr.country_code)
    for word in " ".join(parts).split():
        assert word in written, word
    if state_converted:
        assert state_code(out["ShipCountry"] or addr.country_code, addr.state_or_region) == out["ShipState"]


@settings(max_examples=100, deadline=None)
@given(addresses)
def test_splitting_is_deterministic(addr):
    assert split_address(addr) == split_address(addr)


# ------------------------------------------------------------------ the database's units

def test_a_double_byte_database_measures_in_bytes_so_a_long_japanese_street_takes_the_second_line():
    """On a cp932 database CHAR(60) holds 60 bytes: a 48-character street (96 bytes) does not fit ShipAddr1, so it
    is split between ShipAddr1 and ShipAddr2 (between characters: the street has no blanks) and nothing is lost."""
    from integration.sl.text import codepage

    cp932 = codepage("cp932")
    street = "東京都千代田区丸の内一丁目九番一号東京駅一番街地下一階商業施設内受付窓口気付山田商事株式会社御中"
    assert len(street) == 48 and cp932.measure(street) == 96
    out = split_address(an_address(lines=(street,), country_code="JP", state_or_region=""), measure=cp932.measure)
    assert cp932.measure(out["ShipAddr1"]) == 60 and out["ShipAddr2"]
    assert out["ShipAddr1"] + out["ShipAddr2"] == street and "Address:" not in out["note"]
    # measured by characters (a Unicode database) the same street is one line
    assert split_address(an_address(lines=(street,)))["ShipAddr1"] == street


def test_every_ship_to_field_fits_in_bytes_and_a_full_width_postcode_is_the_same_code_narrower():
    from integration.sl.text import codepage

    cp932 = codepage("cp932")
    out = split_address(an_address(name="山田商事株式会社 東京本社 営業部 第一営業課 課長代理 山田 太郎 様 気付",
                                   lines=("千代田区千代田1-1 皇居東御苑前ビルディング 十二階 一二〇四号室 受付気付",),
                                   city="千代田区千代田一丁目一番地", postal_code="１００－０００１",
                                   country_code="JP", state_or_region=""), measure=cp932.measure)
    for field, width in SHIP_TO_WIDTHS.items():
        assert cp932.measure(out[field]) <= width, (field, out[field])
    assert out["ShipZip"] == "100-0001" and "Zip: １００－０００１" in out["note"].splitlines()
    assert out["ShipName"] and "Name: 山田商事株式会社" in out["note"]          # cut to its bytes, whole in the note
    assert out["ShipAddr2"]                                                        # the street went on to line 2


@settings(max_examples=150, deadline=None)
@given(addresses)
def test_every_field_fits_its_sl_width_in_a_double_byte_databases_bytes(addr):
    from integration.sl.text import codepage

    measure = codepage("cp932").measure
    out = split_address(addr, measure=measure)
    for field, width in SHIP_TO_WIDTHS.items():
        assert measure(out[field]) <= width, (field, out[field])
