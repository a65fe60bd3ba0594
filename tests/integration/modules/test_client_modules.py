"""client_upgrade and pattern_verify against lab clients of a patched server (with its facts)."""
from __future__ import annotations

import json

from modkit import collect

PLAYBOOK = """
- name: Server facts and iSPS ports
  hosts: osce_server
  gather_facts: false
  tasks:
    - osce.patching.build_facts:
        gather_subset: [patch_history, client_program]
    - osce.patching.sps_ports:
      register: isps

- name: Clients
  hosts: osce_clients
  gather_facts: false
  vars:
    server: "{{ groups.osce_server[0] }}"
    server_facts: "{{ hostvars[server].ansible_facts.osce_server }}"
  tasks:
    - name: Verdict before
      osce.patching.pattern_verify:
        server_facts: "{{ server_facts }}"
        fail_on: []
      register: before
    - name: Take the server's program build
      osce.patching.client_upgrade:
        server: "{{ server }}"
        server_facts: "{{ server_facts }}"
        timeout: 120
        poll_interval: 1
      register: upgrade
    - name: Verdict after, proving the iSPS answers from the client
      osce.patching.pattern_verify:
        server_facts: "{{ server_facts }}"
        sps_endpoints: "{{ hostvars[server].isps.endpoints }}"
        fail_on: [program_behind, crcz_missing, bf_in_use]
      register: after
      ignore_errors: true
""" + "\n".join("    " + line for line in collect("before", "upgrade", "after", "server_facts").splitlines()) + "\n"


def test_client_flow(make_fleet):
    fleet = make_fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "3", "--behind", "1",
                       "--conventional-share", "0.34", "--offline", "1", "--x86-share", "0.5", "--seed", "3")
    clients = sorted(h for h in (fleet.path / "hosts").glob("pc*.json"))
    names = [p.stem for p in clients]
    before = fleet.fingerprint()
    run = fleet.playbook(PLAYBOOK, check=True)
    assert fleet.fingerprint() == before, run.stdout

    run = fleet.playbook(PLAYBOOK)
    online = [n for n in names if not run.results[n].get("unreachable")]
    offline = [n for n in names if run.results[n].get("unreachable")]
    assert len(offline) == 1 and len(online) == 2, run.stdout
    # UNREACHABLE, not FAILED: ansible-core checks `failed` first, so an offline client must not carry it
    assert not any(run.results[n].get("failed") for n in offline), run.results
    upgraded = 0
    for host in online:
        r = run.results[host]["msg"]
        assert r["before"]["verdict"] in ("up_to_date", "program_behind", "conventional_scan", "crcz_missing"), r["before"]
        assert r["before"]["round_trips"]["round_trips"] <= (2 if r["before"]["evidence"]["arch"] == "x64" else 3)
        if r["before"]["evidence"]["program_current"] is False:
            upgraded += 1
            assert r["upgrade"]["changed"] and r["upgrade"]["build"] == r["upgrade"]["expected_build"]
            assert r["upgrade"]["bytes_expected"] > 0 and r["upgrade"]["reboot_required"] is True
        else:
            assert not r["upgrade"]["changed"] and r["upgrade"]["bytes_expected"] == 0
            assert r["upgrade"]["reboot_required"] is False
        assert r["after"]["verdict"] in ("up_to_date", "conventional_scan"), r["after"]
        assert all(e["reachable"] for e in r["after"]["reachability"])
    assert upgraded >= 1

    # second run of the upgrade, with the server facts the first run gathered
    facts = fleet.path / "facts.json"
    facts.write_text(json.dumps({"server_facts": run.results[online[0]]["msg"]["server_facts"]}))
    run = fleet.play("osce_clients", """
- osce.patching.client_upgrade:
    server: osce-srv
    server_facts: "{{ server_facts }}"
""", extra=["-e", f"@{facts}"])
    for host in online:
        assert run.results[host]["changed"] is False and run.results[host]["bytes_expected"] == 0
