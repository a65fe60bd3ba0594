#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

# Ansible substitutes the task arguments for the marker (osce_lab.standin.ansible_module).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

ARGUMENT_SPEC = {"name": {"type": "str"}}
SUPPORTS_CHECK_MODE = True
RETURNS = ["exists", "services"]


def main():
    import fnmatch
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_service_info")
    want = (module.params["name"] or "*").lower()
    out = []
    with Host.open(path, write=False) as h:
        for name, s in sorted(h.data["services"].items()):
            if fnmatch.fnmatch(name.lower(), want) or fnmatch.fnmatch(s.get("display_name", "").lower(), want):
                out.append({"name": name, "display_name": s.get("display_name", name), "state": s["state"],
                            "start_mode": s.get("start_mode", "auto"), "path": s.get("path", ""),
                            "description": s.get("description", ""), "username": "LocalSystem",
                            "service_type": "win32_own_process", "dependencies": [], "dependency_of": [],
                            "process_id": 0 if s["state"] != "running" else s.get("pid", 1000)})
    standin.finish(module, RETURNS, changed=False, exists=bool(out), services=out)


if __name__ == "__main__":
    main()
