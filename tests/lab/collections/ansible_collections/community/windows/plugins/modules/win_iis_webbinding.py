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
    "name": {"type": "str", "required": True, "aliases": ["website"]},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "port": {"type": "int", "default": 80},
    "ip": {"type": "str", "default": "*"},
    "host_header": {"type": "str"},
    "protocol": {"type": "str", "default": "http"},
    "certificate_hash": {"type": "str"},
    "certificate_store_name": {"type": "str", "default": "my"},
    "ssl_flags": {"type": "str"},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["website_state", "operation_type", "binding_info"]


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_iis_webbinding")
    p = module.params
    hh = p["host_header"] or ""
    with Host.open(path) as h:
        sites = (h.data.get("iis") or {}).get("sites", {})
        if p["name"] not in sites:
            module.fail_json(msg=f"Unable to retrieve website with name {p['name']}. Make sure the website name is "
                                 "valid and exists.")
        site = sites[p["name"]]
        match = [b for b in site["bindings"] if int(b["port"]) == p["port"] and b["ip"] == p["ip"]
                 and (b.get("host_header") or "") == hh]
        info = {"bindingInformation": f"{p['ip']}:{p['port']}:{hh}", "ip": p["ip"], "port": p["port"],
                "hostheader": hh, "protocol": p["protocol"], "sslFlags": 0, "certificateHash": "",
                "certificateStoreName": ""}
        res = {"changed": False, "website_state": site.get("state", "Started")}
        if p["state"] == "present":
            if match and match[0]["protocol"] == p["protocol"]:
                res.update(operation_type="matched", binding_info=info)
            elif match:
                module.fail_json(msg=f"protocol mismatch for binding {info['bindingInformation']}",
                                 website_state=res["website_state"])
            else:
                held = [l for l in h.data.get("listeners", []) if l["port"] == p["port"]]
                if held:
                    module.fail_json(msg=f"lab: port {p['port']} is held by {held[0]['process']}; "
                                         "http.sys cannot register the binding", website_state=res["website_state"])
                res.update(changed=True, operation_type="added", binding_info=info)
                if not module.check_mode:
                    site["bindings"].append({"protocol": p["protocol"], "ip": p["ip"], "port": p["port"],
                                             "host_header": hh})
                    h.touch()
        else:
            if match:
                res.update(changed=True, operation_type="removed", binding_info=info)
                if not module.check_mode:
                    site["bindings"].remove(match[0])
                    h.touch()
            else:
                res.update(operation_type="removed", binding_info={})
    standin.finish(module, RETURNS, **res)


if __name__ == "__main__":
    main()
