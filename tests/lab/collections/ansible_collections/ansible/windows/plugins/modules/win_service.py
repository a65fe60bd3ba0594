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
    "dependencies": {"type": "list", "elements": "str"},
    "dependency_action": {"type": "str", "default": "set", "choices": ["add", "remove", "set"]},
    "description": {"type": "str"},
    "display_name": {"type": "str"},
    "force_dependent_services": {"type": "bool", "default": False},
    "name": {"type": "str", "required": True},
    "path": {"type": "str"},
    "start_mode": {"type": "str", "choices": ["auto", "delayed", "disabled", "manual"]},
    "state": {"type": "str", "choices": ["absent", "paused", "started", "stopped", "restarted"]},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["exists", "name", "display_name", "state", "start_mode", "path", "can_pause_and_continue",
           "description", "username", "desktop_interact", "dependencies", "depended_by"]


def main():
    from osce_lab import standin
    from osce_lab.osce import start_service
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_service")
    p = module.params
    with Host.open(path) as h:
        svcs = h.data["services"]
        key = next((k for k in svcs if k.lower() == p["name"].lower()
                    or svcs[k].get("display_name", "").lower() == p["name"].lower()), None)
        if key is None:
            if p["state"] in (None, "absent"):
                standin.finish(module, RETURNS, changed=False, exists=False)
            module.fail_json(msg=f"Service '{p['name']}' is not installed, need to set 'path' to create a new service",
                             exists=False)
        if p["path"] or p["dependencies"] or p["description"] or p["display_name"] or p["state"] in ("absent", "paused"):
            module.fail_json(msg="lab stand-in: only state started/stopped/restarted and start_mode are simulated")
        svc = svcs[key]
        changed = False
        if p["start_mode"] and svc.get("start_mode") != p["start_mode"]:
            changed = True
            if not module.check_mode:
                svc["start_mode"] = p["start_mode"]
                h.touch()
        state = p["state"]
        error = None
        if state == "stopped" and svc["state"] != "stopped":
            changed = True
            if not module.check_mode:
                svc["state"] = "stopped"
                h.touch()
        elif state == "started" and svc["state"] != "running":
            changed = True
            if not module.check_mode:
                error = start_service(h, key)
        elif state == "restarted":
            changed = True
            if not module.check_mode:
                svc["state"] = "stopped"
                error = start_service(h, key)
        res = dict(changed=changed, exists=True, name=key, display_name=svc.get("display_name", key),
                   state=svc["state"], start_mode=svc.get("start_mode", "auto"), path=svc.get("path", ""),
                   can_pause_and_continue=False, description=svc.get("description", ""),
                   username="LocalSystem", desktop_interact=False, dependencies=[], depended_by=[])
    if error:
        res["msg"] = error
        standin.finish(module, RETURNS, fail=True, **res)
    standin.finish(module, RETURNS, **res)


if __name__ == "__main__":
    main()
