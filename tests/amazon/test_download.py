"""Big documents stream to disk in constant memory; text encodings are settled by the fallback chain."""

from __future__ import annotations

import sys
import tracemalloc

import pytest
import requests

from integration.amazon.documents import declared_charset, download, settle_encoding
from tests.support.worker import Proc, child_env, free_port


@pytest.fixture
def sim_process():
    """The simulator as its own process (``slsync amazon-sim``), so only the client is in our memory."""
    port = free_port()
    proc = Proc([sys.executable, "-m", "integration.cli", "amazon-sim", "--port", str(port), "--orders", "5",
                 "--no-validate"], child_env(), "amazon-sim")
    try:
        proc.wait_for("listening", timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


def test_a_50_mb_report_downloads_in_constant_memory(sim_process, client_for_url):
    made = requests.post(sim_process + "/_sandbox/reports", json={"size_mb": 50}, timeout=120).json()
    client = client_for_url(sim_process)
    doc_info = client.reports.document(made["reportDocumentId"])
    tracemalloc.start()
    try:
        doc = download(client.transport.session, doc_info.url, compression=doc_info.compression)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert doc.size == made["bytes"] >= 50 * 1024 * 1024 - 1024
        assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    finally:
        doc.remove()


@pytest.mark.parametrize("content_type, expected", [("text/plain; charset=Cp1252", "cp1252"),
                                                    ("text/plain;charset=MS932", "cp932"),
                                                    ("text/plain", None), ("text/plain; charset=UTF-8", "utf-8")])
def test_java_charset_names_are_understood(content_type, expected):
    assert declared_charset(content_type) == expected


@pytest.mark.parametrize("text, encoding, hint, settled", [
    ("Größe Crème", "utf-8", None, "utf-8"),
    ("Größe Crème", "cp1252", None, "cp1252"),
    ("東京都千代田区 丸の内", "cp932", "cp932", "cp932"),
])
def test_undeclared_encodings_fall_back_in_order(tmp_path, text, encoding, hint, settled):
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(encoding) * 100)
    assert settle_encoding(str(path), None, hint) == settled


def test_charset_download_reads_cp1252_text(sim, client):
    info = requests.post(sim.url + "/_sandbox/reports", json={"size_mb": 0.01, "charset": "cp1252"}, timeout=10).json()
    doc = client.reports.download(info["reportDocumentId"])
    assert doc.encoding == "cp1252" and "Crème brûlée" in next(doc.lines())
    doc.remove()


def test_an_expired_document_url_is_transient(sim, client):
    from integration.errors import Transient

    info = requests.post(sim.url + "/_sandbox/reports", json={"size_mb": 0.01}, timeout=10).json()
    doc = client.reports.document(info["reportDocumentId"])
    requests.post(sim.url + "/_sandbox/clock", json={"advance_seconds": 301}, timeout=5)
    with pytest.raises(Transient, match="expired"):
        download(client.transport.session, doc.url, compression=doc.compression)
