"""Text through the whole import (issue 12, "Text"): an Amazon order read over HTTP becomes an SL order whose
ship-to block is fitted in the SL database's code page and units. SQLite and PostgreSQL."""

from __future__ import annotations

import html

import pytest

from integration.sync import orders
from tests.orders.conftest import (
    on_both_engines,  # noqa: F401  (SQLite and PostgreSQL)
    sku_known,
)


@pytest.fixture
def cp932(env, monkeypatch):
    """An SL database in code page 932 (SQL Server's Japanese_CI_AS): CHAR(n) holds n bytes."""
    from integration.config import settings

    monkeypatch.setenv("SL_CODEPAGE", "cp932")
    settings.cache_clear()


def _ship_to(ctx, ord_nbr: str) -> tuple[dict, str]:
    def work(r):
        head = r.one('SELECT "ShipAddr1", "ShipAddr2", "ShipZip", "ShipPhone", "NoteId" FROM "SOHeader" '
                     'WHERE "OrdNbr" = ?', [ord_nbr])
        note = r.scalar('SELECT "sNoteText" FROM "Snote" WHERE "nID" = ?', [head[4]])
        return dict(zip(("ShipAddr1", "ShipAddr2", "ShipZip", "ShipPhone"), (x.rstrip() for x in head[:4]),
                        strict=True)), html.unescape(note or "")
    return ctx.sl.db.run(work, write=False)


def _import(ctx, sim, address):
    made = sim.create_order([{"sku": sku_known(ctx), "quantity": 1}], address=address)
    out = orders.import_order(made["orderId"], ctx, fresh=True)
    assert out.value == "created", out
    return out.ord_nbr


def test_a_full_width_phone_and_postcode_do_not_hold_the_order(ctx, sim):
    """cp1252 (SL's usual collation) has no full-width digits: the order is created with them folded to ASCII."""
    ord_nbr = _import(ctx, sim, {"name": "Taro Yamada", "addressLine1": "1-1 Chiyoda", "city": "Tokyo",
                                 "postalCode": "１００－０００１", "countryCode": "JP", "phone": "+81 ９０ １２３４ ５６７８"})
    head, note = _ship_to(ctx, ord_nbr)
    assert (head["ShipZip"], head["ShipPhone"]) == ("100-0001", "+81 90 1234 5678")
    assert "SOHeader.ShipZip: １００－０００１" in note.splitlines()


def test_on_a_double_byte_database_a_long_japanese_street_fills_both_lines_and_nothing_is_cut(cp932, ctx, sim):
    street = "東京都千代田区丸の内一丁目九番一号東京駅一番街地下一階商業施設内受付窓口気付山田商事株式会社御中"  # 96 bytes
    ord_nbr = _import(ctx, sim, {"name": "山田 太郎", "addressLine1": street, "city": "千代田区",
                                 "postalCode": "100-0001", "countryCode": "JP", "phone": "090-1234-5678"})
    head, note = _ship_to(ctx, ord_nbr)
    assert len(head["ShipAddr1"].encode("cp932")) <= 60 and head["ShipAddr2"]
    assert head["ShipAddr1"] + head["ShipAddr2"] == street
    assert "cut to" not in note
