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
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "get_checksum": {"type": "bool", "default": True},
    "get_size": {"type": "bool", "default": True},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
    "follow": {"type": "bool", "default": False},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["changed", "stat"]


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    from osce_lab.standin import file_stat, dir_stat
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_stat")
    p = module.params
    with Host.open(path, write=False) as h:
        name, entry = h.file(p["path"])
        if entry is not None:
            st = file_stat(h, name, entry, p["get_checksum"], p["checksum_algorithm"], p["get_size"])
        elif h.is_dir(p["path"]):
            st = dir_stat(p["path"])
        else:
            st = {"exists": False}
    standin.finish(module, RETURNS, changed=False, stat=st)


if __name__ == "__main__":
    main()
