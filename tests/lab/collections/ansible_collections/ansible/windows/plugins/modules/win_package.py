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
    "arguments": {"type": "raw"},
    "chdir": {"type": "path"},
    "checksum": {"type": "str"},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
    "creates_path": {"type": "path"},
    "creates_service": {"type": "str"},
    "creates_version": {"type": "str"},
    "expected_return_code": {"type": "list", "elements": "int", "default": [0, 3010]},
    "log_path": {"type": "path"},
    "path": {"type": "str"},
    "product_id": {"type": "str"},
    "provider": {"type": "str", "default": "auto", "choices": ["auto", "msi", "msix", "msp", "registry"]},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "wait_for_children": {"type": "bool", "default": False},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["checksum", "log", "rc", "reboot_required", "stdout", "stderr"]


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE,
                           required_one_of=[["path", "product_id"]])
    path = standin.enter("win_package")
    p = module.params
    if p["state"] == "absent":
        module.fail_json(msg="lab stand-in: uninstalling packages is not simulated")
    if p["path"] and p["path"].lower().startswith(("http://", "https://")):
        module.fail_json(msg="lab stand-in: URL packages are not simulated")
    with Host.open(path, write=False) as h:
        if p["path"] and h.find_file(p["path"]) is None and not module.check_mode:
            module.fail_json(msg=f"the file at the path '{p['path']}' cannot be reached", rc=0, reboot_required=False)
        installed = False
        if p["creates_path"]:
            name, entry = h.file(p["creates_path"])
            installed = entry is not None or h.is_dir(p["creates_path"])
            if installed and p["creates_version"]:
                installed = entry is not None and entry.get("version") == p["creates_version"]
        if p["creates_service"]:
            installed = installed or p["creates_service"] in h.data["services"]
        if p["product_id"] and not p["path"]:
            module.fail_json(msg="lab stand-in: product_id lookups without a path are not simulated")
    if installed or module.check_mode:
        standin.finish(module, RETURNS, changed=not installed, rc=0, reboot_required=False)
    res = standin.run_installer_module(module, path, p["path"], p["arguments"], p["checksum"],
                                       p["checksum_algorithm"], p["expected_return_code"], p["log_path"])
    standin.finish(module, RETURNS, **res)


if __name__ == "__main__":
    main()
