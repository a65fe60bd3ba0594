"""Controller-side loader for the collection's vendor data (``data/``).

The pure core never reads files; action plugins call these helpers and pass the documents on.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = COLLECTION_ROOT / "data"
SCHEMA_DIR = DATA_DIR / "schemas"


@lru_cache(maxsize=None)
def _load_yaml(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@lru_cache(maxsize=None)
def _load_json(name: str) -> Any:
    with (SCHEMA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def catalog_document() -> Any:
    """The parsed ``data/catalog.yml`` (shared, do not mutate)."""
    return _load_yaml("catalog.yml")


def profile_document() -> Any:
    """The parsed ``data/profile.yml`` (shared, do not mutate)."""
    return _load_yaml("profile.yml")


def schema(name: str) -> Any:
    """A schema from ``data/schemas``: ``catalog``, ``installers`` or ``profile`` (or a file name)."""
    file_name = name if name.endswith(".json") else f"{name}.schema.json"
    return _load_json(file_name)


def load_catalog(installers: Any = None, build_map: Any = None) -> Any:
    """The validated catalog with the user's ``osce_installers`` and ``osce_build_map`` merged."""
    from ansible_collections.osce.patching.plugins.module_utils import catalog as core

    cat = core.load_catalog(catalog_document(), schema("catalog"))
    cat = core.merge_build_map(cat, build_map)
    return core.merge_installers(cat, installers, schema("installers"))


def load_profile(overrides: Any = None) -> Any:
    """The validated profile with ``osce_profile_overrides`` merged."""
    from ansible_collections.osce.patching.plugins.module_utils import profile as core

    return core.load_profile(profile_document(), schema("profile"), overrides)
