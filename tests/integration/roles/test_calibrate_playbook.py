"""Calibrating the privilege location end to end, exactly as docs/user-guide.md tells an operator:
calibrate.yml snapshot, tick the box in the console (tests/lab/console.py), calibrate.yml compare,
untick it, paste the printed entry into the inventory, and plan.yml passes.

The lab's generated inventory ships the lab's own privilege location as a calibrated override; this
fleet's inventory has it removed, as a real estate starts.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

from labfleet import ROOT, make_fleet, needs_lab, outside_batches, run_playbook

pytestmark = [needs_lab]

CONSOLE = ROOT / "tests" / "lab" / "console.py"
UNKNOWN = 'the location of the upgrade privilege "Clients can update components but not upgrade the client program'


def console(fleet, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(CONSOLE), str(fleet.path), *args], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return proc.stdout


def printed_lines(out: str) -> list[str]:
    """The lines the last debug task printed (a list under "msg")."""
    blocks = re.findall(r'^    "msg": (\[.*?^    \])$', out, re.M | re.S)
    assert blocks, out
    return json.loads(blocks[-1])


def test_calibrate_snapshot_console_compare_paste_then_plan_passes(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 1)
    inventory = yaml.safe_load(fleet.inventory.read_text())
    overrides = inventory["all"]["vars"]["osce_profile_overrides"]
    shipped = overrides.pop("upgrade_privilege_root")
    fleet.inventory.write_text(yaml.safe_dump(inventory, sort_keys=False))

    run = run_playbook(fleet, "playbooks/plan.yml")
    assert run.rc != 0 and UNKNOWN in " ".join(run.out.split()), run.out

    untouched = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/calibrate.yml", "-e", "osce_calibrate_phase=snapshot")
    assert run.rc == 0, run.out
    assert (fleet.path / f"osce-calibrate-{fleet.server}.json").exists()
    assert fleet.snapshot() == untouched  # calibration only reads the server

    assert console(fleet, "privilege", "on").rstrip().endswith("[Global Setting] NoProgramUpgrade: 0 -> 1")
    assert fleet.privilege_root() == "1"
    ticked = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/calibrate.yml", "-e", "osce_calibrate_phase=compare")
    assert run.rc == 0, run.out
    assert fleet.snapshot() == ticked
    lines = printed_lines(run.out)
    assert lines[-1] == f"(also written to {fleet.path}/osce-calibrate-{fleet.server}.yml)"
    printed = yaml.safe_load("\n".join(lines[:-1]))
    assert printed == yaml.safe_load((fleet.path / f"osce-calibrate-{fleet.server}.yml").read_text())
    entry = printed["osce_profile_overrides"]["upgrade_privilege_root"]
    assert {k: entry[k] for k in ("kind", "file", "section", "key")} == \
        {k: shipped[k] for k in ("kind", "file", "section", "key")}
    assert entry["confidence"] == "calibrated" and "(was '0', became '1')" in entry["description"]

    console(fleet, "privilege", "off")  # untick it again in the console
    assert fleet.privilege_root() == "0"

    inventory["all"]["vars"]["osce_profile_overrides"].update(printed["osce_profile_overrides"])
    fleet.inventory.write_text(yaml.safe_dump(inventory, sort_keys=False))
    run = run_playbook(fleet, "playbooks/plan.yml")
    assert run.rc == 0, run.out
    assert UNKNOWN not in " ".join(run.out.split())
    assert outside_batches(fleet) == []
    assert re.search(r'"privilege": "off"', run.out), run.out
