"""Check mode is predicted by the same decision (issue 14).

On a fresh estate, ``site.yml --check --diff`` changes no state file and reports, per host, the same
``changed`` count as the real run that follows; its diff shows the privilege turned on and put back
at every step, as the real run does. Smallest fleets that show it: one client, a long chain from SP3
(four steps) and a short one from SP3 Patch 2 (CP 5712r1 only).
"""
from __future__ import annotations

import re

import pytest

from labfleet import make_fleet, needs_lab, run_playbook

pytestmark = [needs_lab]

PRIVILEGE_ON = "Step | turn the upgrade privilege on"
PRIVILEGE_BACK = "Privilege | put it back to its original value"


def tasks(out: str) -> list[tuple[str, str]]:
    """(task name, its output) in run order."""
    parts = re.split(r"^(?:TASK|RUNNING HANDLER) \[(.*?)\] \**\s*$", out, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


def changed_tasks(out: str) -> list[tuple[str, str]]:
    """(host, task name) of every task result reported changed, in run order."""
    return [(host, name) for name, text in tasks(out) for host in re.findall(r"^changed: \[([^\]]+)\]", text, re.M)]


def privilege_diffs(out: str, task: str) -> list[str]:
    """``before->after`` of the root privilege for each changed run of ``task``, read from its --diff."""
    found = []
    for name, text in tasks(out):
        if task in name and re.search(r"^changed: ", text, re.M):
            moved = re.search(r'"privilege": \{\n-\s*"root": "(\w+)"\n\+\s*"root": "(\w+)"', text)
            found.append(f"{moved.group(1)}->{moved.group(2)}" if moved else "?")
    return found


@pytest.mark.parametrize(("level", "steps"), [("sp3", 4), ("sp3_patch2", 1)], ids=["long-from-sp3", "short-cp5712r1"])
def test_check_run_predicts_the_real_run(tmp_path, level, steps):
    fleet = make_fleet(tmp_path, level, "apache", 1)
    before = fleet.snapshot()

    check = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff")
    assert check.rc == 0, check.out[-4000:]
    assert fleet.snapshot() == before, "check mode changed a lab state file"
    # truthful: the privilege goes on and comes back once per step, in the diff
    assert privilege_diffs(check.out, PRIVILEGE_ON) == ["off->on"] * steps, check.out[-4000:]
    assert privilege_diffs(check.out, PRIVILEGE_BACK) == ["on->off"] * steps, check.out[-4000:]
    # what cannot be predicted is said
    assert "prediction: assumes the installer exits 0" in check.out

    real = run_playbook(fleet, "playbooks/site.yml", "--diff")
    assert real.rc == 0, real.out[-4000:]
    assert fleet.server_build() == ("10.6", 5712)

    counts = {host: row["changed"] for host, row in check.recap().items()}
    assert counts == {host: row["changed"] for host, row in real.recap().items()}
    # the same tasks, not only the same counts
    assert changed_tasks(check.out) == changed_tasks(real.out)
    assert privilege_diffs(real.out, PRIVILEGE_ON) == ["off->on"] * steps
    assert privilege_diffs(real.out, PRIVILEGE_BACK) == ["on->off"] * steps
