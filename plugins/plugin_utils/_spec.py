# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation is the argument spec.

Each module's options are written once, in the DOCUMENTATION of its stub in ``plugins/modules/``
(plus the ``osce.patching.*`` doc fragments it extends).  :func:`argument_spec` turns that into
the ``argument_spec`` that ``ActionBase.validate_argument_spec()`` checks the task's arguments
against, so the docs users read and the checks they hit cannot drift apart.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import copy
import functools
import importlib
import typing as t

import yaml

_PACKAGE = "ansible_collections.osce.patching.plugins"
_FRAGMENT_PREFIX = "osce.patching."

#: Keys of a documented option that mean something to ArgumentSpecValidator.
_SPEC_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log")


def _fragment(name: str) -> dict[str, t.Any]:
    """Options of one ``osce.patching.*`` doc fragment (``name`` or ``name.VARIANT``)."""
    if not name.startswith(_FRAGMENT_PREFIX):
        return {}
    rest = name[len(_FRAGMENT_PREFIX):]
    mod_name, _sep, variant = rest.partition(".")
    mod = importlib.import_module(f"{_PACKAGE}.doc_fragments.{mod_name}")
    text = getattr(mod.ModuleDocFragment, variant.upper() or "DOCUMENTATION")
    return yaml.safe_load(text) or {}


@functools.lru_cache(maxsize=None)
def module_doc(module: str) -> dict[str, t.Any]:
    """The stub's DOCUMENTATION with the options of its osce.patching doc fragments merged in."""
    stub = importlib.import_module(f"{_PACKAGE}.modules.{module}")
    doc = yaml.safe_load(stub.DOCUMENTATION) or {}
    fragments = doc.get("extends_documentation_fragment") or []
    if isinstance(fragments, str):
        fragments = [fragments]
    options = dict(doc.get("options") or {})
    for frag in fragments:
        for key, value in (_fragment(frag).get("options") or {}).items():
            options.setdefault(key, value)
    doc["options"] = options
    return doc


def _convert(options: dict[str, t.Any]) -> dict[str, t.Any]:
    spec: dict[str, t.Any] = {}
    for name, opt in options.items():
        opt = opt or {}
        entry = {key: copy.deepcopy(opt[key]) for key in _SPEC_KEYS if key in opt}
        entry.setdefault("type", "str")
        if opt.get("suboptions"):
            entry["options"] = _convert(opt["suboptions"])
        spec[name] = entry
    return spec


def argument_spec(module: str) -> dict[str, t.Any]:
    """The ``argument_spec`` derived from ``plugins/modules/<module>.py``'s documentation."""
    return _convert(module_doc(module)["options"])
