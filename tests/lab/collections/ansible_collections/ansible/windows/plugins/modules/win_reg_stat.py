#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

# Ansible substitutes the task arguments for the marker (osce_lab.standin.ansible_module).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

ARGUMENT_SPEC = {
    "path": {"type": "str", "required": True, "aliases": ["key"]},
    "name": {"type": "str", "aliases": ["entry", "value", "property"]},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["changed", "exists", "properties", "sub_keys", "raw_value", "type", "value"]


def _prop(v):
    return {"raw_value": v["value"], "type": v["type"], "value": v["value"]}


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_reg_stat")
    p = module.params
    with Host.open(path, write=False) as h:
        try:
            exists = h.key_exists(p["path"])
        except ValueError as e:
            module.fail_json(msg=str(e))
        if not exists:
            standin.finish(module, RETURNS, changed=False, exists=False)
        vals = h.values(p["path"])
        if p["name"] is not None:
            want = "" if p["name"] in ("", "(default)") else p["name"].lower()
            for n, v in vals.items():
                if n.lower() == want:
                    standin.finish(module, RETURNS, changed=False, exists=True, **_prop(v))
            standin.finish(module, RETURNS, changed=False, exists=False)
        props = {(n or "(default)"): _prop(v) for n, v in vals.items()}
        standin.finish(module, RETURNS, changed=False, exists=True, properties=props,
                       sub_keys=h.sub_keys(p["path"]))


if __name__ == "__main__":
    main()
