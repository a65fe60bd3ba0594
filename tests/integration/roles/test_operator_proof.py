"""What operators do that the happy path never tries (issue 12), on the smallest fleets that show it.

For every case the lab's transfer ledger is the judge of the rule that outranks the others: no client
downloads outside a planned batch (trigger ``autopcc`` is a batch, ``notify`` is OSCE releasing
clients on its own). Where a failure is knowable before the first change, every host state file is
byte-identical after the run.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

from labfleet import (ROOT, WRAPPER, Fleet, ledger, make_fleet, marker_open, needs_lab, osce_values,
                      outside_batches, run_playbook)

pytestmark = [needs_lab]


def run_lock(fleet: Fleet):
    return osce_values(fleet).get("RunLock")


def test_pilot_holds_the_privilege_then_a_full_run_releases_it(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 3)
    original = fleet.privilege_root()
    reports = tmp_path / "reports"
    env = {"ANSIBLE_CALLBACKS_ENABLED": "osce.patching.rollout_report", "OSCE_REPORT_DIR": str(reports),
           "OSCE_REPORT_RUN_ID": "pilot", "OSCE_REPORT_LEDGER": str(fleet.path)}
    pilot = run_playbook(fleet, "playbooks/site.yml", "--limit", "osce_server:osce_sps:osce_tmcm:pc0001", env=env)
    assert pilot.rc == 0, pilot.out[-4000:]
    assert fleet.client("pc0001")["build"] == 5712
    assert [fleet.client(c)["build"] for c in ("pc0002", "pc0003")] == [5600, 5600]
    # held, said once in the run and in the report, never a burst
    assert "stays on (held)" in pilot.out and "pc0002" in pilot.out
    assert fleet.privilege_root() != original and marker_open(fleet)
    outcome = json.loads((reports / "pilot" / "rollout.json").read_text())["outcome"]
    assert outcome["privilege"] == "held" and set(outcome["held_clients"]) == {"pc0002", "pc0003"}
    assert outside_batches(fleet) == []
    assert run_lock(fleet) is None  # released on the way out

    full = run_playbook(fleet)
    assert full.rc == 0, full.out[-4000:]
    assert all(fleet.client(c)["build"] == 5712 for c in fleet.clients())
    assert fleet.privilege_root() == original and not marker_open(fleet)
    assert outside_batches(fleet) == []
    assert ledger(fleet)["by_trigger"] == {"autopcc": 3}


def test_bad_rollout_variables_fail_before_any_change(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2)
    before = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/site.yml", "-e", "osce_bandwidth_budget_bps=-5",
                       "-e", "osce_bandwith_budget_bps=1")
    assert run.rc != 0
    summary = run.out[run.out.index("Preflight found"):]
    assert "osce_bandwidth_budget_bps: must be a number of bytes per second greater than 0 (got -5)" in summary
    assert "osce_bandwith_budget_bps: is not a variable of osce.patching" in summary
    assert "did you mean osce_bandwidth_budget_bps" in summary
    assert fleet.snapshot() == before

    for serial, problem in (("0", "osce_serial[0]: must be a number of clients or a percentage of at least 1"),
                            ('["100%"]', "osce_serial: leaves no canary")):
        run = run_playbook(fleet, "playbooks/site.yml", "-e", json.dumps({"osce_serial": json.loads(serial)}))
        assert run.rc != 0 and problem in run.out, run.out[-3000:]
        assert "has no len()" not in run.out
        assert fleet.snapshot() == before
    assert outside_batches(fleet) == []


def test_limit_patterns_that_are_not_a_pilot_fail_first_with_the_fix(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2)
    before = fleet.snapshot()
    gates = run_playbook(fleet, "playbooks/site.yml", "--limit", "osce_server,pc0001")
    assert gates.rc != 0
    left_out = re.search(r"--limit: (.*) \(osce_sps / osce_tmcm\) are left out", gates.out)
    assert left_out and sorted(left_out.group(1).split(", ")) == ["sps01", "tmcm01"], gates.out[-3000:]
    assert "standalone Smart Protection Server version unknown" not in gates.out
    no_server = run_playbook(fleet, "playbooks/site.yml", "--limit", "pc0001")
    assert no_server.rc != 0
    assert "--limit: the OSCE server osce-srv is left out" in no_server.out
    assert "AnsibleUndefinedVariable" not in no_server.out and "has no attribute" not in no_server.out
    assert fleet.snapshot() == before


def test_a_canary_that_drops_during_its_upgrade_stops_the_rollout_and_holds(tmp_path):
    # both clients drop after their fourth module call: preflight's read, then the upgrade's read and
    # AutoPcc start; the wait for the new build then finds the canary gone until its timeout
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2, "--fault", "pc0001:unreachable@4",
                       "--fault", "pc0002:unreachable@4")
    original = fleet.privilege_root()
    run = run_playbook(fleet, "playbooks/site.yml", "-e", "osce_client_upgrade_timeout=120")
    assert run.rc != 0
    assert "health gate stopped the rollout of cp5712r1" in run.out, run.out[-4000:]
    assert "pc0001: dropped during its upgrade" in run.out, run.out[-4000:]
    assert fleet.server_build() == ("10.6", 5712)
    # the other client never started; the privilege stays on; the lock is gone
    # (whether the canary's own download began depends on the call its drop lands on; the rule is
    # that the second batch never starts)
    started = [r["host"] for r in ledger(fleet)["records"] if r["kind"] == "package"]
    assert started in ([], ["pc0001"]), started
    assert outside_batches(fleet) == []
    assert fleet.privilege_root() != original and marker_open(fleet)
    assert run_lock(fleet) is None


def test_two_runs_at_once_install_once(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [str(WRAPPER), "ansible-playbook", "-i", str(fleet.inventory), "playbooks/site.yml"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2)
    second = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outs = [p.communicate(timeout=900)[0] for p in (first, second)]
    rcs = sorted(p.returncode for p in (first, second))
    assert rcs[0] == 0 and rcs[1] != 0, outs
    loser = outs[[first.returncode, second.returncode].index(rcs[1])]
    assert "Failed to take the run lock" in loser or "another run took the lock" in loser, loser[-3000:]
    # the server installer ran once, every client is current, nothing downloaded outside a batch
    assert fleet.patch_history().count("OfficeScan 10.6 SP3 Critical Patch 5712") == 1
    assert all(fleet.client(c)["build"] == 5712 for c in fleet.clients())
    assert outside_batches(fleet) == []
    assert run_lock(fleet) is None


def test_a_controller_killed_in_the_last_batch_is_reconciled_by_the_rerun(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2)
    original = fleet.privilege_root()
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [str(WRAPPER), "ansible-playbook", "-i", str(fleet.inventory), "playbooks/site.yml"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        # the installer ran and the client batch started: kill the controller there
        if fleet.server_build() == ("10.6", 5712) and ledger_started(fleet):
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.2)
    proc.wait(timeout=60)
    assert killed, "the run ended before the client batch could be interrupted"
    assert marker_open(fleet) and run_lock(fleet) is not None  # what a dead controller leaves

    rerun = run_playbook(fleet)
    assert rerun.rc == 0, rerun.out[-4000:]
    assert "stale" in rerun.out.lower() or "is gone" in rerun.out  # the dead run's lock, taken over and said so
    assert all(fleet.client(c)["build"] == 5712 for c in fleet.clients())
    assert fleet.privilege_root() == original and not marker_open(fleet)
    assert run_lock(fleet) is None
    assert outside_batches(fleet) == []


def ledger_started(fleet: Fleet) -> bool:
    path = fleet.path / "lab" / "ledger.jsonl"
    return path.exists() and '"autopcc"' in path.read_text()
