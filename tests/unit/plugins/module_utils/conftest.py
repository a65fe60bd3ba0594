from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures"


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_schema(name: str):
    return json.loads((ROOT / "data" / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def catalog_doc():
    return load_yaml(ROOT / "data" / "catalog.yml")


@pytest.fixture(scope="session")
def profile_doc():
    return load_yaml(ROOT / "data" / "profile.yml")


@pytest.fixture(scope="session")
def schemas():
    return {n: load_schema(n) for n in ("catalog", "installers", "profile")}


@pytest.fixture()
def catalog(catalog_doc, schemas):
    from ansible_collections.osce.patching.plugins.module_utils.catalog import load_catalog
    return load_catalog(catalog_doc, schemas["catalog"])
