"""docs/modules.md is generated from the stubs and the profile; it must be current."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import modules_md  # noqa: E402


def test_modules_md_is_current():
    page = (modules_md.ROOT / "docs" / "modules.md").read_text()
    assert page == modules_md.render(), (
        "docs/modules.md is out of date: python tests/unit/plugins/plugin_utils/modules_md.py > docs/modules.md")


def test_every_profile_entry_named_exists():
    from ansible_collections.osce.patching.plugins.plugin_utils import _data

    entries = _data.profile_document()["entries"]
    for names in modules_md.ENTRIES.values():
        for e in names:
            name = e[0] if isinstance(e, tuple) else e
            assert name.startswith("(") or name in entries, name
