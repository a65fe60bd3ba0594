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
    "connect_timeout": {"type": "int", "default": 5},
    "delay": {"type": "int"},
    "exclude_hosts": {"type": "list", "elements": "str"},
    "host": {"type": "str", "default": "127.0.0.1"},
    "path": {"type": "path"},
    "port": {"type": "int"},
    "regex": {"type": "str", "aliases": ["search_regex", "regexp"]},
    "sleep": {"type": "int", "default": 1},
    "state": {"type": "str", "default": "started", "choices": ["absent", "drained", "present", "started", "stopped"]},
    "timeout": {"type": "int", "default": 300},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["wait_attempts", "elapsed"]


def main():
    from osce_lab import standin
    from osce_lab.osce import listeners
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE,
                           mutually_exclusive=[["path", "port"]])
    path = standin.enter("win_wait_for")
    p = module.params
    if p["state"] in ("drained",) or p["regex"] or p["exclude_hosts"]:
        module.fail_json(msg="lab stand-in: drained/regex/exclude_hosts are not simulated")
    with Host.open(path, write=False) as h:
        me = h.name
        blocked = {int(f.get("arg") or 8082) for f in h.data.get("faults", []) if f.get("kind") == "port_blocked"}
    if p["path"]:
        with Host.open(path, write=False) as h:
            present = h.find_file(p["path"]) is not None or h.is_dir(p["path"])
        ok = present if p["state"] in ("present", "started") else not present
        what = f"path {p['path']}"
    elif p["port"] is not None:
        fleet = standin.fleet_of(path)
        target = me if p["host"] in ("127.0.0.1", "localhost", "::1") else p["host"]
        tpath = fleet.host_path(target.split(".")[0])
        listening = False
        if tpath.exists() and not (target != me and p["port"] in blocked):   # a firewall drops it on the way
            with Host.open(tpath, write=False) as t:
                if t.reachable:
                    listening = any(l["port"] == p["port"] for l in listeners(t))
        ok = listening if p["state"] in ("present", "started") else not listening
        what = f"{p['host']}:{p['port']}"
    else:
        standin.finish(module, RETURNS, changed=False, wait_attempts=1, elapsed=float(p["delay"] or 0))
    if ok:
        standin.finish(module, RETURNS, changed=False, wait_attempts=1, elapsed=0.1)
    verb = "start listening" if p["state"] in ("started", "present") else "stop listening"
    standin.finish(module, RETURNS, fail=True, changed=False, wait_attempts=max(1, p["timeout"] // max(1, p["sleep"])),
                   elapsed=float(p["timeout"]), msg=f"timeout while waiting for {what} to {verb}")


if __name__ == "__main__":
    main()
