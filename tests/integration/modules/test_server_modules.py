"""build_facts, upgrade_privilege, patch_chain, sps_ports and calibrate against a lab OSCE server.

Each play mirrors the modules' EXAMPLES; results come from registered variables collected in the
play's last task. Check-mode plays must leave every lab host state file byte-identical.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from modkit import collect, failed


SRV = "osce-srv"


CHECKED = """
- name: Detect the OSCE server build and plan the chain
  osce.patching.build_facts:
  register: bf
- name: Clients may update components but not the program while the server is patched
  osce.patching.upgrade_privilege:
    state: 'on'
  register: up
- name: Apply the chain
  osce.patching.patch_chain:
  register: pc
- name: Ensure the iSPS ports
  osce.patching.sps_ports:
  register: sp
""" + collect("bf", "up", "pc", "sp")


PATCH = """
- osce.patching.upgrade_privilege:
    state: 'on'
  register: up_on
- osce.patching.patch_chain:
  register: pc
- osce.patching.sps_ports:
  register: sp
- osce.patching.build_facts:
    gather_subset: [all]
  register: bf
- osce.patching.upgrade_privilege:
    state: restored
  register: up_restored
""" + collect("up_on", "pc", "sp", "bf", "up_restored")


RERUN = """
- osce.patching.patch_chain:
  register: pc
- osce.patching.sps_ports:
  register: sp
- osce.patching.upgrade_privilege:
    state: restored
  register: up_restored
- osce.patching.upgrade_privilege:
    state: 'off'
  register: up_off
""" + collect("pc", "sp", "up_restored", "up_off")


def test_server_flow_check_apply_rerun(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch1_1", "--web", "apache", "--clients", "1", "--port-conflict", "8082")
    before = fleet.fingerprint()

    # check mode: truthful prediction, nothing touched
    run = fleet.play("osce_server", CHECKED, check=True)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    assert fleet.fingerprint() == before
    facts = r["bf"]["ansible_facts"]["osce_server"]
    assert facts["level"] == "sp3_patch1_1" and r["bf"]["round_trips"]["round_trips"] == 3
    assert [s["id"] for s in facts["chain"]["steps"]] == ["cp5495", "sp3_patch2", "cp5712r1"]
    assert r["up"]["changed"] and r["up"]["privilege"] == {"root": "on"}
    assert [s["status"] for s in r["pc"]["steps"]] == ["would_apply"] * 3
    assert all(len(s["installer"]["sha256"]) == 64 for s in r["pc"]["steps"])
    assert r["sp"]["changed"] and r["sp"]["ports"]["frs_http"] == 8083

    # apply
    run = fleet.play("osce_server", PATCH)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    assert r["pc"]["level"] == "cp5712r1" and [s["status"] for s in r["pc"]["steps"]] == ["applied"] * 3
    assert r["sp"]["ports"] == {"frs_http": 8083, "frs_https": 4345, "wrs_http": 5274}
    assert r["sp"]["decisions"]["frs_http"]["action"] == "move"
    facts = r["bf"]["ansible_facts"]["osce_server"]
    assert facts["level"] == "cp5712r1" and facts["cp_installed"] and facts["client_program"]["build"] == 5712
    assert facts["web_server"]["kind"] == "apache"
    assert r["up_restored"]["privilege"] == {"root": "off"}
    state = fleet.state(SRV)
    ini = next(v["content"] for k, v in state["files"].items() if k.lower().endswith("\\pccsrv\\ofcscan.ini"))
    assert "FRS_HTTP_Port=8083" in ini and "NoProgramUpgrade=0" in ini

    # second run: nothing to do, no installer call
    run = fleet.play("osce_server", RERUN)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    assert [r[k]["changed"] for k in ("pc", "sp", "up_off")] == [False, False, False], r
    assert "ansible.windows.win_package" not in r["pc"]["round_trips"]["per_module"]
    assert not r["up_restored"]["changed"], r["up_restored"]   # the marker was removed by the first run


FAULTS = {
    "exit1603@cp5712r1": lambda r: failed(r) and r["rc"] == 1603 and "exited 1603" in r["msg"] and r["log_path"],
    "exit3010@cp5712r1": lambda r: not failed(r) and r["reboot_required"] and r["level"] == "cp5712r1",
    # the installer restarted the server: waited out, no reboot still owed
    "exit1641@cp5712r1": lambda r: not failed(r) and not r["reboot_required"] and r["steps"][0]["rebooted"],
    "installer_missing@cp5712r1": lambda r: failed(r) and "installer not found" in r["msg"] and not r["changed"],
    "installer_tampered@cp5712r1": lambda r: failed(r) and "osce_installers.cp5712r1.sha256" in r["msg"]
    and not r["changed"],
    "disk_small": lambda r: failed(r) and "min_free_mb" in r["msg"] and not r["changed"],
    "unreachable": lambda r: r.get("unreachable"),
}


def test_patch_chain_fault_kinds(make_fleet):
    fleets = {f: make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1",
                            "--fault", f"{SRV}:{f}", name=f.split("@")[0]) for f in FAULTS}
    before = {f: fl.fingerprint() for f, fl in fleets.items()}

    def go(fault):
        return fault, fleets[fault].play("osce_server", "- osce.patching.patch_chain:\n    reboot_poll_interval: 1\n")

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = dict(pool.map(go, FAULTS))
    for fault, run in runs.items():
        res = run.results[SRV]
        assert FAULTS[fault](res), (fault, res)
        assert "\n" not in res.get("msg", "")
        if fault.startswith(("installer_", "disk_")):
            assert fleets[fault].fingerprint() == before[fault], fault


def test_calibrate_snapshot_compare(make_fleet, tmp_path):
    fleet = make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1")
    snap = tmp_path / "before.json"
    run = fleet.play("osce_server", f"- osce.patching.calibrate:\n    mode: snapshot\n    path: {snap}\n")
    assert run.rc == 0 and snap.exists(), run.stdout
    # the operator flips the privilege in the console (the lab keeps it in ofcscan.ini)
    state = fleet.state(SRV)
    key = next(k for k in state["files"] if k.lower().endswith("\\pccsrv\\ofcscan.ini"))
    state["files"][key]["content"] = state["files"][key]["content"].replace("NoProgramUpgrade=0", "NoProgramUpgrade=1")
    fleet.write_state(SRV, state)
    before = fleet.fingerprint()
    run = fleet.play("osce_server", f"- osce.patching.calibrate:\n    mode: compare\n    path: {snap}\n", check=True)
    res = run.results[SRV]
    assert run.rc == 0, run.stdout
    assert fleet.fingerprint() == before
    assert res["profile_overrides"]["upgrade_privilege_root"]["key"] == "NoProgramUpgrade"
    assert "osce_profile_overrides:" in res["snippet"]


GATES = """
- osce.patching.build_facts:
    sps_versions: "{{ {'sps01': hostvars.sps01.osce_sps_sysinfo.TMCSSVersion | default(none)} }}"
    tmcm_version: 5.5 SP1
  register: bf
- osce.patching.patch_chain:
    sps_versions: "{{ {'sps01': hostvars.sps01.osce_sps_sysinfo.TMCSSVersion | default(none)} }}"
    tmcm_version: 5.5 SP1
  register: pc
  ignore_errors: true
""" + collect("bf", "pc")


def test_gates_sps2_and_old_tmcm(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1",
                       "--fault", "sps01:sps2", "--fault", "tmcm01:old_tmcm")
    before = fleet.fingerprint()
    r = fleet.play("osce_server", GATES).results[SRV]["msg"]
    chain = r["bf"]["ansible_facts"]["osce_server"]["chain"]
    assert any("Control Manager 5.5 SP1" in b for b in chain["blockers"]), chain
    assert any("sps01" in w and "possibly 2.x" in w for w in chain["warnings"]), chain
    assert r["pc"]["failed"] and "cannot patch" in r["pc"]["msg"] and not r["pc"]["changed"]
    assert fleet.fingerprint() == before


def test_upgrade_privilege_domain_scope(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1")
    run = fleet.play("osce_server", """
- osce.patching.upgrade_privilege:
    state: 'on'
    scope: domain
    targets: [Domain1]
  register: first
- osce.patching.upgrade_privilege:
    state: 'on'
    scope: domain
    targets: [Domain1]
  register: again
""" + collect("first", "again"))
    r = run.results[SRV]["msg"]
    assert r["first"]["changed"] and r["first"]["privilege"] == {"domain:Domain1": "on"} and not r["again"]["changed"]
    state = fleet.state(SRV)
    ini = next(v["content"] for k, v in state["files"].items() if k.lower().endswith("\\pccsrv\\ofcscan.ini"))
    assert "[Client Privilege]\r\ndomain:Domain1=1" in ini
