"""Every variable config.py reads is documented in .env.example."""

from __future__ import annotations

import re

from tests.support.worker import ROOT


def test_env_example_documents_every_variable():
    source = (ROOT / "integration" / "config.py").read_text()
    read = set(re.findall(r'r\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no variables found in config.py"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
