#!/usr/bin/python
# Lab stand-in (tests/lab): same name, options and documented return keys as the real module;
# acts on the host state file named by OSCE_LAB_STATE. Never used against real hosts.
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.environ.get("OSCE_LAB_LIB", ""))

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

ARGUMENT_SPEC = {"data": {"type": "str", "default": "pong"}}
SUPPORTS_CHECK_MODE = True
RETURNS = ["ping"]


def main():
    from osce_lab import standin
    module = AnsibleModule(ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    standin.enter("win_ping")
    if module.params["data"] == "crash":
        raise Exception("boom")
    standin.finish(module, RETURNS, changed=False, ping=module.params["data"])


if __name__ == "__main__":
    main()
