#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

# Ansible substitutes the task arguments for the marker (osce_lab.standin.ansible_module).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

ARGUMENT_SPEC = {"path": {"type": "path", "required": True}}
SUPPORTS_CHECK_MODE = True
RETURNS = ["win_file_version"]


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_file_version")
    p = module.params["path"]
    with Host.open(path, write=False) as h:
        _, entry = h.file(p)
    if entry is None:
        module.fail_json(msg=f"Specified path {p} does not exist")
    ver = entry.get("version", "")
    parts = (ver.split(".") + ["0", "0", "0", "0"])[:4] if ver else ["", "", "", ""]
    info = {"path": p, "file_version": ver, "product_version": entry.get("product_version", ver),
            "file_major_part": parts[0], "file_minor_part": parts[1], "file_build_part": parts[2],
            "file_private_part": parts[3], "file_version_raw": ver}
    standin.finish(module, RETURNS, changed=False, win_file_version=info)


if __name__ == "__main__":
    main()
