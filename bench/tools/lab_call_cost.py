"""CPU seconds per lab module call, this tree against an earlier revision, in one invocation.

    .venv/bin/python bench/tools/lab_call_cost.py --before REV [--clients 3] [--rounds 2]

Exports REV with ``git archive`` into a temporary folder (no worktree, nothing checked out here), then,
for each tree, generates the same fleet with that tree's ``make_fleet.py`` (same options and seed) and runs
``playbooks/site.yml`` on it through that tree's ``tests/lab/ansible-lab``; rounds alternate between the
two trees, so machine load falls on both alike. Every module call goes through one extra ``sh`` between
the host launcher and the interpreter (the same for both trees) that appends the
shell's ``times`` to a log (the fleet's ``lab-python`` execs it instead of the interpreter): the
launcher's own CPU (it execs into that sh) plus its children's (the
interpreter, and the old launcher's ``$(...)`` subshells). Prints per tree: module calls, lab CPU per call,
the whole ansible-playbook tree's CPU and the controller's share (tree minus lab). Not run by make bench.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMER = """#!/bin/sh
"{python}" "$@"
rc=$?
times >> "{log}"
exit $rc
"""
FLEET_ARGS = ["--server-level", "sp3_patch2", "--web", "apache", "--x86-share", "0.4", "--conventional-share", "0",
              "--offline", "0", "--sps-version", "none", "--tmcm-version", "none", "--uplink-mbps", "50",
              "--budget-mbps", "50", "--downlink-mbps", "10", "--install-seconds", "120", "--mode", "realtime",
              "--settle", "0.1", "--seed", "2015"]


def seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+)m([\d.]+)s", text)
    return int(m.group(1)) * 60 + float(m.group(2)) if m else 0.0


def lab_cpu(log: Path) -> tuple[int, float]:
    """(calls, CPU seconds) from the timer's ``times`` lines: two lines per call (shell, children)."""
    lines = [line.split() for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    calls = len(lines) // 2
    return calls, sum(seconds(a) + seconds(b) for a, b in lines)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(tree: Path, work: Path, label: str, clients: int) -> dict:
    fleet = work / f"fleet-{label}"
    shutil.rmtree(fleet, ignore_errors=True)
    subprocess.run([sys.executable, str(tree / "tests/lab/make_fleet.py"), "--out", str(fleet),
                    "--clients", str(clients), *FLEET_ARGS], check=True, capture_output=True, cwd=tree)
    log = work / f"{label}.times"
    log.unlink(missing_ok=True)
    timer = work / "timed-python"
    timer.write_text(TIMER.format(python=sys.executable, log=log))
    timer.chmod(0o755)
    launcher = fleet / "lab-python"  # its last line execs the interpreter: exec the timer instead (both trees)
    text = launcher.read_text()
    launcher.write_text(re.sub(r'^exec "\$\{OSCE_LAB_PYTHON:-[^}]*\}"', f'exec "{timer}"', text, flags=re.M))
    if launcher.read_text() == text:
        sys.exit(f"lab_call_cost: no exec line to redirect in {launcher}")
    # a process per module call (no fork server): the timing sh can only see its own children
    env = dict(os.environ, ANSIBLE_FORKS="40", ANSIBLE_NOCOLOR="1", OSCE_LAB_FORKSERVER="0")
    env.pop("OSCE_LAB_CPU_LOG", None)
    cpu0 = children_cpu()
    proc = subprocess.run([str(tree / "tests/lab/ansible-lab"), "ansible-playbook", "-i", str(fleet / "inventory.yml"),
                           "playbooks/site.yml"], cwd=tree, env=env, capture_output=True, text=True, check=False)
    total = children_cpu() - cpu0
    if proc.returncode:
        sys.exit(f"lab_call_cost: site.yml failed in {tree} (rc {proc.returncode}):\n{proc.stdout[-2000:]}")
    calls, lab = lab_cpu(log)
    return {"calls": calls, "lab": lab, "total": total}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git revision to compare with (e.g. the commit before a change)")
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR")
    a = ap.parse_args(argv)
    work = Path(a.keep or tempfile.mkdtemp(prefix="osce-lab-call-cost-"))
    old = work / "before"
    shutil.rmtree(old, ignore_errors=True)
    old.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", a.before], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    (old / ".venv").symlink_to((ROOT / ".venv").resolve())
    sums = {"before": {"calls": 0, "lab": 0.0, "total": 0.0}, "after": {"calls": 0, "lab": 0.0, "total": 0.0}}
    for r in range(a.rounds):
        for label, tree in (("before", old), ("after", ROOT)) if r % 2 == 0 else (("after", ROOT), ("before", old)):
            res = run(tree, work, label, a.clients)
            print(f"# round {r + 1} {label}: {res['calls']} calls, lab {res['lab']:.2f} s, tree {res['total']:.2f} s",
                  flush=True)
            for k in res:
                sums[label][k] += res[k]
    print(f"# {a.clients} clients, {a.rounds} rounds, before = {a.before}; work dir {work}")
    for label, s in sums.items():
        print(f"{label}_lab_cpu_per_call_s: {s['lab'] / max(1, s['calls']):.4f}   ({s['calls']} calls; controller "
              f"{(s['total'] - s['lab']) / a.rounds:.1f} s per run, whole tree {s['total'] / a.rounds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
