"""run_lock and playbooks/unlock.yml against a lab OSCE server.

The lab's host state file is the independent reader: the lock is the JSON REG_SZ value ``RunLock``
under ``HKLM\\SOFTWARE\\osce.patching`` on the server.
"""
from __future__ import annotations

import json
import socket

from modkit import ROOT, collect, failed

SRV = "osce-srv"
KEY = "hklm\\software\\osce.patching"

TAKE = """
- name: Take the run lock
  osce.patching.run_lock:
    run_id: run-one
    settle: 0.2
  register: first
- name: A second run cannot take it
  osce.patching.run_lock:
    run_id: run-two
    settle: 0.2
  register: second
  ignore_errors: true  # the failure is what this test reads
- name: What the recorded pid is, on this controller
  ansible.builtin.set_fact:
    holder_cmdline: "{{ lookup('ansible.builtin.pipe', 'ps -o args= -p ' ~ first.lock.pid) }}"
""" + collect("first", "second", "holder_cmdline")

TAKE_OVER = """
- name: The first run is gone; a new run on the same controller takes its stale lock
  osce.patching.run_lock:
    run_id: run-three
    settle: 0
  register: third
- name: Release it
  osce.patching.run_lock:
    state: absent
    run_id: run-three
  register: released
""" + collect("third", "released")


def values(fleet) -> dict:
    for key, entry in fleet.state(SRV)["registry"].items():
        if key.lower() == KEY:
            return {n: json.loads(v["value"]) for n, v in entry["values"].items()}
    return {}


def test_run_lock_take_conflict_stale_release_and_unlock(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1")

    run = fleet.play("osce_server", TAKE)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    assert r["first"]["changed"] and r["first"]["held_by_us"], r["first"]
    lock = r["first"]["lock"]
    assert lock["run_id"] == "run-one" and lock["controller"] == socket.gethostname() and lock["started"].endswith("Z")
    # the pid is the ansible-playbook process of that run (the worker's parent), alive while the run is
    assert "ansible-playbook" in r["holder_cmdline"], r["holder_cmdline"]
    assert failed(r["second"])
    assert r["second"]["msg"] == (
        f"Failed to take the run lock on {SRV}: run run-one from {lock['controller']} by {lock['user']} (pid {lock['pid']}) "
        f"holds it since {lock['started']}. Fix: wait for that run to end; if it is dead, run playbooks/unlock.yml "
        "-e osce_break_lock=run-one.")
    assert values(fleet)["RunLock"] == lock  # the loser wrote nothing

    # that ansible-playbook has exited: its lock is stale on this controller
    run = fleet.play("osce_server", TAKE_OVER)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    assert r["third"]["changed"] and r["third"]["stale"] and r["third"]["held_by_us"]
    assert r["third"]["broken"]["run_id"] == "run-one" and "is gone" in r["third"]["broken"]["reason"]
    assert r["released"]["changed"] and r["released"]["lock"] is None
    state = values(fleet)
    assert "RunLock" not in state and state["LockBroken"]["by_run"] == "run-three"

    # a lock of a run on another controller: unlock.yml breaks it on purpose (check mode first)
    dead = {"run_id": "run-far", "controller": "ctl-far", "user": "bob", "pid": 1, "started": "2026-12-02T10:00:00Z"}
    srv = fleet.state(SRV)
    for key, entry in srv["registry"].items():
        if key.lower() == KEY:
            entry["values"]["RunLock"] = {"type": "REG_SZ", "value": json.dumps(dead)}
    fleet.write_state(SRV, srv)
    unlock = f"- ansible.builtin.import_playbook: {ROOT}/playbooks/unlock.yml\n"
    before = fleet.fingerprint()
    run = fleet.playbook(unlock, check=True, extra=["-e", "osce_break_lock=run-far"])
    assert run.rc == 0, run.stdout
    assert fleet.fingerprint() == before
    run = fleet.playbook(unlock, extra=["-e", "osce_break_lock=run-far"])
    assert run.rc == 0, run.stdout
    state = values(fleet)
    assert "RunLock" not in state and state["LockBroken"]["run_id"] == "run-far"
    assert state["LockBroken"]["reason"].startswith("broken on purpose by ")
    run = fleet.playbook(unlock)
    assert run.rc != 0 and "Fix: run playbooks/unlock.yml -e osce_break_lock=RUN_ID" in run.stdout
