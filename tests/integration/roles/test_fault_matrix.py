"""Issue 13 "Nothing lost": every fault make_fleet.py offers, and a controller killed with SIGKILL,
on the first and on the last step of a long chain; then the fault is removed and site.yml rerun once.

The fleet is the smallest that has the long chain: a server on SP3 (chain sp3_patch1_1 -> cp5495 ->
cp5712r1; Patch 2 left out with osce_include_patch2=false to keep one playbook run near a minute of
CPU), one client, instant mode. For every case:

- the run with the fault fails clearly (one line with a Fix, no traceback) or holds, and no client
  downloads outside a planned batch (the lab's ledger: every ``package`` record has trigger ``autopcc``);
- the fault is removed from the host state (``faults`` list, plus the data make_fleet wrote for it,
  taken from a pristine twin fleet: what the operator's fix restores) and site.yml runs once more;
- then the server is on CP 5712r1 (build 5712 with the r1 record), the privilege is at its original
  value, no PrivilegeMarker is left, still no download outside a batch, and every host state equals
  that of a clean run of an identical fleet, times, dates and run ids aside.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from labfleet import (LAB_LOCK_SETTLE, ROOT, WRAPPER, Fleet, Run, make_fleet, marker_open, needs_lab, osce_values,
                      outside_batches, run_playbook)

pytestmark = [needs_lab]

FIRST, LAST = "sp3_patch1_1", "cp5712r1"
# the server build once each step is installed (lab builds): where a live fault is made to fire
BUILD_AFTER = {FIRST: 4100, LAST: 5712}
# the lab's restarts last a few module calls, not minutes: poll for the server every second
PLAY_ARGS = ("-e", "osce_include_patch2=false", "-e", "osce_reboot_poll_interval=1")
SHAPE = ("sp3", "apache", 1)
SRV, PC = "osce-srv", "pc0001"


# ------------------------------------------------------------------------------ reading the lab


def clock_items(fleet: Fleet, running_only: bool = False) -> list[dict]:
    """The lab clock's transfers and timers (``items`` run, ``done`` ended)."""
    path = fleet.path / "lab" / "clock.json"
    try:
        clock = json.loads(path.read_text())
    except (OSError, ValueError):   # not written yet
        return []
    return list(clock.get("items", {}).values()) + ([] if running_only else list(clock.get("done", {}).values()))


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?")
_RUN_ID = re.compile(r"\d{8}T\d{6}Z-\d+")
# Not part of what a run leaves: file and host mtimes, the reboot counter and Windows' ShutdownTime
# (a reboot the fault itself asked for - 3010, 1641 - is no loss), the lab's restart window in calls.
_DROP = {"mtime", "boot_count", "down_until_call"}


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _DROP}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):   # JSON records (Applied.<step>, LockBroken)
            with contextlib.suppress(ValueError):
                return {"json": _scrub(json.loads(value))}
        return _TIME.sub("<time>", _RUN_ID.sub("<run>", value))
    return value


def normalised(fleet: Fleet) -> dict:
    """Every host state, times, dates and run ids aside (see _DROP for what else and why)."""
    out = {}
    for name in fleet.hosts():
        state = fleet.host(name)
        for key in list(state.get("registry", {})):
            if key.lower().endswith("\\control\\windows"):
                state["registry"][key]["values"].pop("ShutdownTime", None)
        out[name] = _scrub(state)
    return out


def differences(got, want, path="") -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for k in sorted(set(got) | set(want)):
            if k not in got or k not in want:
                out.append(f"{path}/{k}: {'missing' if k not in got else 'extra'}")
            else:
                out += differences(got[k], want[k], f"{path}/{k}")
        return out
    return [] if got == want else [f"{path}: {str(got)[:300]} != {str(want)[:300]}"]


# ----------------------------------------------------------------------------- changing the lab


@contextlib.contextmanager
def host_state(fleet: Fleet, name: str):
    """Read-modify-write one host state under the lab's own lock (stand-ins may run meanwhile)."""
    path = fleet.path / "hosts" / f"{name}.json"
    with open(str(path) + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text())
        yield state
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, path)


def calls(fleet: Fleet, name: str) -> int:
    path = fleet.path / "calls" / f"{name}.json"
    return int(json.loads(path.read_text()).get("calls", 0)) if path.exists() else 0


def clear_fault(fleet: Fleet, twin: Fleet, host: str, kind: str) -> None:
    """Remove the fault: its entry in the host's ``faults`` list, and the data make_fleet wrote for it,
    as the pristine twin (same arguments, no fault) has it - what the operator's fix restores."""
    pristine = twin.host(host)
    with host_state(fleet, host) as state:
        state["faults"] = [f for f in state.get("faults", []) if f.get("kind") != kind]
        if kind == "offline":
            state["reachable"] = True
        elif kind == "disk_small":
            state["disks"] = pristine["disks"]
        elif kind == "port_conflict":
            state["listeners"] = [entry for entry in state["listeners"] if entry in pristine["listeners"]]
        elif kind == "installer_missing":
            for name, entry in pristine["files"].items():
                if name.startswith("C:\\OSCE-Patches\\"):
                    state["files"].setdefault(name, entry)
        elif kind == "installer_tampered":
            for blob in (twin.path / "installers").iterdir():
                shutil.copyfile(blob, fleet.path / "installers" / blob.name)
        elif kind == "old_tmcm":
            state["registry"] = pristine["registry"]
        elif kind == "sps2":
            state["osce"] = pristine["osce"]
    if kind == "sps2":   # the inventory carries the SPS's /sysinfo answer (a Linux appliance: no WinRM)
        fleet.inventory.write_text(twin.inventory.read_text())


def watched_run(fleet: Fleet, when: Callable[[Fleet], bool], then: Callable[[subprocess.Popen], None],
                log: Path) -> tuple[Run, bool]:
    """site.yml in its own session; ``then(proc)`` once, the first time ``when(fleet)`` holds."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    with open(log, "w") as out:
        proc = subprocess.Popen([str(WRAPPER), "ansible-playbook", "-i", str(fleet.inventory), "playbooks/site.yml",
                                 *PLAY_ARGS, "-e", f"osce_run_lock_settle={LAB_LOCK_SETTLE}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        fired = False
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            if not fired and when(fleet):
                then(proc)
                fired = True
            time.sleep(0.05)
        proc.wait(timeout=60)
    return Run(proc.returncode, log.read_text()), fired


def server_reached(build: int) -> Callable[[Fleet], bool]:
    return lambda fleet: fleet.server_build()[1] >= build


def killpg(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)


# ------------------------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    faults: tuple[tuple[str, str, str], ...] = ()   # (host, kind, @ARG) given to make_fleet
    live: tuple[str, str] = ("", "")   # (host, step): unreachable made to fire right after the step's install
    kill: str = ""                     # "batch" / "installer": SIGKILL the controller during the last step's
    preflight: tuple[str, ...] = ()    # refused before any change: the summary names each of these
    rerun_args: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    # what the run with the fault leaves (docs/user-guide.md, "What each fault leaves"): its rc is 0,
    # the server build, the privilege held (marker open), the run lock left, a RebootDebt
    leaves: tuple[bool, int, bool, bool, bool] = (False, 3000, False, False, False)
    # (from, to): the iSPS FRS HTTP port the run moved away from a port another program held; the
    # record moved with it, so the rerun keeps it (moving back would re-point every client's queries)
    port_moved: tuple[int, int] = ()

    @property
    def fleet_args(self) -> tuple[str, ...]:
        out: tuple[str, ...] = ()
        for host, kind, arg in self.faults:
            out += ("--fault", f"{host}:{kind}" + (f"@{arg}" if arg else ""))
        return out + self.extra


def _preflight_case(missing: str, tampered: str, disk_host: str, gate: tuple[str, str, str]) -> Case:
    """Faults preflight refuses share a run: it checks every step of the chain at once and lists
    every problem in one failure, before any host changes (one run, not one per fault)."""
    disk = f"{PC}: drive C: has less free space" if disk_host == PC else f"min_free_mb: drive C: on {SRV} has"
    gate_line = ("sps01: standalone Smart Protection Server version unknown" if gate[1] == "sps2"
                 else "Control Manager")
    return Case(faults=((SRV, "installer_missing", missing), (SRV, "installer_tampered", tampered),
                        (disk_host, "disk_small", ""), gate),
                preflight=(f"osce_installers.{missing}.path", f"osce_installers.{tampered}.sha256", disk, gate_line))


CASES = {
    # installer faults take the step as @ARG; 1603 keeps the steps before it, the privilege goes back
    "exit1603-first": Case(faults=((SRV, "exit1603", FIRST),)),
    "exit1603-last": Case(faults=((SRV, "exit1603", LAST),), leaves=(False, 5495, False, False, False)),
    # 3010 installs, then the server owes a reboot: the chain stops before the next install, or the
    # run fails at its end; the operator's way on is the reboot, which the rerun is allowed to do
    "exit3010-first": Case(faults=((SRV, "exit3010", FIRST),), rerun_args=("-e", "osce_server_reboot=true"),
                           leaves=(False, 4100, False, False, True)),
    "exit3010-last": Case(faults=((SRV, "exit3010", LAST),), rerun_args=("-e", "osce_server_reboot=true"),
                          leaves=(False, 5712, False, False, True)),
    # 1641 holds (the module waits for the restart): without @ARG it fires on the first and the last step
    "exit1641-every-step": Case(faults=((SRV, "exit1641", ""),), leaves=(True, 5712, False, False, False)),
    # installer_missing / installer_tampered on the first and on the last step; the small disks and the
    # SPS 2.x / old Control Manager gates have no step to choose (preflight checks every step at once)
    "preflight-missing-first-tampered-last-disk_small-server-sps2":
        _preflight_case(FIRST, LAST, SRV, ("sps01", "sps2", "")),
    "preflight-missing-last-tampered-first-disk_small-client-old_tmcm":
        _preflight_case(LAST, FIRST, PC, ("tmcm01", "old_tmcm", "")),
    # unreachable@N counts module calls, which polling makes vary from run to run: the test adds the
    # fault while the run goes, right after the step's install (@N = the host's calls so far)
    # (a client that drops fails its batch: privilege held, lock released; a server that drops leaves both)
    **{f"unreachable-{role}-{where}": Case(live=(host, step), leaves=(False, BUILD_AFTER[step], True, host == SRV, False))
       for role, host in (("server", SRV), ("client", PC)) for where, step in (("first", FIRST), ("last", LAST))},
    # an offline client misses the whole run: no step to choose
    "offline-client": Case(faults=((PC, "offline", ""),), leaves=(True, 5712, True, False, False)),
    # the iSPS ports matter only to CP 5712r1, the last step; the lab's server has a calibrated port record
    "port_conflict-last": Case(faults=((SRV, "port_conflict", "8082"),), leaves=(True, 5712, False, False, False),
                               port_moved=(8082, 8083)),
    # the controller killed with SIGKILL (its whole session) in the last step
    "killed-last-batch": Case(kill="batch", leaves=(False, 5712, True, True, False)),
    "killed-last-installer": Case(kill="installer", leaves=(False, 5495, True, True, False)),
}


def _lock(path: Path):
    fh = open(path, "a+")   # noqa: SIM115 - held for the fixture's lifetime
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, request) -> dict:
    """The normalised host states after a clean run of the same fleet shape, computed once for all
    xdist workers (the first one to get here runs it; the others wait for its file)."""
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        root = root.parent
    done = root / "fault-matrix-baseline.json"
    lock = _lock(root / "fault-matrix-baseline.lock")
    try:
        if not done.exists():
            fleet = make_fleet(root / "fault-matrix-clean", *SHAPE)
            original = fleet.privilege_root()
            run = run_playbook(fleet, "playbooks/site.yml", *PLAY_ARGS)
            assert run.rc == 0, run.out[-4000:]
            assert_on_target(fleet, original)
            done.write_text(json.dumps(normalised(fleet)))
        return json.loads(done.read_text())
    finally:
        lock.close()


def assert_on_target(fleet: Fleet, original_privilege: str) -> None:
    assert fleet.server_build() == ("10.6", 5712)
    applied = osce_values(fleet).get("Applied.cp5712r1")
    assert applied and json.loads(applied)["step"] == "cp5712r1"   # the r1 evidence, not only the build
    assert fleet.privilege_root() == original_privilege
    assert not marker_open(fleet)
    assert "RunLock" not in osce_values(fleet)
    assert fleet.client(PC)["build"] == 5712
    assert outside_batches(fleet) == []


def fails_clearly_or_holds(run: Run) -> None:
    assert "Traceback" not in run.out and "AnsibleUndefinedVariable" not in run.out, run.out[-4000:]
    if run.rc != 0:
        failures = [line for line in run.out.splitlines() if "FAILED!" in line or "UNREACHABLE!" in line]
        assert failures, run.out[-4000:]
        assert "Fix:" in run.out, run.out[-4000:]


# Known losses this matrix found and that are not fixed yet (strict: they fail loudly once fixed).
KNOWN: dict[str, str] = {}


def with_port_moved(clean: dict, old: int, new: int) -> dict:
    """A clean run's server as it is when CP 5712r1 had to skip ``old`` (another program held it) and
    sps_ports moved the FRS HTTP port: the CP's ``Listen old`` never written, ``Listen new`` appended
    by sps_ports, and the port record in ofcscan.ini naming ``new``."""
    want = json.loads(json.dumps(clean))
    files = want[SRV]["files"]
    conf = next(name for name in files if name.lower().endswith("\\httpd.conf"))
    ini = next(name for name in files if name.lower().endswith("\\ofcscan.ini"))
    text = files[conf]["content"]
    assert f"Listen {old}\r\n" in text and f"Listen {new}" not in text
    files[conf]["content"] = text.replace(f"Listen {old}\r\n", "").rstrip("\r\n") + f"\r\nListen {new}\r\n"
    assert f"FRS_HTTP_Port={old}" in files[ini]["content"]
    files[ini]["content"] = files[ini]["content"].replace(f"FRS_HTTP_Port={old}", f"FRS_HTTP_Port={new}")
    return want


# One case costs about two site.yml runs; `make test` runs all 15 (about 9 min of its two pytest workers),
# `make fault-matrix` runs only these.


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN[n])) if n in KNOWN
                                  else n for n in CASES])
def test_fault_then_rerun_loses_nothing(name, tmp_path, baseline):
    case = CASES[name]
    fleet = make_fleet(tmp_path / "faulty", *SHAPE, *case.fleet_args)
    twin = make_fleet(tmp_path / "twin", *SHAPE, *case.extra)
    original = fleet.privilege_root()
    before = fleet.snapshot()

    if case.live[0]:
        host, step = case.live

        def drop(_proc):
            with host_state(fleet, host) as state:
                state["faults"].append({"kind": "unreachable", "after": calls(fleet, host)})
        run, fired = watched_run(fleet, server_reached(BUILD_AFTER[step]), drop, tmp_path / "run.log")
        assert fired, run.out[-3000:]
        faults = ((host, "unreachable", ""),)
    elif case.kill:
        if case.kill == "batch":
            def when(f):
                return any(i["name"] == "program 5712" and i["trigger"] == "autopcc" for i in clock_items(f))
        else:
            # the lab's clock jumps over an installer at once (nothing else is busy), so the installer is
            # caught by its task: the kill lands inside patch_chain, before or while win_package runs
            task = f"Step | install on the server | {LAST}]"

            def when(_f):
                return task in (tmp_path / "run.log").read_text(errors="replace")
        run, fired = watched_run(fleet, when, killpg, tmp_path / "run.log")
        assert fired, f"the run ended before the last step's {case.kill} could be interrupted"
        assert run.rc == -signal.SIGKILL
        faults = ()
    else:
        run = run_playbook(fleet, "playbooks/site.yml", *PLAY_ARGS)
        faults = case.faults

    # with the fault: a clear failure or a hold, never a client outside a batch
    assert outside_batches(fleet) == []
    if case.kill:
        # what a dead controller leaves: the lock and the open privilege marker
        assert "RunLock" in osce_values(fleet) and marker_open(fleet)
    else:
        fails_clearly_or_holds(run)
    if case.preflight:
        assert run.rc != 0
        summary = run.out[run.out.index("Preflight found"):]
        assert all(line in summary for line in case.preflight), summary[:4000]
        assert fleet.snapshot() == before   # refused before any change on any host

    left = (run.rc == 0, fleet.server_build()[1], marker_open(fleet), "RunLock" in osce_values(fleet),
            "RebootDebt" in osce_values(fleet))
    # killed in the install task, the server is on CP 5495 or, if win_package had returned, on 5712
    builds = (5495, 5712) if case.kill == "installer" else (case.leaves[1],)
    assert left[1] in builds and left[:1] + left[2:] == case.leaves[:1] + case.leaves[2:], (left, run.out[-4000:])
    assert marker_open(fleet) == (fleet.privilege_root() != original)   # held means: not at its original value
    offline = any(kind == "offline" for _host, kind, _arg in faults)
    if offline:
        assert re.search(r'"offline": \[\s*"' + PC, run.out), run.out[-3000:]   # reported, not failed
    elif not (case.kill or case.live):
        # nobody got a step that failed or was refused; the clients of the steps installed are current
        assert fleet.client(PC)["build"] == left[1], (fleet.client(PC), left)
    for host, kind, _arg in faults:
        clear_fault(fleet, twin, host, kind)
    rerun = run_playbook(fleet, "playbooks/site.yml", *PLAY_ARGS, *case.rerun_args)
    assert rerun.rc == 0, rerun.out[-4000:]
    assert_on_target(fleet, original)

    got = normalised(fleet)
    broken = got[SRV]["registry"].get("HKLM\\SOFTWARE\\osce.patching", {}).get("values", {}).pop("LockBroken", None)
    # a lock left by a dead run is taken over by the rerun, which records the break and says so; no other
    # case breaks one
    assert bool(broken) == case.leaves[3], broken
    if broken:
        assert "stale" in rerun.out.lower() or "is gone" in rerun.out, rerun.out[-3000:]
    want = with_port_moved(baseline, *case.port_moved) if case.port_moved else baseline
    assert differences(got, want) == [], "\n".join(differences(got, want))
