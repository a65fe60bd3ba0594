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
    "_raw_params": {"type": "str"},
    "cmd": {"type": "str"},
    "argv": {"type": "list", "elements": "str"},
    "creates": {"type": "path"},
    "removes": {"type": "path"},
    "chdir": {"type": "path"},
    "stdin": {"type": "str"},
    "output_encoding_override": {"type": "str"},
}
SUPPORTS_CHECK_MODE = False  # as the real win_command: check mode comes back "skipped"
RETURNS = ["msg", "start", "end", "delta", "stdout", "stderr", "cmd", "rc", "stdout_lines", "stderr_lines"]


def main():
    import datetime
    import re
    from osce_lab import standin
    from osce_lab.state import Host
    module = standin.ansible_module(ARGS, ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE,
                           mutually_exclusive=[["_raw_params", "cmd", "argv"]],
                           required_one_of=[["_raw_params", "cmd", "argv"]])
    path = standin.enter("win_command")
    p = module.params
    cmd = p["_raw_params"] or p["cmd"]
    # Windows command-line tokens: whitespace separated, double quotes group, backslashes literal
    argv = p["argv"] or [a[0] or a[1] for a in re.findall(r'"([^"]*)"|(\S+)', cmd)]
    cmd = cmd or " ".join(argv)
    with Host.open(path, write=False) as h:
        if p["creates"] and (h.find_file(p["creates"]) or h.is_dir(p["creates"])):
            standin.finish(module, RETURNS, changed=False, cmd=cmd, rc=0, stdout="", stderr="",
                           msg=f"skipped, since {p['creates']} exists")
        if p["removes"] and not (h.find_file(p["removes"]) or h.is_dir(p["removes"])):
            standin.finish(module, RETURNS, changed=False, cmd=cmd, rc=0, stdout="", stderr="",
                           msg=f"skipped, since {p['removes']} does not exist")
    start = datetime.datetime.now()
    rc, out, err = standin.run_command(path, argv)
    end = datetime.datetime.now()
    res = dict(changed=True, cmd=cmd, rc=rc, stdout=out, stderr=err, stdout_lines=out.splitlines(),
               stderr_lines=err.splitlines(), start=start.strftime("%Y-%m-%d %H:%M:%S.%f"),
               end=end.strftime("%Y-%m-%d %H:%M:%S.%f"), delta=str(end - start))
    if rc != 0:
        res["msg"] = "non-zero return code"
        standin.finish(module, RETURNS, fail=True, **res)
    standin.finish(module, RETURNS, **res)


if __name__ == "__main__":
    main()
