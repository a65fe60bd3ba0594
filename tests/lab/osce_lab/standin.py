"""Harness of the stand-in modules.

A stand-in finds its host's state file through ``OSCE_LAB_STATE``, which the per-host interpreter
launcher (``<fleet>/bin/<host>`` -> ``<fleet>/lab-python``) sets; no module option, no play
``environment``. Faults that make a host unreachable are applied here, before the module acts.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .state import Host, count_call, is_reachable


_MODULE = [""]  # the stand-in's name, for the CPU log


def _log_cpu_at_exit(log: str) -> None:
    """``OSCE_LAB_CPU_LOG=FILE`` (the benchmarks set it): at exit, append this module process's CPU
    seconds (user + system, its own and its waited-for children's: the launcher's shell included, since
    it execs the interpreter in the same process) as one JSON line. One O_APPEND write per process."""
    import atexit
    import resource

    def record():
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        line = json.dumps({"pid": os.getpid(), "state": os.environ.get("OSCE_LAB_STATE", ""),
                           "module": _MODULE[0], "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                           "wait_cpu": getattr(sys.modules.get("osce_lab.network"), "WAIT_CPU", [0.0])[0]}) + "\n"
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    atexit.register(record)


if os.environ.get("OSCE_LAB_CPU_LOG"):
    _log_cpu_at_exit(os.environ["OSCE_LAB_CPU_LOG"])


def ansible_module(args_json: str, argument_spec: dict, **kwargs):
    """The stand-in's ``AnsibleModule``, from the arguments Ansible wrote into its source.

    A stand-in carries Ansible's JSON-arguments marker instead of importing ``ansible.module_utils``
    itself, so the controller sends its source with the arguments substituted: no AnsiballZ payload,
    whose dependency scan and zip cost about 0.4 CPU s per module per ``ansible-playbook`` run. The
    module still validates its options with ``AnsibleModule`` (imported here, where Ansible's scan does
    not look) and answers exactly as before. Lab only: a real module for Windows is PowerShell.
    """
    from ansible.module_utils import basic

    basic._ANSIBLE_ARGS = b'{"ANSIBLE_MODULE_ARGS": ' + args_json.encode() + b"}"
    basic._ANSIBLE_PROFILE = "legacy"   # the profile Ansible encodes JSON-arguments modules with
    return basic.AnsibleModule(argument_spec, **kwargs)


def state_path() -> Path:
    p = os.environ.get("OSCE_LAB_STATE")
    if not p:
        print(json.dumps({"failed": True, "msg": "lab stand-in: OSCE_LAB_STATE is not set; run lab hosts "
                          "with the interpreter launcher make_fleet.py writes (<fleet>/bin/<host>)"}))
        sys.exit(1)
    return Path(p)


def unreachable(msg: str):
    # ansible-core counts a result with "unreachable": true (and no "failed") as UNREACHABLE
    print(json.dumps({"unreachable": True, "changed": False, "msg": msg}))
    sys.exit(0)


def enter(module_name: str) -> Path:
    """Count the call (``<state>/calls/<host>.json``), apply reachability faults. Returns the state path."""
    _MODULE[0] = module_name
    path = state_path()
    if not path.exists():
        unreachable(f"lab: no state file for this host ({path})")
    calls = count_call(path)   # counted apart (<state>/calls/): the host state file is not written
    with Host.open(path, write=False) as h:
        reachable = is_reachable(h.data, calls)
        name = h.name
    if not reachable:
        unreachable(f"Failed to connect to the host via WinRM: {name}: lab host offline "
                    f"(module {module_name})")
    from .osce import settle_install
    settle_install(fleet_of(path), path)   # before mark_busy: waiting on the clock is not being busy
    mark_busy(path)
    return path


def mark_busy(path: Path):
    """While a stand-in runs (and is not blocked on the clock) the virtual clock does not jump. At exit it
    refreshes the controller's task marker for its host, so the gap until the controller has the result
    (or starts the task's next module) is covered as well."""
    import atexit
    from .network import TASK_MARKER, touch_existing
    busy = Path(path).parent.parent / "lab" / "busy"
    busy.mkdir(exist_ok=True)
    marker = busy / str(os.getpid())
    marker.touch()
    task = busy / f"{TASK_MARKER}{Path(path).stem}"
    touch_existing(task)

    def leave():
        touch_existing(task)
        marker.unlink(missing_ok=True)
    atexit.register(leave)


COMMON_KEYS = {"changed", "failed", "msg", "skipped", "invocation", "diff", "warnings", "deprecations"}


def finish(module, returns, fail=False, **result):
    """exit_json/fail_json, refusing keys the real module does not document (contract at run time)."""
    allowed = set(returns) | COMMON_KEYS
    keys = set(result) | set(result.get("ansible_facts", {}) if "ansible_facts" not in returns else [])
    keys.discard("ansible_facts") if "ansible_facts" not in returns else None
    extra = sorted(k for k in keys if k not in allowed)
    if extra:
        module.fail_json(msg=f"lab stand-in bug: undocumented return keys {extra}")
    if fail:
        module.fail_json(**result)
    module.exit_json(**result)


def fleet_of(path: Path):
    from .osce import Fleet
    return Fleet(Path(path).parent.parent)


def after_write(path: Path, ini_changed: bool = True):
    """A write on the OSCE server may change the upgrade privilege: notify allowed clients."""
    with Host.open(path, write=False) as h:
        role = h.data["role"]
    if role == "server" and ini_changed:
        from .osce import reconcile
        reconcile(fleet_of(path))


def file_stat(h, name, entry, get_checksum=True, algo="sha1", get_size=True):
    from osce_lab.state import basename
    base = basename(name)
    st = {"exists": True, "path": name, "filename": base, "extension": ("." + base.rsplit(".", 1)[1]) if "." in base else "",
          "attributes": "Archive", "isarchive": True, "isdir": False, "ishidden": False, "isjunction": False,
          "islnk": False, "isreadonly": False, "isreg": True, "isshared": False, "nlink": 1,
          "hlnk_targets": [], "owner": "BUILTIN\\Administrators",
          "creationtime": float(entry.get("mtime", 0)), "lastaccesstime": float(entry.get("mtime", 0)),
          "lastwritetime": float(entry.get("mtime", 0))}
    if get_size:
        st["size"] = h.file_size(entry)
    if get_checksum:
        st["checksum"] = h.file_hash(entry, algo)
    return st


def dir_stat(name):
    from osce_lab.state import basename
    return {"exists": True, "path": name, "filename": basename(name), "attributes": "Directory", "isarchive": False,
            "isdir": True, "ishidden": False, "isjunction": False, "islnk": False, "isreadonly": False,
            "isreg": False, "isshared": False, "nlink": 1, "hlnk_targets": [], "owner": "BUILTIN\\Administrators",
            "creationtime": 0.0, "lastaccesstime": 0.0, "lastwritetime": 0.0, "size": 0}


def lab_datetime(fleet, seconds: float | None = None) -> str:
    import datetime
    base = datetime.datetime.strptime(fleet.cfg.get("today", "2015-11-20 09:00:00"), "%Y-%m-%d %H:%M:%S")
    now = fleet.lab.now() if seconds is None else seconds
    return (base + datetime.timedelta(seconds=now)).strftime("%Y-%m-%d %H:%M:%S")


def run_installer_module(module, path, inst_path, arguments, checksum, algo, expected, log_path):
    """win_package on a lab installer: verify, take its duration on the clock, apply, notify clients."""
    from .osce import load_installer, run_installer
    fleet = fleet_of(path)
    with Host.open(path, write=False) as h:
        spec, err = load_installer(h, inst_path)
        _, entry = h.file(inst_path)
        actual = h.file_hash(entry, algo).upper() if entry else None
        host_name = h.name
        role = h.data["role"]
    res = {"changed": True, "rc": 0, "reboot_required": False}
    if algo and actual:
        res["checksum"] = actual
        if checksum and checksum.upper() != actual:
            module.fail_json(msg=f"The checksum for {inst_path} did not match '{checksum}', it was '{actual}'", **res)
    cmdline = f"{inst_path} {arguments or ''}".strip()
    if err or role != "server":
        res.update(rc=193, stdout="", stderr=f"{inst_path} is not a valid Win32 application (lab: {err or 'no OSCE server here'})")
    else:
        dur = float(spec.get("duration_seconds", 0))
        if dur > 0:
            fleet.lab.wait(fleet.lab.start(host_name, "timer", f"install {spec['step']}", 0, trigger="win_package",
                                           seconds=dur))
        out = run_installer(fleet, path, spec, lab_datetime(fleet))
        res.update(rc=out["rc"], stdout=out["stdout"] + "\r\n", stderr="")
        if log_path:
            with Host.open(path) as h:
                h.write_text(log_path, out["stdout"] + "\r\n")
        if out["rc"] == 1641:
            from .reboot import DEFAULT_DOWN_CALLS, lab_now, restart
            from .state import call_count
            with Host.open(path) as h:   # the installer restarted the machine: gone for the next few calls
                restart(h, lab_now(fleet), int(fleet.cfg.get("reboot_down_calls", DEFAULT_DOWN_CALLS)),
                        call_count(path))
        if out["applied"]:
            from .osce import reconcile
            reconcile(fleet)
    if res["rc"] == 3010:
        res["reboot_required"] = True
    if res["rc"] not in expected:
        if log_path:
            res["log"] = res.get("stdout", "")
        res["msg"] = (f"unexpected rc from '{cmdline}': see rc, stdout, and stderr for more details")
        res["changed"] = res["rc"] != 1603 and res["rc"] != 193
        module.fail_json(**res)
    res["failed"] = False  # as the real module: an expected non-zero rc (3010) is no failure
    return res


def run_command(path, argv):
    """win_command: AutoPcc.exe from the server share, or a lab installer; anything else is not simulated."""
    from .osce import load_installer, server_snapshot, upgrade_client, client_info, _privilege_on
    from .state import basename
    exe = argv[0]
    fleet = fleet_of(path)
    if basename(exe).lower() == "autopcc.exe":
        parts = exe.replace("/", "\\").lstrip("\\").split("\\")
        if not exe.startswith("\\\\") or len(parts) < 3 or not fleet.is_server_ref(parts[0]) \
                or parts[1].lower() != "ofcscan":
            return 2, "", f"{exe}: The system cannot find the file specified."
        spath = fleet.host_path(fleet.server_name)
        snap = server_snapshot(spath)
        if not snap["reachable"]:
            return 53, "", f"{exe}: The network path was not found."
        with Host.open(path, write=False) as h:
            if h.data["role"] != "client":
                return 1, "", "AutoPcc: this host is not an OfficeScan client"
            info = client_info(h)
            name = h.name
            free = h.data["disks"][0]["free"]
            need = snap["client_package_bytes"].get(h.data["arch"], 0)
        if info["build"] < snap["client_build"] and free < need:
            # a client whose C: cannot hold the package (disk_small): AutoPcc fails, nothing is downloaded
            return 112, "", f"AutoPcc: There is not enough space on the disk ({free} bytes free, {need} needed)."
        if fleet.cfg.get("autopcc_respects_privilege") and _privilege_on(snap["ini"], name, info["domain"]):
            return 0, "AutoPcc: program upgrade not permitted (privilege); components checked\r\n", ""
        ids = upgrade_client(fleet, path, snap, trigger="autopcc", block=True)
        if not ids:
            return 0, f"AutoPcc: client already at build {snap['client_build']}\r\n", ""
        return 0, f"AutoPcc: client upgraded to build {snap['client_build']}\r\n", ""
    with Host.open(path, write=False) as h:
        spec, err = load_installer(h, exe)
    if err == "missing":
        return 2, "", f"{exe}: The system cannot find the file specified."
    if err:
        return 193, "", f"{exe} is not a valid Win32 application."

    class _M:  # minimal module facade for run_installer_module
        def fail_json(self, **kw):
            raise _Fail(kw)

    try:
        res = run_installer_module(_M(), path, exe, " ".join(argv[1:]), None, "sha256", [0], None)
    except _Fail as f:
        res = f.args[0]
    return res["rc"], res.get("stdout", ""), res.get("stderr", "")


class _Fail(Exception):
    pass
