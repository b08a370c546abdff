"""Download of report and feed documents: streamed to a temporary file in constant memory, GZIP undone on the
fly, and the text encoding settled (declared charset, else UTF-8, else the marketplace's legacy code page).

Amazon's sample takes the charset from ``Content-Type`` [G-reports-2021]; settlement downloads come without one
[I-3025]; EU flat files say ``Cp1252``, JP ones ``MS932``/``Windows-31J`` [I-2748, I-jrl144].
"""

from __future__ import annotations

import codecs
import logging
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import requests

from integration.errors import Permanent, Transient

log = logging.getLogger("slsync.amazon")
CHUNK = 256 * 1024
# Java charset names Amazon uses -> Python codecs
ALIASES = {"cp1252": "cp1252", "windows-1252": "cp1252", "ms932": "cp932", "windows-31j": "cp932",
           "shift_jis": "cp932", "sjis": "cp932", "cp932": "cp932", "iso-8859-1": "latin-1", "utf-8": "utf-8",
           "utf8": "utf-8"}


@dataclass
class DownloadedFile:
    """A document on disk; ``lines()`` streams decoded text. Delete with ``remove()`` when done."""

    path: str
    encoding: str
    size: int
    content_type: str

    def open(self):
        return open(self.path, encoding=self.encoding, errors="replace", newline="")

    def lines(self) -> Iterator[str]:
        with self.open() as fh:
            for line in fh:
                yield line.rstrip("\r\n")

    def read_text(self) -> str:
        with self.open() as fh:
            return fh.read()

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def declared_charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            value = value.strip('"').lower()
            return ALIASES.get(value, value)
    return None


def _decodes(path: str, encoding: str) -> bool:
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        return False
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def settle_encoding(path: str, declared: str | None, hint: str | None = None) -> str:
    """declared -> utf-8 -> hint (cp932 for JP, cp1252 for EU) -> cp1252 (decodes nearly anything)."""
    for candidate in [declared, "utf-8", hint, "cp1252"]:
        if candidate and _decodes(path, candidate):
            return candidate
    return "cp1252"


def download(session: requests.Session, url: str, *, compression: str | None = None, timeout: float = 60.0,
             encoding_hint: str | None = None, directory: str | None = None) -> DownloadedFile:
    """Fetch a presigned document URL (no SP-API token: it is an S3 URL) into a temporary file."""
    try:
        resp = session.get(url, stream=True, timeout=timeout, headers={"x-amz-access-token": None})
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise Transient(f"document download failed ({type(exc).__name__})") from None
    with resp:
        if resp.status_code == 403 and b"expired" in resp.content.lower():
            raise Transient("document URL expired (5 minutes); fetch the document again",
                            details={"status": 403, "expired_url": True})
        if resp.status_code >= 500:
            raise Transient(f"document download answered {resp.status_code}", details={"status": resp.status_code})
        if resp.status_code != 200:
            raise Permanent(f"document download refused ({resp.status_code})",
                            details={"status": resp.status_code, "raw": resp.text[:2000]})
        content_type = resp.headers.get("Content-Type", "")
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if (compression or "").upper() == "GZIP" else None
        fd, path = tempfile.mkstemp(prefix="spapi-doc-", dir=directory)
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_content(CHUNK):
                    if inflate is not None:
                        while chunk:
                            data = inflate.decompress(chunk, CHUNK)
                            out.write(data)
                            size += len(data)
                            chunk = inflate.unconsumed_tail
                    else:
                        out.write(chunk)
                        size += len(chunk)
                if inflate is not None:
                    tail = inflate.flush()
                    out.write(tail)
                    size += len(tail)
                    if not inflate.eof:   # the connection ended inside the GZIP stream: a partial file, not a file
                        raise Transient("document download cut short (the GZIP stream is incomplete)",
                                        details={"truncated": True})
        except zlib.error:
            os.unlink(path)
            raise Permanent("document is not valid GZIP although Amazon said so") from None
        except BaseException:
            os.unlink(path)
            raise
    encoding = settle_encoding(path, declared_charset(content_type), encoding_hint)
    log.info("document downloaded: %d bytes, %s", size, encoding)
    return DownloadedFile(path, encoding, size, content_type)
