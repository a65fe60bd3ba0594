#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

# Ansible substitutes the task arguments for the marker (osce_lab.standin.ansible_module).
ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

ARGUMENT_SPEC = {"src": {"type": "path", "required": True, "aliases": ["path"]}}
SUPPORTS_CHECK_MODE = True
RETURNS = ["content", "encoding", "source"]


def main():
    import base64
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("slurp")
    src = module.params["src"]
    with Host.open(path, write=False) as h:
        _, entry = h.file(src)
        if entry is None:
            if h.is_dir(src):
                module.fail_json(msg=f"Path {src} is a directory")
            module.fail_json(msg=f"Path {src} is not found")
        data = h.file_bytes(entry)
        if data is None:
            data = b"\0" * min(int(entry.get("size", 0)), 4096)
    standin.finish(module, RETURNS, changed=False, content=base64.b64encode(data).decode(),
                   encoding="base64", source=src)


if __name__ == "__main__":
    main()
