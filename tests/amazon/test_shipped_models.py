"""Amazon's models ship inside the package unchanged: every file matches its SHA-256 in the manifest, the
Apache-2.0 LICENSE and NOTICE are there, and every file the product or its simulator reads is shipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from integration.config import DEFAULT_MODELS_DIR, load_settings
from integration.intake.schemas import FILES
from integration.sandbox.amazon.models import NOTIFICATION_SCHEMAS, OPERATIONS, Models

OURS = {"MANIFEST.sha256", "README.md"}  # written here; every other file is Amazon's
FEED_SCHEMAS = {"listings-feed-schema-v2.json", "listings-feed-message-schema-v2.json",
                "listings-feed-processing-report-schema-v2.json"}


def manifest() -> dict[str, str]:
    entries = {}
    for line in (DEFAULT_MODELS_DIR / "MANIFEST.sha256").read_text(encoding="ascii").splitlines():
        digest, name = line.split(maxsplit=1)
        assert len(digest) == 64 and name not in entries, line
        entries[name.lstrip("*")] = digest
    return entries


def test_the_shipped_folder_is_inside_the_package():
    import integration

    assert DEFAULT_MODELS_DIR.is_dir()
    assert DEFAULT_MODELS_DIR.resolve().is_relative_to(Path(integration.__file__).parent)
    assert load_settings(env={}).spapi_models_dir == str(DEFAULT_MODELS_DIR)


def test_every_shipped_file_matches_the_manifest_and_nothing_is_unlisted():
    listed = manifest()
    present = {p.name for p in DEFAULT_MODELS_DIR.iterdir() if p.is_file()} - OURS
    assert present == set(listed), (sorted(present - set(listed)), sorted(set(listed) - present))
    for name, digest in listed.items():
        assert hashlib.sha256((DEFAULT_MODELS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_amazons_license_and_notice_ship_with_the_models():
    listed = manifest()
    assert {"LICENSE", "NOTICE"} <= set(listed)
    assert "Apache License" in (DEFAULT_MODELS_DIR / "LICENSE").read_text() and \
        "Version 2.0" in (DEFAULT_MODELS_DIR / "LICENSE").read_text()
    assert "Amazon.com" in (DEFAULT_MODELS_DIR / "NOTICE").read_text()


def test_every_file_the_product_reads_is_shipped_and_parses():
    needed = {model for model, _ in OPERATIONS.values()} | set(NOTIFICATION_SCHEMAS.values()) | set(FILES.values())
    needed |= FEED_SCHEMAS
    assert needed <= set(manifest()), sorted(needed - set(manifest()))
    for name in needed:
        json.loads((DEFAULT_MODELS_DIR / name).read_text(encoding="utf-8"))
    assert set(manifest()) - {"LICENSE", "NOTICE"} == needed  # nothing shipped that nothing reads


def test_the_simulator_and_the_intake_find_the_shipped_models_by_default():
    from integration.intake.schemas import Schemas

    assert Models.find() is not None
    assert Schemas().official
