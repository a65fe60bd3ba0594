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
    "date_uformat": {"type": "str", "default": "%c"},
    "tcp_filter": {"type": "list", "elements": "str", "default": ["Listen"]},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["tcp_listen", "udp_listen"]


def main():
    from osce_lab import standin
    from osce_lab.osce import listeners
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_listen_ports_facts")
    with Host.open(path, write=False) as h:
        tcp = []
        if "Listen" in module.params["tcp_filter"]:
            for l in listeners(h):
                tcp.append({"address": "0.0.0.0", "name": l["process"].rsplit(".", 1)[0], "pid": l["pid"],
                            "port": l["port"], "protocol": "tcp", "stime": "Mon Jan 05 08:00:00 2015",
                            "user": "NT AUTHORITY\\SYSTEM"})
    standin.finish(module, RETURNS, changed=False, ansible_facts={"tcp_listen": tcp, "udp_listen": []})


if __name__ == "__main__":
    main()
