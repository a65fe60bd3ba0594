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
    "age": {"type": "str"},
    "age_stamp": {"type": "str", "default": "mtime", "choices": ["atime", "ctime", "mtime"]},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
    "depth": {"type": "int"},
    "file_type": {"type": "str", "default": "file", "choices": ["directory", "file", "any"]},
    "follow": {"type": "bool", "default": False},
    "get_checksum": {"type": "bool", "default": True},
    "hidden": {"type": "bool", "default": False},
    "paths": {"type": "list", "elements": "str", "required": True},
    "patterns": {"type": "list", "elements": "str", "aliases": ["regex", "regexp"]},
    "recurse": {"type": "bool", "default": False},
    "size": {"type": "str"},
    "use_regex": {"type": "bool", "default": False},
    "case_sensitive": {"type": "bool", "default": False},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["examined", "matched", "files"]


def main():
    import fnmatch
    import re
    from osce_lab import standin
    from osce_lab.state import Host, norm_path, basename
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    path = standin.enter("win_find")
    p = module.params
    if p["age"] or p["size"]:
        module.fail_json(msg="lab stand-in: age/size filters are not simulated")
    flags = 0 if p["case_sensitive"] else re.I
    from osce_lab.standin import file_stat
    files, examined, warnings = [], 0, []
    with Host.open(path, write=False) as h:
        for root in p["paths"]:
            r = norm_path(root).rstrip("\\")
            if not h.is_dir(r):
                warnings.append(f"Argument path '{root}' does not exist, skipping")
                continue
            for name, entry in sorted(h.data["files"].items()):
                if not name.lower().startswith(r.lower() + "\\"):
                    continue
                rel = name[len(r) + 1:]
                depth = rel.count("\\") + 1
                if depth > 1 and not p["recurse"]:
                    continue
                if p["depth"] is not None and depth > p["depth"]:
                    continue
                examined += 1
                if p["file_type"] == "directory":
                    continue
                base = basename(name)
                pats = p["patterns"] or ["*"]
                if p["use_regex"]:
                    ok = any(re.match(x, base, flags) for x in pats)
                else:
                    ok = any(re.fullmatch(fnmatch.translate(x), base, flags) for x in pats)
                if ok:
                    files.append(file_stat(h, name, entry, p["get_checksum"], p["checksum_algorithm"]))
    for w in warnings:
        module.warn(w)
    standin.finish(module, RETURNS, changed=False, examined=examined, matched=len(files), files=files)


if __name__ == "__main__":
    main()
