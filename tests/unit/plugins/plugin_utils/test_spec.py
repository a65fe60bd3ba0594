"""The documentation is the argument spec: every module's derived spec agrees with its docs."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.osce.patching.plugins.plugin_utils import _spec

ROOT = Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def test_every_module_has_an_action_plugin():
    assert MODULES
    for name in MODULES:
        action = importlib.import_module(f"ansible_collections.osce.patching.plugins.action.{name}")
        assert action.ActionModule.MODULE == name


@pytest.mark.parametrize("name", MODULES)
def test_spec_matches_docs(name):
    doc = _spec.module_doc(name)
    spec = _spec.argument_spec(name)
    assert set(spec) == set(doc["options"])
    for opt, entry in doc["options"].items():
        assert spec[opt]["type"] == entry.get("type", "str"), opt
        for key in ("default", "choices", "required", "elements", "aliases", "no_log"):
            assert spec[opt].get(key) == entry.get(key), (opt, key)
        if entry.get("type") == "list":
            assert "elements" in entry, f"{name}.{opt}: list without elements"
    # the spec is valid for the validator and accepts the documented defaults
    result = ArgumentSpecValidator(spec).validate({k: v["default"] for k, v in spec.items()
                                                   if "default" in v and not v.get("required")}
                                                  | {k: _sample(v) for k, v in spec.items() if v.get("required")})
    assert result.error_messages == []


@pytest.mark.parametrize("name", MODULES)
def test_stub_is_documentation_only(name):
    stub = importlib.import_module(f"ansible_collections.osce.patching.plugins.modules.{name}")
    doc = yaml.safe_load(stub.DOCUMENTATION)
    assert doc["module"] == name
    assert doc["version_added"] in ("0.1.0", "0.2.0")  # released, or new in the coming release
    attributes = _attributes(doc)
    assert {"check_mode", "diff_mode", "platform"} <= set(attributes)
    assert all(entry.get("support") and entry.get("description") for entry in attributes.values()), attributes
    assert attributes["platform"]["platforms"] == "windows"
    assert yaml.safe_load(stub.EXAMPLES)
    assert yaml.safe_load(stub.RETURN)
    assert "osce.patching.common" in doc["extends_documentation_fragment"]


def _attributes(doc):
    """The stub's attributes over those of its osce.patching.attributes.* fragments, as ansible-doc merges them."""
    merged = {}
    for frag in doc["extends_documentation_fragment"]:
        if frag.startswith("osce.patching.attributes"):
            for key, value in (_spec._fragment(frag).get("attributes") or {}).items():
                merged[key] = dict(value, **merged.get(key, {}))
    for key, value in (doc.get("attributes") or {}).items():
        merged[key] = dict(merged.get(key, {}), **value)
    return merged


def _sample(v):
    if v.get("choices"):
        return v["choices"][0]
    return {"str": "x", "int": 1, "bool": True, "list": [], "dict": {}, "path": "C:\\x", "raw": "x"}[v["type"]]
