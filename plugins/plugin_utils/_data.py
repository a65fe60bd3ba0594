"""Controller-side loader for the collection's vendor data (``data/``).

The pure core never reads files; action plugins call these helpers and pass the documents on.

Ansible forks one worker per task and host, so a cache filled inside a worker dies with it. The
strategy imports each action plugin class in the controller's main process before it forks
(``action_loader.get(..., class_only=True)``); :func:`warm` runs at that import and fills the caches
there, so every later worker starts with the parsed and validated data (about 0.2 s per task less).
The validated results are immutable (frozen dataclasses over read-only mappings) and are shared.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# libyaml parses data/profile.yml about 8x faster than the pure-Python loader; both give plain types.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = COLLECTION_ROOT / "data"
SCHEMA_DIR = DATA_DIR / "schemas"


@lru_cache(maxsize=None)
def _load_yaml(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


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


def _key(value: Any) -> str | None:
    """A cache key for user data (plain JSON types); None when it cannot be one (then no caching)."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return None


def load_catalog(installers: Any = None, build_map: Any = None) -> Any:
    """The validated catalog with the user's ``osce_installers`` and ``osce_build_map`` merged."""
    key = _key([installers, build_map])
    if key is None:
        return _build_catalog(installers, build_map)
    return _cached_catalog(key)


@lru_cache(maxsize=32)
def _cached_catalog(key: str) -> Any:
    installers, build_map = json.loads(key)
    return _build_catalog(installers, build_map)


def _build_catalog(installers: Any, build_map: Any) -> Any:
    from ansible_collections.osce.patching.plugins.module_utils import catalog as core

    cat = core.merge_build_map(_shipped_catalog(), build_map)
    return core.merge_installers(cat, installers, schema("installers"))


@lru_cache(maxsize=None)
def _shipped_catalog() -> Any:
    from ansible_collections.osce.patching.plugins.module_utils import catalog as core

    return core.load_catalog(catalog_document(), schema("catalog"))


def load_profile(overrides: Any = None) -> Any:
    """The validated profile with ``osce_profile_overrides`` merged."""
    key = _key(overrides)
    if key is None:
        return _build_profile(overrides)
    return _cached_profile(key)


@lru_cache(maxsize=32)
def _cached_profile(key: str) -> Any:
    return _build_profile(json.loads(key))


def _build_profile(overrides: Any) -> Any:
    from ansible_collections.osce.patching.plugins.module_utils import profile as core

    return core.load_profile(_checked_profile_document(), schema("profile"), overrides, document_checked=True)


@lru_cache(maxsize=None)
def _checked_profile_document() -> Any:
    """The shipped profile, validated once: the costly part, the same whatever the overrides."""
    from ansible_collections.osce.patching.plugins.module_utils.errors import validate_or_raise

    doc = profile_document()
    validate_or_raise(doc, schema("profile"), "profile")
    return doc


def warm() -> None:
    """Fill the caches with the shipped data (no user overrides); see the module docstring.

    A broken data file is not reported here: the task that loads it reports it, naming the field.
    """
    try:
        load_profile({})
        load_profile(None)
        _shipped_catalog()
        schema("installers")
    except Exception:  # noqa: BLE001 - reported by the task that needs the data
        pass
