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
    "path": {"type": "path", "required": True, "aliases": ["dest", "destfile", "name"]},
    "backup": {"type": "bool", "default": False},
    "regex": {"aliases": ["regexp"]},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "line": {"type": "str"},
    "backrefs": {"type": "bool", "default": False},
    "insertafter": {"type": "str"},
    "insertbefore": {"type": "str"},
    "create": {"type": "bool", "default": False},
    "validate": {"type": "str"},
    "encoding": {"type": "str", "default": "auto"},
    "newline": {"type": "str", "default": "windows", "choices": ["unix", "windows"]},
}
SUPPORTS_CHECK_MODE = True
RETURNS = ["backup_file"]


def edit(lines, p):
    """Returns (new_lines, msg) following the real module's rules."""
    import re
    rx = re.compile(p["regex"]) if p["regex"] else None
    if p["state"] == "absent":
        keep = [l for l in lines if not ((rx and rx.search(l)) or (not rx and l == p["line"]))]
        n = len(lines) - len(keep)
        return keep, (f"{n} line(s) removed" if n else "")
    line = p["line"]
    idx = -1
    if rx:
        for i, l in enumerate(lines):
            if rx.search(l):
                idx = i
    if idx >= 0:
        new = rx.sub(line, lines[idx]) if p["backrefs"] else line
        if p["backrefs"]:
            new = rx.search(lines[idx]).expand(line)
        if lines[idx] == new:
            return lines, ""
        out = list(lines)
        out[idx] = new
        return out, "line replaced"
    if p["backrefs"]:
        return lines, ""
    if line in lines:
        return lines, ""
    out = list(lines)
    ia, ib = p["insertafter"], p["insertbefore"]
    if ib == "BOF":
        out.insert(0, line)
    elif ib:
        pos = next((i for i, l in enumerate(lines) if re.search(ib, l)), None)
        out.insert(pos if pos is not None else len(out), line)
    elif ia and ia != "EOF":
        pos = None
        for i, l in enumerate(lines):
            if re.search(ia, l):
                pos = i
        out.insert(pos + 1 if pos is not None else len(out), line)
    else:
        out.append(line)
    return out, "line added"


def main():
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE,
                           mutually_exclusive=[["insertafter", "insertbefore"]])
    path = standin.enter("win_lineinfile")
    p = module.params
    if p["state"] == "present" and p["line"] is None:
        module.fail_json(msg="line= is required with state=present")
    if p["state"] == "absent" and p["regex"] is None and p["line"] is None:
        module.fail_json(msg="one of line= or regex= is required with state=absent")
    if p["backrefs"] and p["regex"] is None:
        module.fail_json(msg="regex= is required with backrefs=true")
    if p["validate"]:
        module.fail_json(msg="lab stand-in: validate is not simulated")
    sep = "\r\n" if p["newline"] == "windows" else "\n"
    result = {"changed": False, "msg": ""}
    with Host.open(path) as h:
        text = h.read_text(p["path"])
        if text is None:
            if h.is_dir(p["path"]):
                module.fail_json(msg=f"Path {p['path']} is a directory")
            if p["state"] == "absent":
                standin.finish(module, RETURNS, changed=False, msg="path/file not found")
            if not p["create"]:
                module.fail_json(msg=f"Path {p['path']} does not exist !")
            text = ""
        lines = text.splitlines()
        new, msg = edit(lines, p)
        if new != lines or (text == "" and new):
            result.update(changed=True, msg=msg or "line added")
            if p["backup"]:
                bname = p["path"] + ".lab.bak"
                result["backup_file"] = bname
                if not module.check_mode:
                    h.write_text(bname, text)
            if not module.check_mode:
                h.write_text(p["path"], sep.join(new) + sep)
            if module._diff:
                result["diff"] = {"before": text, "after": sep.join(new) + sep,
                                  "before_header": p["path"], "after_header": p["path"]}
    if result["changed"] and not module.check_mode:
        standin.after_write(path)
    standin.finish(module, RETURNS, **result)


if __name__ == "__main__":
    main()
