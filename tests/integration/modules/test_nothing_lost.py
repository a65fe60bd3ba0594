"""Issue 13 "Nothing lost" against the lab: every preflight problem at once, reboots as facts of the
server (3010 debt paid by a real reboot, 1641 waited out), a canary that stalls under the privilege,
a client's small disk. Three playbook runs in all (each ~1 minute of CPU): keep it that way.
"""
from __future__ import annotations

import json
import textwrap

from modkit import collect, failed

SRV = "osce-srv"
STATE_KEY = "HKLM\\SOFTWARE\\osce.patching"


def test_preflight_reports_every_installer_problem(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch1_1", "--web", "apache", "--clients", "1",
                       "--fault", "osce-srv:installer_tampered@cp5495", "--fault", "osce-srv:installer_missing@cp5712r1")
    before = fleet.fingerprint()
    run = fleet.play("osce_server", """
- name: Preflight of the whole chain
  osce.patching.patch_chain:
    step: all
  ignore_errors: true
  register: pc
""" + collect("pc"), check=True)
    assert run.rc == 0, run.stdout
    pc = run.results[SRV]["msg"]["pc"]
    assert failed(pc) and "\n" not in pc["msg"]
    assert [p["field"] for p in pc["problems"]] == ["osce_installers.cp5495.sha256", "osce_installers.cp5712r1.path"]
    assert "2 problems, nothing was changed" in pc["msg"]
    assert pc["reboot_pending"] == {"pending": False, "signals": []}
    assert fleet.fingerprint() == before


REBOOTS = """
- name: Patch 2 exits 3010
  osce.patching.patch_chain:
    run_id: run-13
    reboot_poll_interval: 1
  register: first
- name: Not rebooted yet
  osce.patching.patch_chain:
    run_id: run-13
  ignore_errors: true
  register: blocked
- name: The opt-in reboot
  ansible.windows.win_reboot:
- name: Debt paid; CP 5712r1 exits 1641 and restarts the server itself
  osce.patching.patch_chain:
    run_id: run-13
    reboot_poll_interval: 1
  register: second
- name: Rerun
  osce.patching.patch_chain:
    run_id: run-13
  register: third
""" + collect("first", "blocked", "second", "third")


def test_reboots_are_facts_of_the_server(make_fleet):
    fleet = make_fleet("--server-level", "cp5495", "--web", "apache", "--clients", "1",
                       "--fault", "osce-srv:exit3010@sp3_patch2", "--fault", "osce-srv:exit1641@cp5712r1")
    boots = fleet.state(SRV)["boot_count"]
    run = fleet.play("osce_server", REBOOTS)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    first, blocked, second, third = r["first"], r["blocked"], r["second"], r["third"]
    assert not failed(first), first["msg"]
    assert first["reboot_required"] is True and [s["status"] for s in first["steps"]] == ["pending_reboot"]
    assert first["remaining"] == ["cp5712r1"]

    assert failed(blocked) and blocked["msg"].endswith("Fix: reboot the server, or set osce_server_reboot: true.")
    entries = [s["entry"] for s in blocked["reboot_pending"]["signals"]]
    assert entries == ["reboot_pending_cbs", "reboot_pending_file_rename", "collection_state"]
    assert blocked["round_trips"]["per_module"].get("ansible.windows.win_package", 0) == 0

    assert not failed(second), second["msg"]
    assert second["reboot_debt_cleared"] is True and second["level"] == "cp5712r1"
    step = second["steps"][0]
    assert step["id"] == "cp5712r1" and step["rc"] == 1641 and step["rebooted"] is True
    assert step["reboot_required"] is False and second["reboot_required"] is False
    assert third["changed"] is False

    srv = fleet.state(SRV)
    assert srv["boot_count"] == boots + 2          # win_reboot + the installer's own restart, nothing more
    values = srv["registry"][STATE_KEY]["values"]
    assert "RebootDebt" not in values
    applied = {n: json.loads(v["value"]) for n, v in values.items() if n.startswith("Applied.")}
    assert sorted(applied) == ["Applied.cp5712r1", "Applied.sp3_patch2"]
    assert all(a["run_id"] == "run-13" and a["installed"].endswith("Z") and len(a["sha256"]) == 64
               for a in applied.values())


def test_canary_stalls_under_the_privilege_and_small_client_disk(make_fleet):
    fleet = make_fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "2", "--behind", "2",
                       "--x86-share", "0", "--conventional-share", "0", "--privilege", "on",
                       "--autopcc-respects-privilege", "--fault", "pc0001:disk_small")
    run = fleet.playbook("""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: Server facts
      osce.patching.build_facts:
        gather_subset: [client_program]
- hosts: pc0001
  gather_facts: false
  tasks:
    - name: Free space before the upgrade
      osce.patching.pattern_verify:
        server_facts: "{{ hostvars['osce-srv'].ansible_facts.osce_server }}"
        fail_on: []
        min_free_bytes: 300000000
      register: pv
    - name: Canary
      osce.patching.client_upgrade:
        server: osce-srv
        server_facts: "{{ hostvars['osce-srv'].ansible_facts.osce_server }}"
        poll_interval: 1
        stall_timeout: 3
      ignore_errors: true
      register: cu
""" + textwrap.indent(collect("pv", "cu"), "    "))
    assert run.rc == 0, run.stdout
    r = run.results["pc0001"]["msg"]
    disk = r["pv"]["disk"]
    assert disk["drive"] == "C" and disk["free_bytes"] == 100_000_000 and disk["ok"] is False
    assert disk["problem"].startswith("min_free_bytes: drive C: on pc0001 has 100000000 bytes free")
    cu = r["cu"]
    assert failed(cu) and cu["stalled"] is True and cu["dropped"] is False and cu["changed"] is True
    assert "whether AutoPcc upgrades a client while the privilege" in cu["msg"] and "is unknown" in cu["msg"]
    assert "stall_timeout (3 s)" in cu["msg"]
