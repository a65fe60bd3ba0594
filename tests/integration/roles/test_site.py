"""End-to-end runs of playbooks/site.yml on generated lab fleets (issue 6).

Every starting level the FAQ names is covered once, each web server kind at least three times;
results are read from the lab's host state files, never from the playbook's own output alone.
"""
from __future__ import annotations

import json

import pytest

from labfleet import Fleet, make_fleet, needs_lab, run_playbook

pytestmark = [needs_lab]

FULL = ["sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1"]
# (starting level, web kind, extra make_fleet args, expected steps in FAQ order)
LEVELS = [
    ("gm", "apache", [], FULL),
    ("sp1", "iis-virtual", [], FULL),
    ("sp2", "iis-default", [], FULL),
    ("sp3", "apache", [], FULL[1:]),
    ("sp3_patch1", "iis-virtual", [], FULL[2:]),
    ("sp3_patch1_1", "iis-default", [], FULL[2:]),
    ("sp3_patch2", "apache", [], ["cp5712r1"]),
    ("cp5712", "iis-virtual", ["--cp5712-installed-on", "2014-11-20"], ["cp5712r1"]),
    ("cp5712r1", "iis-default", [], []),
    ("osce11", "apache", [], []),
]


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


@pytest.mark.parametrize(("level", "web", "extra", "steps"), LEVELS, ids=[f"{case[0]}-{case[1]}" for case in LEVELS])
def test_site_from_every_faq_level(tmp_path, level, web, extra, steps):
    fleet = make_fleet(tmp_path, level, web, 3, "--conventional-share", "0.34", *extra)
    version_before, build_before = fleet.server_build()
    history_before = fleet.patch_history()
    privilege_before = fleet.privilege_root()

    run = run_playbook(fleet)
    assert run.rc == 0, run.out[-4000:]

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


# one-step chains: the second run is what is measured, and full chains run above already
@pytest.mark.parametrize(("level", "web"), [("sp3_patch2", "iis-default"), ("cp5495", "apache")])
def test_second_run_changes_nothing(tmp_path, level, web):
    fleet = make_fleet(tmp_path, level, web, 3)
    first = run_playbook(fleet)
    assert first.rc == 0, first.out[-4000:]
    history = fleet.patch_history()

    second = run_playbook(fleet)
    assert second.rc == 0, second.out[-4000:]
    assert second.changed_hosts() == {}, second.out[-4000:]
    assert fleet.patch_history() == history  # no installer ran


def test_check_diff_changes_no_state_file_and_shows_chain_and_batches(tmp_path):
    fleet = make_fleet(tmp_path, "gm", "iis-virtual", 4)
    before = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/site.yml", "--check", "--diff")
    assert run.rc == 0, run.out[-4000:]
    assert fleet.snapshot() == before
    for step in FULL:
        assert f"OSCE server step | {step}" in run.out
    assert "in batches" in run.out


def test_plan_changes_nothing(tmp_path):
    fleet = make_fleet(tmp_path, "sp3", "apache", 3)
    before = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/plan.yml")
    assert run.rc == 0, run.out[-4000:]
    assert fleet.snapshot() == before
    assert "SP3 Patch 1.1" in run.out


def test_privilege_restored_after_1603_mid_chain(tmp_path):
    fleet = make_fleet(tmp_path, "sp3", "apache", 3, "--fault", "osce-srv:exit1603@cp5495")
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
