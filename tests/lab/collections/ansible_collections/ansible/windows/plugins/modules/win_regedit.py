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
    "name": {"type": "str", "aliases": ["entry", "value"]},
    "data": {"type": "raw"},
    "type": {"type": "str", "default": "string", "aliases": ["datatype"],
             "choices": ["none", "binary", "dword", "expandstring", "multistring", "string", "qword"]},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "delete_key": {"type": "bool", "default": True},
    "hive": {"type": "path"},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["data_changed", "data_type_changed"]
TYPES = {"none": "REG_NONE", "binary": "REG_BINARY", "dword": "REG_DWORD", "expandstring": "REG_EXPAND_SZ",
         "multistring": "REG_MULTI_SZ", "string": "REG_SZ", "qword": "REG_QWORD"}


def _convert(rtype, data):
    if rtype in ("REG_DWORD", "REG_QWORD"):
        if data is None:
            return 0
        return int(str(data), 0) if isinstance(data, str) else int(data)
    if rtype == "REG_MULTI_SZ":
        return [] if data is None else (list(data) if isinstance(data, list) else [str(data)])
    return "" if data is None else str(data)


def main():
    from osce_lab import standin
    from osce_lab.state import Host, norm_key
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_regedit")
    p = module.params
    if p["hive"]:
        module.fail_json(msg="lab stand-in: loading a hive file is not simulated")
    name = "" if p["name"] in (None, "(default)") else p["name"]
    # Decide and write inside the lock, answer after it: Host.open saves on leaving the block, so
    # exit_json/fail_json (sys.exit) must never run inside it.
    diff = None
    error = None
    with Host.open(path) as h:
        before = {"data": None, "type": None}
        for n, v in h.values(p["path"]).items():
            if n.lower() == name.lower():
                before = {"data": v["value"], "type": v["type"]}
        data_changed = type_changed = False
        if p["state"] == "absent":
            if p["name"] is None:
                changed = h.key_exists(p["path"])
                if changed and not module.check_mode:
                    h.delete_key(p["path"])
            else:
                changed = before["type"] is not None
                if changed and not module.check_mode:
                    h.delete_value(p["path"], name)
            diff = {"before": f"{before}\n", "after": "\n"}
        elif p["name"] is None and p["data"] is None:
            changed = not h.key_exists(p["path"])
            if changed and not module.check_mode:
                h.data["registry"].setdefault(norm_key(p["path"]), {"values": {}})
                h.touch()
        else:
            rtype = TYPES[p["type"]]
            try:
                data = _convert(rtype, p["data"])
            except ValueError:
                data = None
                error = f"data {p['data']!r} cannot be converted to {p['type']}"
                changed = False
            if error is None:
                data_changed = before["data"] != data
                type_changed = before["type"] is not None and before["type"] != rtype
                changed = data_changed or type_changed or before["type"] is None
                if changed and not module.check_mode:
                    h.set_value(p["path"], name, data, rtype)
                diff = {"before": f"{before}\n", "after": f"{ {'data': data, 'type': rtype} }\n"}
    if error:
        module.fail_json(msg=error)
    result = dict(changed=changed, data_changed=data_changed, data_type_changed=type_changed)
    if module._diff and diff is not None:
        result["diff"] = diff
    # OSCE watches its own settings, not this collection's key (run lock, records): no notification for those
    if changed and not module.check_mode and "\\software\\osce.patching" not in p["path"].lower():
        standin.after_write(path)
    standin.finish(module, RETURNS, **result)

if __name__ == "__main__":
    main()
