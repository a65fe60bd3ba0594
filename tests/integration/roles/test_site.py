"""End-to-end runs of playbooks/site.yml on generated lab fleets (issues 6 and 14).

Every starting level the FAQ names is covered once, each web server kind at least three times;
results are read from the lab's host state files, never from the playbook's own output alone.
Fleets and runs are shared between assertions (make test must fit 30 minutes on 2 cores): the
``--check --diff`` parity of issue 14 and the second run that changes nothing are asserted on the
same fleets as the FAQ levels they start from, each fleet the smallest that shows the behaviour
(two clients: one smart scan, one conventional scan).
"""
from __future__ import annotations

import json
import re

import pytest

from labfleet import Fleet, Run, ledger, make_fleet, marker_open, needs_lab, osce_values, outside_batches, run_playbook

pytestmark = [needs_lab]

FULL = ["sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1"]
CHECK, SECOND = "check first", "second run"
# (starting level, web kind, extra make_fleet args, expected steps in FAQ order, what else the fleet shows)
LEVELS = [
    ("gm", "apache", [], FULL, {CHECK}),
    ("sp1", "iis-virtual", [], FULL, set()),
    ("sp2", "iis-default", [], FULL, set()),
    ("sp3", "apache", [], FULL[1:], {CHECK}),
    ("sp3_patch1", "iis-virtual", [], FULL[2:], set()),
    ("sp3_patch1_1", "iis-default", [], FULL[2:], set()),
    ("sp3_patch2", "apache", [], ["cp5712r1"], {SECOND}),
    # re-applying r1 over an early CP 5712 leaves the same build: the second run must still do nothing
    ("cp5712", "iis-virtual", ["--cp5712-installed-on", "2014-11-20"], ["cp5712r1"], {SECOND}),
    ("cp5712r1", "iis-default", [], [], set()),
    ("osce11", "apache", [], [], set()),
]

PRIVILEGE_ON = "Step | turn the upgrade privilege on"
PRIVILEGE_BACK = "Privilege | put it back to its original value"


def step_names(fleet: Fleet) -> dict[str, str]:
    """Installer step id -> the patch-history section it writes (from the lab's installer files)."""
    out = {}
    for p in (fleet.path / "installers").glob("*.exe"):
        try:
            spec = json.loads(p.read_text())
        except ValueError:
            continue
        out[spec["step"]] = spec["display_name"]
    return out


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


def assert_check_run_is_truthful(fleet: Fleet, check: Run, steps: list[str]) -> None:
    """Issue 14: --check --diff changes no state file, shows every step and its batches, and the
    privilege on and back once per step in its diff; what it cannot know is said."""
    assert check.rc == 0, check.out[-4000:]
    for step in steps:
        assert f"OSCE server step | {step}" in check.out
    assert "in batches" in check.out
    assert privilege_diffs(check.out, PRIVILEGE_ON) == ["off->on"] * len(steps), check.out[-4000:]
    assert privilege_diffs(check.out, PRIVILEGE_BACK) == ["on->off"] * len(steps), check.out[-4000:]
    assert "prediction: assumes the installer exits 0" in check.out


def assert_check_predicted_the_real_run(check: Run, real: Run, steps: list[str]) -> None:
    """The same changed count per host and the same changed tasks, in the same order, as the real run."""
    assert {h: row["changed"] for h, row in check.recap().items()} == \
        {h: row["changed"] for h, row in real.recap().items()}
    assert changed_tasks(check.out) == changed_tasks(real.out)
    assert privilege_diffs(real.out, PRIVILEGE_ON) == ["off->on"] * len(steps)
    assert privilege_diffs(real.out, PRIVILEGE_BACK) == ["on->off"] * len(steps)


@pytest.mark.parametrize(("level", "web", "extra", "steps", "also"), LEVELS,
                         ids=[f"{case[0]}-{case[1]}" for case in LEVELS])
def test_site_from_every_faq_level(tmp_path, level, web, extra, steps, also):
    fleet = make_fleet(tmp_path, level, web, 2, "--conventional-share", "0.5", *extra)
    version_before, build_before = fleet.server_build()
    history_before = fleet.patch_history()
    privilege_before = fleet.privilege_root()

    check = None
    if CHECK in also:
        before = fleet.snapshot()
        check = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff")
        assert fleet.snapshot() == before, "check mode changed a lab state file"
        assert_check_run_is_truthful(fleet, check, steps)

    run = run_playbook(fleet, "playbooks/site.yml", *(("--diff",) if check else ()))
    assert run.rc == 0, run.out[-4000:]
    if check:
        assert_check_predicted_the_real_run(check, run, steps)

    # the server ends on CP 5712r1, or is left alone where nothing is due
    version, build = fleet.server_build()
    if level == "osce11":
        assert (version, build) == (version_before, build_before)
    else:
        assert (version, build) == ("10.6", 5712)
    # the steps ran in FAQ order, and only those
    names = step_names(fleet)
    added = fleet.patch_history()[len(history_before):] if level != "cp5712" else fleet.patch_history()
    expected = [names[s] for s in steps]
    if level == "cp5712":  # the r1 repack rewrites the same section with a new install date
        assert names["cp5712r1"] in added
    else:
        assert added == expected
    # the privilege is back to its original value
    assert fleet.privilege_root() == privilege_before
    # every online smart-scan client is up to date; conventional clients are reported apart
    conventional = []
    for name in fleet.clients():
        c = fleet.client(name)
        if not c["online"]:
            continue
        if level != "osce11":
            assert c["build"] == 5712, (name, c)
        if c["smart"] and level != "osce11":
            assert c["crcz"] and not c["bf"], (name, c)
        if not c["smart"]:
            conventional.append(name)
    assert conventional, "the fleet should hold a conventional-scan client"
    assert "conventional_scan" in run.out

    if SECOND in also:
        history = fleet.patch_history()
        second = run_playbook(fleet)
        assert second.rc == 0, second.out[-4000:]
        assert second.changed_hosts() == {}, second.out[-4000:]
        assert fleet.patch_history() == history  # no installer ran


def test_plan_changes_nothing(tmp_path):
    fleet = make_fleet(tmp_path, "sp3", "apache", 3)
    before = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/plan.yml")
    assert run.rc == 0, run.out[-4000:]
    assert fleet.snapshot() == before
    assert "SP3 Patch 1.1" in run.out
    # what the FAQ says besides the chain, in the preflight summary and the plan (Q11, Q12)
    assert '"faq_notes": [' in run.out and run.out.count("prerequisite of any OSCE hotfix") >= 2


def test_privilege_restored_after_1603_mid_chain(tmp_path):
    fleet = make_fleet(tmp_path, "sp3", "apache", 1, "--fault", "osce-srv:exit1603@cp5495")
    names = step_names(fleet)
    original = fleet.privilege_root()
    run = run_playbook(fleet)
    assert run.rc != 0
    assert "1603" in run.out
    history = fleet.patch_history()
    assert names["sp3_patch1_1"] in history and names["cp5495"] not in history
    assert fleet.privilege_root() == original
    # clients of the step before the failure are current; nobody got the failed step
    for name in fleet.clients():
        assert fleet.client(name)["build"] == 4100


def test_preflight_stops_tampered_installer_sps2_old_tmcm_before_any_change(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "iis-default", 2, "--fault", "osce-srv:installer_tampered@cp5712r1",
                       "--fault", "sps01:sps2", "--fault", "tmcm01:old_tmcm")
    before = fleet.snapshot()
    run = run_playbook(fleet)
    assert run.rc != 0
    assert fleet.snapshot() == before
    summary = run.out[run.out.index("Preflight found"):]
    assert "sha256" in summary.lower()
    assert "sps01" in summary and "Control Manager" in summary
    assert run.out.count("FAILED!") == 1  # one failure, one summary


def test_offline_client_reported_then_picked_up_by_rerun(tmp_path):
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 2, "--offline", "1")
    run = run_playbook(fleet)
    assert run.rc == 0, run.out[-4000:]
    offline = [c for c in fleet.clients() if not fleet.client(c)["online"]]
    assert len(offline) == 1
    assert fleet.client(offline[0])["build"] < 5712
    assert offline[0] in run.out  # reported

    state_file = fleet.path / "hosts" / f"{offline[0]}.json"
    state = json.loads(state_file.read_text())
    state["reachable"] = True
    state["faults"] = [f for f in state.get("faults", []) if f.get("kind") != "offline"]
    state_file.write_text(json.dumps(state))
    rerun = run_playbook(fleet)
    assert rerun.rc == 0, rerun.out[-4000:]
    assert fleet.client(offline[0])["build"] == 5712


def test_r1_over_cp5712_with_no_readable_history_converges(tmp_path):
    """Issue 15: CP 5712 with no patch history reads as the original CP and r1 is re-applied (FAQ Q13).
    The repack keeps build 5712, so its installer's success exit is what proves it: one run converges,
    and later runs change nothing - also when the administrator states `osce_cp5712r1_installed: false`
    (what the CP was before this collection re-applied r1)."""
    fleet = make_fleet(tmp_path, "cp5712", "apache", 1, "--no-patch-history")
    run = run_playbook(fleet)
    assert run.rc == 0, run.out[-4000:]
    assert "whether it is the r1 repack is unknown" in run.out   # the reading is said, not hidden
    assert fleet.patch_history() == [] and fleet.server_build() == ("10.6", 5712)
    record = osce_values(fleet)["Applied.cp5712r1"]
    assert json.loads(record)["step"] == "cp5712r1" and "status" not in json.loads(record)
    for args in ((), ("-e", "osce_cp5712r1_installed=false")):
        again = run_playbook(fleet, "playbooks/site.yml", *args)
        assert again.rc == 0 and again.changed_hosts() == {}, again.out[-4000:]
        assert osce_values(fleet)["Applied.cp5712r1"] == record   # r1 not installed again


def test_check_predicts_the_settling_of_a_messy_estate(tmp_path):
    """Issue 13/14: an estate left by a lost run - an install intent the build proves and a reboot still
    owed - on a server already on CP 5712r1. The real run confirms the intent and fails on the debt; the
    --check run before it must predict both: the same changed count per host and the same failure."""
    fleet = make_fleet(tmp_path, "cp5712r1", "apache", 1)
    path = fleet.path / "hosts" / f"{fleet.server}.json"
    state = json.loads(path.read_text())
    intent = {"step": "cp5712r1", "sha256": "ab" * 32, "run_id": "lost", "status": "installing",
              "started": "2026-12-01T10:00:00Z", "from_build": 5495, "to_build": 5712}
    debt = {"step": "cp5712r1", "exit_code": 3010, "since": "2026-12-01T10:05:00Z", "run_id": "lost"}
    state["registry"]["HKLM\\SOFTWARE\\osce.patching"] = {"values": {
        "Applied.cp5712r1": {"type": "REG_SZ", "value": json.dumps(intent)},
        "RebootDebt": {"type": "REG_SZ", "value": json.dumps(debt)}}}
    path.write_text(json.dumps(state, indent=1, sort_keys=True))

    before = fleet.snapshot()
    check = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff")
    assert fleet.snapshot() == before, "check mode changed a lab state file"
    real = run_playbook(fleet, "playbooks/site.yml", "--diff")
    for run in (check, real):
        assert run.rc != 0 and "needs a reboot" in run.out, run.out[-4000:]
    assert {h: row["changed"] for h, row in check.recap().items()} == \
        {h: row["changed"] for h, row in real.recap().items()}, (check.out[-3000:], real.out[-3000:])
    assert changed_tasks(check.out) == changed_tasks(real.out)
    assert "status" not in json.loads(osce_values(fleet)["Applied.cp5712r1"])   # the real run confirmed it

    # the same debt paid by the opt-in reboot: --check predicts the reboot and the clear that follows it
    check = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff", "-e", "osce_server_reboot=true")
    real = run_playbook(fleet, "playbooks/site.yml", "--diff", "-e", "osce_server_reboot=true")
    assert check.rc == 0 and real.rc == 0, (check.out[-3000:], real.out[-3000:])
    assert changed_tasks(check.out) == changed_tasks(real.out)
    assert any("clear the paid debt" in name for _host, name in changed_tasks(real.out)), real.out[-3000:]
    assert "RebootDebt" not in osce_values(fleet)


def test_clients_behind_a_patched_server_move_only_in_their_batches(tmp_path):
    """The server already on CP 5712r1 (read from its patch history), the privilege off, two clients behind:
    OSCE may give them the build at their next check-in, so the catch-up turns the privilege on before its
    batches; --check predicts the real run (same changed tasks), every download is a batch, the privilege is
    back off after, and the clients verify up to date against CP 5712r1 (the finish re-read keeps the history)."""
    fleet = make_fleet(tmp_path, "cp5712r1", "apache", 2, "--behind", "2")
    check = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff")
    real = run_playbook(fleet, "playbooks/site.yml", "--diff")
    assert check.rc == 0 and real.rc == 0, (check.out[-3000:], real.out[-3000:])
    assert changed_tasks(check.out) == changed_tasks(real.out)
    assert privilege_diffs(real.out, PRIVILEGE_ON) == ["off->on"], real.out[-3000:]
    assert outside_batches(fleet) == [] and len(ledger(fleet)["records"]) == 2
    assert fleet.privilege_root() == "0" and not marker_open(fleet)
    assert all(fleet.client(n)["build"] == 5712 for n in fleet.clients())
    assert '"up_to_date": 2' in real.out


def test_a_held_isps_port_is_named_before_any_change(tmp_path):
    """Issue 15: with 8082 held by another program, no run may end with clients querying a port OSCE's record
    does not name. Without a calibrated port record (the shipped profile) preflight refuses before any change,
    in --check too, with the FAQ's way (choose the port in the CP installer); with one, --check says the port
    and the record move together."""
    fleet = make_fleet(tmp_path / "no-record", "sp3_patch2", "apache", 1, "--port-conflict", "8082",
                       "--no-isps-record")
    before = fleet.snapshot()
    for args in (("--check", "--diff"), ()):
        run = run_playbook(fleet, "playbooks/site.yml", *args)
        assert run.rc != 0 and fleet.snapshot() == before, run.out[-4000:]
        summary = run.out[run.out.index("Preflight found"):]
        assert "port 8082" in summary and "CP 5712r1 installer" in summary, summary[:3000]
    recorded = make_fleet(tmp_path / "record", "sp3_patch2", "apache", 1, "--port-conflict", "8082")
    check = run_playbook(recorded, "playbooks/site.yml", "--check", "--diff")
    assert check.rc == 0, check.out[-4000:]
    assert "would move to 8083 together with OSCE's port record" in check.out
