"""The README sends readers only to documents in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_links_only_to_documents_in_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)", text) + re.findall(r"`([\w./-]+\.md)`", text)
    assert "docs/ARCHITECTURE.md" in links
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert [link for link in local if not (ROOT / link).is_file()] == []
    assert "shared folder" not in text and "../shared" not in text
